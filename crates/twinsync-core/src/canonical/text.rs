//! Text normalisation for markdown and code: no BOM, LF line ends, optionally no
//! trailing blanks. The hash streams the normalised bytes into SHA-256 piece by
//! piece, so it never allocates.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::digest::Digest;

/// Options for normalising text before hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TextOptions {
    /// Also strip spaces and tabs at the end of every line.
    pub trim_trailing_whitespace: bool,
}

/// Feeds the normalised form of `s` to `emit`, in pieces.
fn for_each_piece<'a>(s: &'a str, opts: &TextOptions, mut emit: impl FnMut(&'a [u8])) {
    let b = s.strip_prefix('\u{feff}').unwrap_or(s).as_bytes();
    let trim = opts.trim_trailing_whitespace;
    if !trim {
        // Only a CR needs work (an LF stays attached to its line), so the text goes out
        // in runs between CRs, found by memchr: LF-only text is one piece, at memory
        // speed rather than a branch per byte (which cost more than the SHA-256 did).
        let mut start = 0;
        for i in memchr::memchr_iter(b'\r', b) {
            emit(&b[start..i]);
            emit(b"\n");
            start = if b.get(i + 1) == Some(&b'\n') { i + 2 } else { i + 1 };
        }
        emit(&b[start..]);
        return;
    }
    let mut start = 0;
    let mut i = 0;
    let line_end = |start: usize, end: usize| -> usize {
        if !trim {
            return end;
        }
        let mut e = end;
        while e > start && matches!(b[e - 1], b' ' | b'\t') {
            e -= 1;
        }
        e
    };
    while i < b.len() {
        let c = b[i];
        if c == b'\n' || c == b'\r' {
            let end = line_end(start, i);
            if c == b'\n' && end == i {
                // The common case: the LF can stay attached to its line.
                i += 1;
                continue;
            }
            emit(&b[start..end]);
            emit(b"\n");
            i += if c == b'\r' && b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            start = i;
        } else {
            i += 1;
        }
    }
    let end = line_end(start, b.len());
    emit(&b[start..end]);
}

/// Normalised text: no BOM, CRLF and CR turned into LF, optionally no trailing blanks.
///
/// Borrows when nothing but a BOM has to go.
pub fn normalize_text<'a>(s: &'a str, opts: &TextOptions) -> Cow<'a, str> {
    let mut first: Option<&'a [u8]> = None;
    let mut owned: Option<Vec<u8>> = None;
    for_each_piece(s, opts, |piece| match (&mut owned, first) {
        (Some(o), _) => o.extend_from_slice(piece),
        (None, None) => first = Some(piece),
        (None, Some(f)) => {
            let mut o = Vec::with_capacity(s.len());
            o.extend_from_slice(f);
            o.extend_from_slice(piece);
            owned = Some(o);
        }
    });
    match (owned, first) {
        (Some(o), _) => Cow::Owned(String::from_utf8(o).expect("only ASCII bytes were removed or added")),
        (None, Some(f)) => Cow::Borrowed(std::str::from_utf8(f).expect("a piece ends on an ASCII byte")),
        (None, None) => Cow::Borrowed(""),
    }
}

/// True when normalising `s` changes nothing, so its digest is also the digest of its
/// bytes: no BOM, no CR and, when trimming, no trailing blanks. One memchr pass, so a
/// scan learns the bytes digest of most text without hashing it twice.
pub fn is_normal_text(s: &str, opts: &TextOptions) -> bool {
    if s.starts_with('\u{feff}') || memchr::memchr(b'\r', s.as_bytes()).is_some() {
        return false;
    }
    if !opts.trim_trailing_whitespace {
        return true;
    }
    // Without CRs, normalising can only drop bytes: the same length is the same text.
    let mut len = 0;
    for_each_piece(s, opts, |piece| len += piece.len());
    len == s.len()
}

/// Digest of normalised text, hashed without building the normalised copy.
pub fn hash_text(s: &str, opts: &TextOptions) -> Digest {
    let mut h = Sha256::new();
    for_each_piece(s, opts, |piece| h.update(piece));
    Digest::from_hasher(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The CR runs and the hash agree with the plain definition: BOM off, CRLF then
        /// CR to LF; on text made mostly of the characters that matter.
        #[test]
        fn line_ends_normalise_as_defined(s in "\u{feff}?[a\r\n \t\u{e9}]{0,40}") {
            let expected = s.strip_prefix('\u{feff}').unwrap_or(&s).replace("\r\n", "\n").replace('\r', "\n");
            let o = TextOptions::default();
            let normal = normalize_text(&s, &o);
            proptest::prop_assert_eq!(normal.as_ref(), expected.as_str());
            proptest::prop_assert_eq!(hash_text(&s, &o), Digest::of_bytes(expected.as_bytes()));
            for opts in [o, TextOptions { trim_trailing_whitespace: true }] {
                proptest::prop_assert_eq!(is_normal_text(&s, &opts), normalize_text(&s, &opts) == s.as_str());
            }
        }
    }

    #[test]
    fn normal_text_is_recognised() {
        let (o, t) = (TextOptions::default(), TextOptions { trim_trailing_whitespace: true });
        for s in ["", "a\nb\n", "a \n"] {
            assert!(is_normal_text(s, &o), "{s:?}");
        }
        for s in ["\u{feff}a\n", "a\r\n", "a\r"] {
            assert!(!is_normal_text(s, &o), "{s:?}");
        }
        assert!(is_normal_text("a\n b\n", &t));
        assert!(!is_normal_text("a \nb", &t));
        assert!(!is_normal_text("a\t", &t));
    }

    #[test]
    fn borrows_when_already_normal() {
        let o = TextOptions::default();
        assert!(matches!(normalize_text("a\nb\n", &o), Cow::Borrowed("a\nb\n")));
        assert!(matches!(normalize_text("\u{feff}a\n", &o), Cow::Borrowed("a\n")));
        assert_eq!(normalize_text("a\r\nb\rc\r\n\r\n", &o), "a\nb\nc\n\n");
        let t = TextOptions { trim_trailing_whitespace: true };
        assert_eq!(normalize_text("a \t\r\n b  \n\tc\t", &t), "a\n b\n\tc");
        assert_eq!(normalize_text("", &t), "");
    }
}
