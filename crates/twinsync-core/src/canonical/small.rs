//! One pass for small documents, the common case of hashing many records.
//!
//! The walk in [`super::parse`] is built so that no output byte moves once written:
//! a pass over the whole input first finds where every container ends, and an
//! object lists its members before writing any of them. For a document of a
//! kilobyte that pass and the listing cost more than moving the bytes would. Here
//! each member is written as it is read, and an object whose keys did not arrive in
//! order is put in order afterwards by copying its members' bytes (each byte once per
//! enclosing unsorted object: a few kilobytes at most, below [`MAX`]).
//!
//! Only valid documents without ignore rules are settled here. At the first problem
//! of any kind (syntax, number, UTF-8, duplicate key, depth) the pass gives up and
//! the full walk runs, so errors, their paths and their offsets are the full walk's
//! by construction.

use std::cmp::Ordering;

use super::parse::{append, cmp_utf16, key_prefix, parse_key, scalar, skip_ws, write_escaped};
use super::CanonicalOptions;

/// Inputs up to this size take the one pass.
pub(crate) const MAX: usize = 16 << 10;

/// Objects of up to this many members are put in order by counting ranks.
const RANK_MAX: usize = 16;

/// Buffers of the pass, kept between documents.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Members of the objects open around the current position, in arrival order.
    members: Vec<Member>,
    /// Decoded keys that had escapes.
    keys: Vec<u8>,
    /// An object's members while they are written back in order.
    copy: Vec<u8>,
    /// The order of an object's members, as indices into them.
    sorted: Vec<u32>,
    /// Key prefixes with the index of their member, being sorted (large objects).
    packed: Vec<(u64, u32)>,
}

impl Scratch {
    /// Bytes held, roughly.
    pub(crate) fn capacity(&self) -> usize {
        self.members.capacity() * std::mem::size_of::<Member>()
            + self.keys.capacity()
            + self.copy.capacity()
            + self.sorted.capacity() * 4
            + self.packed.capacity() * 16
    }
}

/// One member of an object, already written to the output.
#[derive(Debug, Clone, Copy)]
struct Member {
    /// The key's first eight bytes in UTF-16 order (see `key_prefix`).
    prefix: u64,
    /// The decoded key is `input[key..key + key_len]`, or the scratch keys' if `key_in_scratch`.
    key: u32,
    key_len: u32,
    key_in_scratch: bool,
    /// The member (`"key":value`) is `out[base + start..base + end]`.
    start: u32,
    end: u32,
}

/// Appends the canonical form of `input` to `out` and returns true, or returns false
/// with `out` as it was when the document is not valid (or too deep) for the full
/// walk to report why. Ignore rules are not applied: the caller checks there are none.
/// `utf8` says the caller vouches for the input's UTF-8, so strings are not checked.
pub(crate) fn canonicalize(
    input: &[u8],
    opts: &CanonicalOptions,
    utf8: bool,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> bool {
    debug_assert!(input.len() <= MAX && opts.ignore.is_empty());
    let before = out.len();
    scratch.members.clear();
    scratch.keys.clear();
    // Owned for the pass rather than borrowed: one indirection less on every write.
    let owned = std::mem::take(out);
    let mut pass =
        Pass { input, opts, check_utf8: !utf8, out: owned, base: before, s: scratch, depth_left: opts.max_depth };
    let start = if input.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let done = pass.value(skip_ws(input, start)).is_some_and(|end| skip_ws(input, end) == input.len());
    *out = pass.out;
    if !done {
        out.truncate(before);
    }
    done
}

struct Pass<'a> {
    input: &'a [u8],
    opts: &'a CanonicalOptions,
    /// Whether strings must be checked for UTF-8 (nothing vouched for the input).
    check_utf8: bool,
    out: Vec<u8>,
    /// Where this document's output starts in `out`.
    base: usize,
    s: &'a mut Scratch,
    /// Containers that may still open inside the current one.
    depth_left: usize,
}

