//! Canonical forms, so formatting never looks like drift: RFC 8785 (JCS) JSON, ignore
//! rules for volatile fields, and text normalisation for markdown and code.
//!
//! JSON is canonicalised by a parser of its own ([`Canonicalizer`]) that writes
//! canonical bytes straight from the input in their final order, or feeds them to
//! SHA-256 as they come, without building a value tree: a first pass finds where
//! every array and object ends (`structure`), checking on the way that the input is
//! UTF-8 (`utf8`), so that the walk (`parse`) can list an object's keys, sort them
//! and write each member once. Documents of up to 16 KiB without ignore rules take a
//! single pass instead (`small`), which writes members as they come and puts each
//! object in order afterwards. Arrays of a mebibyte or more, and large JSON Lines
//! inputs ([`hash_lines`]), are processed on every core, with the same result and the
//! same errors as one thread. Anything JCS cannot represent exactly is an error that
//! names the JSON Pointer of the value at fault: duplicate keys, numbers beyond the
//! range of a double, lone surrogates, integers beyond 2^53 (unless
//! [`BigIntPolicy::KeepAsString`]), nesting deeper than the limit, bytes that are not
//! UTF-8, and syntax errors (with their byte offset).

mod ignore;
mod lines;
mod number;
mod parse;
mod small;
mod structure;
mod text;
mod utf8;

pub use ignore::IgnoreRules;
pub use lines::{hash_lines, LineDigests, LineError};
pub use number::write_f64;
pub use parse::{cmp_utf16, Canonicalizer};
pub use text::{hash_text, is_normal_text, normalize_text, TextOptions};

use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::digest::Digest;

/// What to do with an integer beyond ±2^53 that an IEEE double cannot hold exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BigIntPolicy {
    /// Reject the document, naming the path.
    #[default]
    Error,
    /// Canonicalise the integer as a JSON string of its decimal digits.
    KeepAsString,
}

/// Options for canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CanonicalOptions {
    /// Integers beyond 2^53.
    pub big_integers: BigIntPolicy,
    /// Volatile fields to drop.
    pub ignore: IgnoreRules,
    /// Deepest nesting accepted.
    pub max_depth: usize,
}

impl Default for CanonicalOptions {
    fn default() -> Self {
        CanonicalOptions { big_integers: BigIntPolicy::Error, ignore: IgnoreRules::default(), max_depth: 256 }
    }
}

/// What went wrong while canonicalising.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not JSON at all; says what was expected.
    Syntax(String),
    /// The same key twice in one object.
    DuplicateKey(String),
    /// NaN or an infinity (or a number too large for a double).
    NonFinite,
    /// A `\uD800`-style escape without its partner.
    LoneSurrogate,
    /// An integer beyond 2^53 that a double cannot hold: it would come out as a
    /// different number (e.g. `12345678901234567890`).
    BigInteger(String),
    /// Nesting deeper than the limit.
    TooDeep(usize),
    /// Input bytes that are not UTF-8.
    InvalidUtf8,
    /// An ignore pattern that is not a JSON Pointer pattern; says why.
    BadPattern(String),
}

/// A canonicalisation failure, with the JSON Pointer of the value at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("at {}{}: {}", if .path.is_empty() { "/" } else { .path.as_str() }, describe_offset(.offset), describe(.kind))]
pub struct CanonicalError {
    /// JSON Pointer of the offending value (empty for the root).
    pub path: String,
    /// Byte offset in the input where the problem was found, when there is an input.
    #[serde(default)]
    pub offset: Option<usize>,
    /// What is wrong.
    pub kind: ErrorKind,
}

fn describe_offset(o: &Option<usize>) -> String {
    o.map(|o| format!(" (byte {o})")).unwrap_or_default()
}

fn describe(k: &ErrorKind) -> String {
    match k {
        ErrorKind::Syntax(m) => format!("invalid JSON: {m}"),
        ErrorKind::DuplicateKey(key) => format!("duplicate key {key:?}"),
        ErrorKind::NonFinite => "number is NaN or Infinity (or overflows a double), which JSON cannot represent".into(),
        ErrorKind::LoneSurrogate => "lone UTF-16 surrogate in string".into(),
        ErrorKind::BigInteger(n) => format!("integer {n} is beyond 2^53 and would lose precision"),
        ErrorKind::TooDeep(n) => format!("nesting deeper than {n} levels"),
        ErrorKind::InvalidUtf8 => "input is not valid UTF-8".into(),
        ErrorKind::BadPattern(why) => format!("bad ignore pattern {why}"),
    }
}