impl Pass<'_> {
    /// Writes the value at `pos`; returns its end.
    ///
    /// Inlined where containers read their members and elements, so that a scalar
    /// (most values) costs no call: a call into the walk's one large function
    /// saved and restored a frame for each of them, a tenth of the walk.
    #[inline(always)]
    fn value(&mut self, pos: usize) -> Option<usize> {
        match self.input.get(pos) {
            Some(b'{') => self.object(pos),
            Some(b'[') => self.array(pos),
            _ => scalar(self.input, pos, self.opts, self.check_utf8, &mut self.out).ok(),
        }
    }

    #[inline(never)]
    fn array(&mut self, open: usize) -> Option<usize> {
        self.depth_left = self.depth_left.checked_sub(1)?;
        let input = self.input;
        self.out.push(b'[');
        let mut pos = skip_ws(input, open + 1);
        if input.get(pos) == Some(&b']') {
            self.out.push(b']');
            self.depth_left += 1;
            return Some(pos + 1);
        }
        loop {
            pos = skip_ws(input, self.value(pos)?);
            match input.get(pos) {
                Some(b',') => {
                    self.out.push(b',');
                    pos = skip_ws(input, pos + 1);
                }
                Some(b']') => {
                    self.out.push(b']');
                    self.depth_left += 1;
                    return Some(pos + 1);
                }
                _ => return None,
            }
        }
    }

    #[inline(never)]
    fn object(&mut self, open: usize) -> Option<usize> {
        self.depth_left = self.depth_left.checked_sub(1)?;
        let input = self.input;
        self.out.push(b'{');
        let mut pos = skip_ws(input, open + 1);
        if input.get(pos) == Some(&b'}') {
            self.out.push(b'}');
            self.depth_left += 1;
            return Some(pos + 1);
        }
        let first = self.s.members.len();
        let keys_mark = self.s.keys.len();
        let body = self.out.len();
        loop {
            if input.get(pos) != Some(&b'"') {
                return None;
            }
            let key_at = pos;
            let (after, key, key_len, key_in_scratch) =
                parse_key(input, pos, self.check_utf8, &mut self.s.keys).ok()?;
            let start = self.out.len();
            let prefix = if key_in_scratch {
                self.out.push(b'"');
                write_escaped(&mut self.out, &self.s.keys[key..key + key_len]);
                self.out.push(b'"');
                key_prefix(&self.s.keys, key, key_len)
            } else {
                key_prefix(input, key, key_len)
            };
            pos = skip_ws(input, after);
            if input.get(pos) != Some(&b':') {
                return None;
            }
            // Without escapes the key is already canonical, quotes and all, and a
            // colon right after it is copied with it.
            if key_in_scratch {
                self.out.push(b':');
            } else if pos == after {
                append(&mut self.out, input, key_at, after + 1);
            } else {
                append(&mut self.out, input, key_at, after);
                self.out.push(b':');
            }
            pos = skip_ws(input, self.value(skip_ws(input, pos + 1))?);
            self.s.members.push(Member {
                prefix,
                key: key as u32,
                key_len: key_len as u32,
                key_in_scratch,
                start: (start - self.base) as u32,
                end: (self.out.len() - self.base) as u32,
            });
            match input.get(pos) {
                Some(b',') => {
                    self.out.push(b',');
                    pos = skip_ws(input, pos + 1);
                }
                Some(b'}') => break,
                _ => return None,
            }
        }
        self.put_in_order(first, body)?;
        self.out.push(b'}');
        self.s.members.truncate(first);
        self.s.keys.truncate(keys_mark);
        self.depth_left += 1;
        Some(pos + 1)
    }

    /// Rewrites the members from `first` on, written from `out[body..]`, in key
    /// order; None when a key occurs twice.
    fn put_in_order(&mut self, first: usize, body: usize) -> Option<()> {
        let list = &self.s.members[first..];
        if list.windows(2).all(|w| w[0].prefix < w[1].prefix) {
            // In order by the prefixes alone, and so no key twice: the bytes are
            // where they belong.
            return Some(());
        }
        let sorted = &mut self.s.sorted;
        sorted.clear();
        // Most keys differ in their first eight bytes, where the prefixes alone
        // decide. A small object's members are placed by rank (how many prefixes are
        // below each one), counted without a branch: a sort's comparisons of keys in
        // no particular order are mispredicted half the time.
        let distinct = if list.len() <= RANK_MAX {
            sorted.resize(list.len(), u32::MAX);
            for (i, m) in list.iter().enumerate() {
                let mut below = 0;
                for o in list {
                    below += u32::from(o.prefix < m.prefix);
                }
                sorted[below as usize] = i as u32;
            }
            // Members that tie share a rank, and the ranks after theirs are then
            // left unset; the whole keys decide below.
            !sorted.contains(&u32::MAX)
        } else {
            let packed = &mut self.s.packed;
            packed.clear();
            packed.extend(list.iter().enumerate().map(|(i, m)| (m.prefix, i as u32)));
            packed.sort_unstable();
            sorted.extend(packed.iter().map(|p| p.1));
            packed.windows(2).all(|w| w[0].0 != w[1].0)
        };
        if !distinct {
            // Two keys share their first eight bytes: the whole keys decide.
            let (input, keys) = (self.input, &self.s.keys[..]);
            let key = |m: &Member| {
                let (s, n) = (m.key as usize, m.key_len as usize);
                if m.key_in_scratch {
                    &keys[s..s + n]
                } else {
                    &input[s..s + n]
                }
            };
            let by_index = |a: &u32, b: &u32| {
                let (a, b) = (&list[*a as usize], &list[*b as usize]);
                a.prefix.cmp(&b.prefix).then_with(|| cmp_utf16(key(a), key(b)))
            };
            sorted.clear();
            sorted.extend(0..list.len() as u32);
            sorted.sort_unstable_by(by_index);
            if sorted.windows(2).any(|w| by_index(&w[0], &w[1]) == Ordering::Equal) {
                return None;
            }
        }
        let copy = &mut self.s.copy;
        copy.clear();
        copy.extend_from_slice(&self.out[body..]);
        // Room for `append`'s fixed 32-byte moves up to the last member: most
        // members are short, and a `memcpy` call each cost more than the moves.
        copy.extend_from_slice(&[0; 32]);
        self.out.truncate(body);
        let from = body - self.base;
        for (i, &k) in sorted.iter().enumerate() {
            let m = &list[k as usize];
            if i > 0 {
                self.out.push(b',');
            }
            append(&mut self.out, copy, m.start as usize - from, m.end as usize - from);
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::{BigIntPolicy, Canonicalizer};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[(self.next() % xs.len() as u64) as usize]
        }
    }

    /// A random document, dense in what the canonical form rewrites: keys out of
    /// order, repeated, escaped or beyond the BMP; numbers in every spelling;
    /// escapes; whitespace.
    fn doc(rng: &mut Rng, depth: usize, out: &mut String) {
        let ws = ["", "", " ", "\n  ", "\t"];
        out.push_str(rng.pick(&ws));
        match rng.next() % if depth > 4 { 3 } else { 5 } {
            0 => out.push_str(rng.pick(&[
                "0",
                "-0",
                "1",
                "1.0",
                "1e2",
                "1E+2",
                "-1.5e-7",
                "0.000001",
                "1e21",
                "123456789012345678",
                "9007199254740993",
                "1e400",
                "3.14159265358979323",
                "519.8186635971069",
                "-0.30000000000000004",
                "0.000001234567890123456",
                "1234567890123456.7",
                "true",
                "false",
                "null",
            ])),
            1 | 2 => {
                out.push('"');
                for _ in 0..rng.next() % 4 {
                    out.push_str(rng.pick(&[
                        "a",
                        "é",
                        "\\u00e9",
                        "\\n",
                        "\\\"",
                        "\\/",
                        "\u{e000}",
                        "🎨",
                        "\\ud83c\\udfa8",
                        "\\u001f",
                    ]));
                }
                out.push('"');
            }
            3 => {
                out.push('[');
                for i in 0..rng.next() % 4 {
                    if i > 0 {
                        out.push(',');
                    }
                    doc(rng, depth + 1, out);
                }
                out.push_str(rng.pick(&ws));
                out.push(']');
            }
            _ => {
                out.push('{');
                // Now and then an object too large to be put in order by ranks, its
                // keys mostly distinct (some sharing their first eight bytes).
                let large = depth < 2 && rng.next() % 8 == 0;
                let members = if large { 17 + rng.next() % 24 } else { rng.next() % 6 };
                let ties = rng.next() % 2 == 0;
                for i in 0..members {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(rng.pick(&ws));
                    let key = if large {
                        let n = rng.next() % 2000;
                        if ties && n % 3 == 0 {
                            format!("abcdefgh{n}")
                        } else {
                            format!("k{n}")
                        }
                    } else {
                        rng.pick(&[
                            "a",
                            "b",
                            "aa",
                            "ab",
                            "abcdefghi",
                            "abcdefghj",
                            "\\u0061",
                            "é",
                            "\u{e000}",
                            "🎨",
                            "",
                        ])
                        .to_string()
                    };
                    out.push_str(&format!("\"{key}\""));
                    out.push_str(rng.pick(&ws));
                    out.push(':');
                    doc(rng, depth + 1, out);
                }
                out.push_str(rng.pick(&ws));
                out.push('}');
            }
        }
    }

    #[test]
    fn agrees_with_the_full_walk() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut settled, mut total) = (0, 0);
        for n in 0..6_000 {
            let mut text = String::new();
            doc(&mut rng, 0, &mut text);
            let mut bytes = text.into_bytes();
            // Every third document is broken somewhere: a byte changed, or cut short.
            if n % 3 == 0 && !bytes.is_empty() {
                let at = (rng.next() % bytes.len() as u64) as usize;
                match rng.next() % 3 {
                    0 => bytes.truncate(at),
                    1 => bytes[at] = b"{}[]\",:\\x\xff\xc3"[(rng.next() % 11) as usize],
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            let opts = CanonicalOptions {
                big_integers: if n % 2 == 0 { BigIntPolicy::Error } else { BigIntPolicy::KeepAsString },
                max_depth: if n % 5 == 0 { 2 } else { 256 },
                ..Default::default()
            };
            let mut fast = b"kept".to_vec();
            let done = canonicalize(&bytes, &opts, false, &mut fast, &mut Scratch::default());
            if std::str::from_utf8(&bytes).is_ok() {
                // Vouched-for UTF-8 skips the string checks and changes nothing else.
                let mut vouched = b"kept".to_vec();
                assert_eq!(canonicalize(&bytes, &opts, true, &mut vouched, &mut Scratch::default()), done);
                assert_eq!(vouched, fast);
            }
            // Padding past `MAX` sends the same document through the full walk.
            let mut padded = bytes.clone();
            padded.resize(MAX + 1, b' ');
            let mut full = b"kept".to_vec();
            let want = Canonicalizer::new(&opts).canonicalize_into(&padded, &mut full);
            let shown = String::from_utf8_lossy(&bytes);
            assert_eq!(done, want.is_ok(), "{shown:?}: {want:?}");
            assert_eq!(fast, full, "{shown:?}");
            settled += usize::from(done);
            total += 1;
        }
        // The generator must exercise both outcomes.
        assert!(settled > total / 3 && settled < total * 9 / 10, "{settled} of {total} valid");
    }
}