impl CanonicalError {
    /// A new error at `path`, with no input offset.
    pub fn new(path: impl Into<String>, kind: ErrorKind) -> Self {
        CanonicalError { path: path.into(), offset: None, kind }
    }
}

thread_local! {
    /// Buffers kept between calls of the free functions, so that hashing many
    /// small documents does not allocate for each.
    static BUFFERS: std::cell::RefCell<Option<parse::Buffers>> = const { std::cell::RefCell::new(None) };
}

/// Buffers kept larger than this are released after a call rather than cached.
const CACHE_LIMIT: usize = 1 << 20;

fn with_canonicalizer<R>(opts: &CanonicalOptions, f: impl FnOnce(&mut Canonicalizer<'_>) -> R) -> R {
    let buf = BUFFERS.with(|b| b.borrow_mut().take()).unwrap_or_default();
    let mut c = Canonicalizer::with_buffers(opts, buf);
    let r = f(&mut c);
    let buf = c.into_buffers();
    if buf.capacity() <= CACHE_LIMIT {
        BUFFERS.with(|b| *b.borrow_mut() = Some(buf));
    }
    r
}

/// RFC 8785 canonical bytes of a JSON document.
pub fn canonicalize(json: &[u8], opts: &CanonicalOptions) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(json.len());
    with_canonicalizer(opts, |c| c.canonicalize_into(json, &mut out))?;
    Ok(out)
}

/// RFC 8785 canonical bytes of a parsed value.
///
/// The value is serialised and then canonicalised like any document, so the same
/// rules (ignore patterns, integer limits) apply to both.
pub fn canonicalize_value(v: &serde_json::Value, opts: &CanonicalOptions) -> Result<Vec<u8>, CanonicalError> {
    let json = serde_json::to_vec(v).expect("serialising a Value cannot fail");
    canonicalize(&json, opts)
}

/// Digest of the canonical form of a JSON document, hashed as it is produced.
pub fn hash_json(json: &[u8], opts: &CanonicalOptions) -> Result<Digest, CanonicalError> {
    with_canonicalizer(opts, |c| c.hash(json))
}

/// Digest of the canonical form of a JSON document held in a `str`: the same as
/// [`hash_json`], without checking the UTF-8 of its strings again (for a binding's
/// text, transcoded from its host's strings).
pub fn hash_json_str(json: &str, opts: &CanonicalOptions) -> Result<Digest, CanonicalError> {
    with_canonicalizer(opts, |c| c.hash_str(json))
}

/// Digest of the canonical form of a parsed value.
pub fn hash_value(v: &serde_json::Value, opts: &CanonicalOptions) -> Result<Digest, CanonicalError> {
    let json = serde_json::to_vec(v).expect("serialising a Value cannot fail");
    hash_json(&json, opts)
}

/// Appends `s` as a JCS string literal (quotes, minimal escaping).
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    parse::write_escaped(out, s.as_bytes());
    out.push(b'"');
}

/// SHA-256 running state, re-exported so callers can feed [`Canonicalizer::hash_into`].
pub type Hasher = Sha256;

#[cfg(test)]
mod tests {
    use super::*;

    /// A `str` skips only the UTF-8 checks: digests and errors are `hash_json`'s, for
    /// small documents (one pass) and large ones (the full walk).
    #[test]
    fn hashing_a_str_is_hashing_its_bytes() {
        let opts = CanonicalOptions::default();
        let big = format!("[{}]", vec!["{\"b\":\"é\\u00e9🎨\",\"a\":519.8186635971069}"; 2000].join(","));
        assert!(big.len() > small::MAX);
        for doc in [
            "{\"b\":[1,2.50,\"\\ud83c\\udfa8\"],\"a\":{\"é\":null,\"\u{e000}\":true,\"🎨\":-0}}",
            "\"ünïcödé\"",
            "[0.1000000000000001, 1e400]",
            "{\"a\":1,\"a\":2}",
            "{\"a\" 1}",
            big.as_str(),
        ] {
            assert_eq!(hash_json_str(doc, &opts), hash_json(doc.as_bytes(), &opts), "{doc:.80}");
        }
    }

    #[test]
    fn writes_strings_with_minimal_escapes() {
        let mut out = Vec::new();
        write_json_string(&mut out, "a\"b\\c\u{1}\n\u{7f}\u{2028}/é");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\u0001\\n\u{7f}\u{2028}/é\"");
    }
}
