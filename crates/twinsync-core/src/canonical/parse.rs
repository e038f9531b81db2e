//! The streaming canonicaliser: one pass over the input bytes, emitting RFC 8785
//! bytes without building a value tree.
//!
//! Arrays, strings and numbers are written out as they are read. An object's members
//! must come out sorted, so each member's canonical text (`"key":value`) is written
//! into the output buffer as it arrives and only its range is remembered; when the
//! object closes and the keys were not already in order, the ranges are sorted and
//! the members copied back in order (one `memcpy` each). Keys are compared in place:
//! in the input when they had no escapes, else in a small arena of decoded keys.
//! Nothing is allocated per member; every buffer lives in [`Canonicalizer`] and is
//! reused across documents.
//!
//! While no object is open (e.g. inside a top-level array) the output is handed to
//! SHA-256 as it grows, so hashing a huge array needs little memory; a large
//! out-of-order root object is hashed member by member rather than laid out sorted.
//! Only strings with non-ASCII bytes are checked for UTF-8 (the grammar rejects such
//! bytes anywhere else), and number literals already in canonical form are copied.

use std::cmp::Ordering;

use sha2::{Digest as _, Sha256};

use super::ignore::{self, Segment, State};
use super::number::{self, Literal, NumberProblem};
use super::{BigIntPolicy, CanonicalError, CanonicalOptions, ErrorKind};
use crate::digest::Digest;

/// Where a key's decoded UTF-8 bytes live: in the input (no escapes) or the arena.
#[derive(Debug, Clone, Copy)]
struct KeyRef {
    start: usize,
    len: usize,
    in_arena: bool,
}

/// One member of an open object: its key and its `"key":value` bytes in the output.
#[derive(Debug, Clone, Copy)]
struct Member {
    key: KeyRef,
    /// The key's first eight bytes, big-endian, zero-padded: most comparisons end here.
    prefix: u64,
    /// Input offset of the key, for error messages.
    at: usize,
    start: usize,
    end: usize,
}

/// An open array or object.
#[derive(Debug, Clone, Copy)]
struct Frame {
    is_object: bool,
    /// Output position just after the `{` or `[`.
    body_start: usize,
    /// Arrays: index of the current element. Objects: members kept so far.
    count: usize,
    /// Objects: first entry in the member stack.
    members_start: usize,
    /// Objects: arena length when the object opened.
    keys_start: usize,
    /// Objects: every key so far came in canonical order.
    sorted: bool,
    /// Objects: the key being read, once there is one.
    key: Option<KeyRef>,
    /// Objects: input offset of that key.
    key_pos: usize,
    /// Objects: that key's [`Member::prefix`].
    key_prefix: u64,
    /// Objects: the current member matches an ignore rule.
    dropping: bool,
    /// Objects: output position where the current member (with its comma) began.
    member_start: usize,
    /// Ignore-rule states that apply to this container's children.
    states: (u32, u32),
}

/// Reusable buffers, so that hashing many documents allocates once.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    out: Vec<u8>,
    keys: Vec<u8>,
    members: Vec<Member>,
    scratch: Vec<u8>,
    /// Sort keys of an out-of-order object: (key prefix, member index).
    order: Vec<(u64, usize)>,
    stack: Vec<Frame>,
    states: Vec<State>,
}

impl Buffers {
    /// Bytes held, roughly.
    pub(crate) fn capacity(&self) -> usize {
        self.out.capacity()
            + self.keys.capacity()
            + self.scratch.capacity()
            + self.members.capacity() * std::mem::size_of::<Member>()
            + self.order.capacity() * std::mem::size_of::<(u64, usize)>()
            + self.stack.capacity() * std::mem::size_of::<Frame>()
            + self.states.capacity() * std::mem::size_of::<State>()
    }
}

/// A streaming RFC 8785 canonicaliser with reusable buffers.
///
/// Create one per thread and feed it any number of documents; after the first few
/// documents it stops allocating.
#[derive(Debug)]
pub struct Canonicalizer<'o> {
    opts: &'o CanonicalOptions,
    buf: Buffers,
}

/// An internal failure: what, where in the input, and an extra key for the path.
struct Fail {
    kind: ErrorKind,
    offset: usize,
    /// A key of the innermost object that the path should name instead of its current one.
    key: Option<KeyRef>,
}

fn fail(kind: ErrorKind, offset: usize) -> Fail {
    Fail { kind, offset, key: None }
}

fn syntax(msg: &str, offset: usize) -> Fail {
    fail(ErrorKind::Syntax(msg.to_string()), offset)
}

/// Output size at which an unbuffered stretch is handed to the hasher.
const FLUSH_AT: usize = 1 << 16;

impl<'o> Canonicalizer<'o> {
    /// A canonicaliser applying `opts`.
    pub fn new(opts: &'o CanonicalOptions) -> Self {
        Canonicalizer { opts, buf: Buffers::default() }
    }

    pub(crate) fn with_buffers(opts: &'o CanonicalOptions, buf: Buffers) -> Self {
        Canonicalizer { opts, buf }
    }

    pub(crate) fn into_buffers(mut self) -> Buffers {
        self.buf.out.clear();
        self.buf
    }

    /// Appends the canonical form of the JSON document `input` to `out`.
    ///
    /// On error `out` is left as it was.
    pub fn canonicalize_into(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CanonicalError> {
        let before = out.len();
        std::mem::swap(out, &mut self.buf.out);
        let r = self.run(input, None);
        std::mem::swap(out, &mut self.buf.out);
        if r.is_err() {
            out.truncate(before);
        }
        r
    }

    /// The digest of the canonical form of `input`.
    pub fn hash(&mut self, input: &[u8]) -> Result<Digest, CanonicalError> {
        let mut h = Sha256::new();
        self.hash_into(input, &mut h)?;
        Ok(Digest::from_hasher(h))
    }

    /// Feeds the canonical form of `input` to a running SHA-256.
    pub fn hash_into(&mut self, input: &[u8], hasher: &mut Sha256) -> Result<(), CanonicalError> {
        self.buf.out.clear();
        let r = self.run(input, Some(hasher));
        if r.is_ok() {
            hasher.update(&self.buf.out);
        }
        self.buf.out.clear();
        r
    }

    fn run(&mut self, input: &[u8], hasher: Option<&mut Sha256>) -> Result<(), CanonicalError> {
        let b = &mut self.buf;
        b.keys.clear();
        b.members.clear();
        b.stack.clear();
        b.states.clear();
        let rules = self.opts.ignore.compiled();
        match parse(input, self.opts, rules, b, hasher) {
            Ok(()) => Ok(()),
            Err(f) => {
                let mut path = String::new();
                let last = b.stack.len().wrapping_sub(1);
                for (i, fr) in b.stack.iter().enumerate() {
                    if fr.is_object {
                        // A failure may name a different key of the innermost object
                        // (a duplicate found after sorting).
                        let key = if i == last { f.key.or(fr.key) } else { fr.key };
                        if let Some(k) = key {
                            push_segment(&mut path, key_bytes(input, &b.keys, k));
                        }
                    } else {
                        path.push('/');
                        path.push_str(&fr.count.to_string());
                    }
                }
                let mut e = CanonicalError::new(path, f.kind);
                e.offset = Some(f.offset);
                Err(e)
            }
        }
    }
}

fn push_segment(path: &mut String, key: &[u8]) {
    path.push('/');
    for c in String::from_utf8_lossy(key).chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

#[inline]
fn key_bytes<'a>(input: &'a [u8], arena: &'a [u8], k: KeyRef) -> &'a [u8] {
    if k.in_arena {
        &arena[k.start..k.start + k.len]
    } else {
        &input[k.start..k.start + k.len]
    }
}

/// Orders UTF-8 strings as RFC 8785 orders keys: by UTF-16 code units.
///
/// Byte order equals code point order, and code point order equals UTF-16 order
/// except that supplementary-plane characters (4-byte UTF-8, lead byte F0..F4;
/// surrogates D800..DBFF in UTF-16) sort before U+E000..U+FFFF (lead byte EE or EF).
/// The first differing byte is either a lead byte in both strings or a continuation
/// byte of the same character in both, so looking at it alone decides.
pub fn cmp_utf16(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].iter().zip(&b[..n]).position(|(x, y)| x != y) {
        None => a.len().cmp(&b.len()),
        Some(i) => {
            let (x, y) = (a[i], b[i]);
            if x >= 0xF0 && (y == 0xEE || y == 0xEF) {
                Ordering::Less
            } else if y >= 0xF0 && (x == 0xEE || x == 0xEF) {
                Ordering::Greater
            } else {
                x.cmp(&y)
            }
        }
    }
}

/// The key's first eight bytes as a big-endian number whose order is UTF-16 order:
/// lead bytes of supplementary characters (F0..F4) are moved below those of
/// U+E000..U+FFFF (EE, EF). Neither ever occurs as a continuation byte, so the
/// remap cannot disturb comparisons inside a character.
#[inline]
fn key_prefix(k: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = k.len().min(8);
    b[..n].copy_from_slice(&k[..n]);
    let v = u64::from_be_bytes(b);
    if v & 0x8080_8080_8080_8080 == 0 {
        // ASCII: nothing to remap.
        return v;
    }
    for x in &mut b[..n] {
        *x = match *x {
            0xEE | 0xEF => *x + 5,
            0xF0..=0xF4 => *x - 2,
            other => other,
        };
    }
    u64::from_be_bytes(b)
}

/// [`cmp_utf16`] of two members' keys, decided by the prefixes when they differ.
#[inline(always)]
fn cmp_members(input: &[u8], arena: &[u8], a: &Member, b: &Member) -> Ordering {
    match a.prefix.cmp(&b.prefix) {
        Ordering::Equal => cmp_utf16(key_bytes(input, arena, a.key), key_bytes(input, arena, b.key)),
        other => other,
    }
}

#[inline]
fn skip_ws(input: &[u8], mut pos: usize) -> usize {
    match input.get(pos) {
        Some(&c) if c > b' ' => return pos,
        None => return pos,
        _ => {}
    }
    // Pretty-printed documents are half indentation, so runs are skipped 16 bytes
    // at a time.
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline; every load is unaligned and
        // reads 16 bytes that lie inside `input`.
        unsafe {
            let (sp, nl) = (_mm_set1_epi8(b' ' as i8), _mm_set1_epi8(b'\n' as i8));
            let (cr, tab) = (_mm_set1_epi8(b'\r' as i8), _mm_set1_epi8(b'\t' as i8));
            while pos + 16 <= input.len() {
                let v = _mm_loadu_si128(input.as_ptr().add(pos) as *const __m128i);
                let ws = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, nl)),
                    _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, tab)),
                );
                let m = _mm_movemask_epi8(ws) as u32;
                if m != 0xFFFF {
                    return pos + (!m).trailing_zeros() as usize;
                }
                pos += 16;
            }
        }
    }
    while let Some(&c) = input.get(pos) {
        if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
            pos += 1;
        } else {
            break;
        }
    }
    pos
}

/// Finds the first `"`, `\` or control byte at or after `i`; also says whether a
/// non-ASCII byte may occur before it.
#[inline]
fn scan_plain(input: &[u8], mut i: usize) -> (usize, bool) {
    let mut high = false;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline; every load is unaligned and
        // reads 16 bytes that lie inside `input`.
        unsafe {
            let (quote, bslash) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8));
            let ctl = _mm_set1_epi8(0x1F);
            while i + 16 <= input.len() {
                let v = _mm_loadu_si128(input.as_ptr().add(i) as *const __m128i);
                let special = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                    // v <= 0x1F, unsigned.
                    _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v),
                );
                let m = _mm_movemask_epi8(special) as u32;
                let h = _mm_movemask_epi8(v) as u32;
                if m != 0 {
                    let idx = m.trailing_zeros();
                    high |= h & ((1u32 << idx) - 1) != 0;
                    return (i + idx as usize, high);
                }
                high |= h != 0;
                i += 16;
            }
        }
    }
    while let Some(&c) = input.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        high |= c >= 0x80;
        i += 1;
    }
    (i, high)
}

fn check_utf8(seg: &[u8], offset: usize) -> Result<(), Fail> {
    if utf8_ok(seg) {
        return Ok(());
    }
    // The library check names the first bad byte.
    match std::str::from_utf8(seg) {
        Ok(_) => Ok(()),
        Err(e) => Err(fail(ErrorKind::InvalidUtf8, offset + e.valid_up_to())),
    }
}

/// Whether `s` is UTF-8 (RFC 3629: no overlongs, surrogates or code points beyond
/// U+10FFFF). The strings checked are short, where this inline loop beats the
/// library's call and word-alignment setup.
#[inline]
fn utf8_ok(s: &[u8]) -> bool {
    let cont = |j: usize| s.get(j).is_some_and(|&c| c & 0xC0 == 0x80);
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b < 0x80 {
            i += 1;
            continue;
        }
        let Some(&c1) = s.get(i + 1) else {
            return false;
        };
        match b {
            0xC2..=0xDF => {
                if c1 & 0xC0 != 0x80 {
                    return false;
                }
                i += 2;
            }
            0xE0..=0xEF => {
                let ok1 = match b {
                    0xE0 => (0xA0..=0xBF).contains(&c1),
                    0xED => (0x80..=0x9F).contains(&c1),
                    _ => c1 & 0xC0 == 0x80,
                };
                if !ok1 || !cont(i + 2) {
                    return false;
                }
                i += 3;
            }
            0xF0..=0xF4 => {
                let ok1 = match b {
                    0xF0 => (0x90..=0xBF).contains(&c1),
                    0xF4 => (0x80..=0x8F).contains(&c1),
                    _ => c1 & 0xC0 == 0x80,
                };
                if !ok1 || !cont(i + 2) || !cont(i + 3) {
                    return false;
                }
                i += 4;
            }
            _ => return false,
        }
    }
    true
}

/// Appends the canonical escape of a character that JCS escapes (`"`, `\`, and
/// control characters), or the character itself.
#[inline]
pub(crate) fn push_char(out: &mut Vec<u8>, c: char) {
    let v = c as u32;
    if v < 0x20 || c == '"' || c == '\\' {
        let short = match c {
            '"' => b'"',
            '\\' => b'\\',
            '\u{8}' => b'b',
            '\t' => b't',
            '\n' => b'n',
            '\u{c}' => b'f',
            '\r' => b'r',
            _ => 0,
        };
        if short != 0 {
            out.extend_from_slice(&[b'\\', short]);
        } else {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(v >> 4) as usize], HEX[(v & 15) as usize]]);
        }
    } else {
        let mut tmp = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    }
}

fn hex4(input: &[u8], pos: usize) -> Result<u32, Fail> {
    let Some(h) = input.get(pos..pos + 4) else {
        return Err(syntax("truncated \\u escape", pos));
    };
    let mut v = 0u32;
    for (i, &c) in h.iter().enumerate() {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(syntax("\\u must be followed by four hex digits", pos + i)),
        };
        v = v << 4 | d as u32;
    }
    Ok(v)
}

/// Appends `src[from..to]`. Most strings and members are short, and a fixed-size
/// 32-byte move beats a `memcpy` call for them, when both buffers have room for it.
#[inline(always)]
fn append(dst: &mut Vec<u8>, src: &[u8], from: usize, to: usize) {
    let n = to - from;
    let len = dst.len();
    if n <= 32 && from + 32 <= src.len() && dst.capacity() - len >= 32 {
        // SAFETY: 32 bytes are readable at `from` in `src` and writable at `len` in
        // `dst` (both checked above); the two cannot overlap since `dst` is borrowed
        // mutably; only the first `n` of the bytes written, all copied from `src`,
        // become part of `dst`.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr().add(from), dst.as_mut_ptr().add(len), 32);
            dst.set_len(len + n);
        }
    } else {
        dst.extend_from_slice(&src[from..to]);
    }
}

/// Reads the string starting at the quote at `pos` and writes its canonical form.
/// For keys, also returns where its decoded bytes are. Returns the position after
/// the closing quote.
#[inline]
fn parse_string(
    input: &[u8],
    pos: usize,
    out: &mut Vec<u8>,
    arena: Option<&mut Vec<u8>>,
) -> Result<(usize, KeyRef), Fail> {
    let start = pos + 1;
    let (end, high) = scan_plain(input, start);
    if input.get(end) == Some(&b'"') {
        // Fast path: nothing to escape, copied verbatim.
        if high {
            check_utf8(&input[start..end], start)?;
        }
        append(out, input, pos, end + 1);
        return Ok((end + 1, KeyRef { start, len: end - start, in_arena: false }));
    }
    parse_string_slow(input, start, end, high, out, arena)
}

#[cold]
fn parse_string_slow(
    input: &[u8],
    start: usize,
    mut end: usize,
    mut high: bool,
    out: &mut Vec<u8>,
    mut arena: Option<&mut Vec<u8>>,
) -> Result<(usize, KeyRef), Fail> {
    let arena_start = arena.as_ref().map_or(0, |a| a.len());
    out.push(b'"');
    let mut seg = start;
    loop {
        if high {
            check_utf8(&input[seg..end], seg)?;
        }
        out.extend_from_slice(&input[seg..end]);
        if let Some(a) = arena.as_deref_mut() {
            a.extend_from_slice(&input[seg..end]);
        }
        let Some(&c) = input.get(end) else {
            return Err(syntax("unterminated string", start - 1));
        };
        match c {
            b'"' => {
                out.push(b'"');
                let len = arena.as_ref().map_or(0, |a| a.len() - arena_start);
                return Ok((end + 1, KeyRef { start: arena_start, len, in_arena: true }));
            }
            b'\\' => {
                let esc_at = end;
                let Some(&e) = input.get(end + 1) else {
                    return Err(syntax("unterminated string", start - 1));
                };
                let mut next = end + 2;
                let ch = match e {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let hi = hex4(input, end + 2)?;
                        next = end + 6;
                        let cp = if (0xD800..0xDC00).contains(&hi) {
                            if input.get(next..next + 2) != Some(b"\\u") {
                                return Err(fail(ErrorKind::LoneSurrogate, esc_at));
                            }
                            let lo = hex4(input, next + 2)?;
                            if !(0xDC00..0xE000).contains(&lo) {
                                return Err(fail(ErrorKind::LoneSurrogate, esc_at));
                            }
                            next += 6;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        } else if (0xDC00..0xE000).contains(&hi) {
                            return Err(fail(ErrorKind::LoneSurrogate, esc_at));
                        } else {
                            hi
                        };
                        char::from_u32(cp).expect("surrogates were excluded")
                    }
                    _ => return Err(syntax("invalid escape", esc_at)),
                };
                push_char(out, ch);
                if let Some(a) = arena.as_deref_mut() {
                    let mut tmp = [0u8; 4];
                    a.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                }
                seg = next;
            }
            _ => return Err(syntax("control character in string must be escaped", end)),
        }
        (end, high) = scan_plain(input, seg);
    }
}

/// Reads the number at `pos` and writes its canonical form; returns the end.
#[inline]
fn parse_number(input: &[u8], pos: usize, opts: &CanonicalOptions, out: &mut Vec<u8>) -> Result<usize, Fail> {
    let mut i = pos;
    let neg = input[i] == b'-';
    if neg {
        i += 1;
    }
    let int_start = i;
    match input.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while matches!(input.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        _ => return Err(syntax("expected a digit", i)),
    }
    let int = &input[int_start..i];
    if matches!(input.get(i), Some(b'0'..=b'9')) {
        return Err(syntax("leading zeros are not allowed in numbers", int_start));
    }
    let mut frac: &[u8] = &[];
    let mut is_integer = true;
    if input.get(i) == Some(&b'.') {
        i += 1;
        let fs = i;
        while matches!(input.get(i), Some(b'0'..=b'9')) {
            i += 1;
        }
        if i == fs {
            return Err(syntax("expected a digit after the decimal point", i));
        }
        frac = &input[fs..i];
        is_integer = false;
    }
    let mut exp = 0i32;
    if matches!(input.get(i), Some(b'e' | b'E')) {
        i += 1;
        is_integer = false;
        let eneg = match input.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let es = i;
        while let Some(&d @ b'0'..=b'9') = input.get(i) {
            // Saturate: anything this large is 0 or infinity anyway.
            exp = (exp * 10 + (d - b'0') as i32).min(1_000_000);
            i += 1;
        }
        if i == es {
            return Err(syntax("expected a digit in the exponent", i));
        }
        if eneg {
            exp = -exp;
        }
    }
    let lit = Literal { text: &input[pos..i], neg, int, frac, is_integer, exp };
    if number::is_canonical(&lit) {
        append(out, input, pos, i);
        return Ok(i);
    }
    match number::write_literal(out, &lit) {
        Ok(()) => Ok(i),
        Err(NumberProblem::NonFinite) => Err(fail(ErrorKind::NonFinite, pos)),
        Err(NumberProblem::BigInteger) => match opts.big_integers {
            BigIntPolicy::KeepAsString => {
                out.push(b'"');
                out.extend_from_slice(lit.text);
                out.push(b'"');
                Ok(i)
            }
            BigIntPolicy::Error => {
                Err(fail(ErrorKind::BigInteger(String::from_utf8_lossy(lit.text).into_owned()), pos))
            }
        },
    }
}

/// Steps the ignore states of the container `fr` over one child segment; returns the
/// child's states and whether the child itself is ignored.
#[inline]
fn step_states(rules: &[Vec<Segment>], states: &mut Vec<State>, fr: &Frame, seg: &[u8]) -> ((u32, u32), bool) {
    let (a, z) = fr.states;
    if a == z {
        let l = states.len() as u32;
        return ((l, l), false);
    }
    let from = states.len();
    let hit = ignore::step(rules, states, a as usize..z as usize, seg);
    ((from as u32, states.len() as u32), hit)
}

fn index_segment(i: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut p = buf.len();
    let mut m = i;
    loop {
        p -= 1;
        buf[p] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    &buf[p..]
}

fn parse(
    input: &[u8],
    opts: &CanonicalOptions,
    rules: &[Vec<Segment>],
    b: &mut Buffers,
    mut hasher: Option<&mut Sha256>,
) -> Result<(), Fail> {
    let Buffers { out, keys, members, scratch, order, stack, states } = b;
    let has_rules = !rules.is_empty();
    // The canonical form is rarely longer than the input; growing once is cheaper
    // than doubling (and copying) a large buffer several times.
    out.reserve(input.len() + 16);
    // Only strings can hold non-ASCII bytes (the grammar rejects them elsewhere), and
    // few do: checking just those, as the SIMD scan flags them, beats a pass over
    // the whole input.
    let mut pos = if input.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    // States that apply to the value about to be read.
    let mut child: (u32, u32) = (0, 0);
    if has_rules {
        ignore::start(rules, states);
        child = (0, states.len() as u32);
    }
    let mut objects_open = 0usize;

    'value: loop {
        pos = skip_ws(input, pos);
        let Some(&c) = input.get(pos) else {
            return Err(syntax("expected a value, found the end of the input", pos));
        };
        // A scalar or an empty container falls through to the after-value loop; a
        // non-empty container pushes a frame and `continue`s.
        match c {
            b'{' | b'[' => {
                if stack.len() >= opts.max_depth {
                    return Err(fail(ErrorKind::TooDeep(opts.max_depth), pos));
                }
                let is_object = c == b'{';
                out.push(c);
                pos = skip_ws(input, pos + 1);
                let close = if is_object { b'}' } else { b']' };
                if input.get(pos) == Some(&close) {
                    out.push(close);
                    pos += 1;
                    states.truncate(child.0 as usize);
                } else {
                    let fr = Frame {
                        is_object,
                        body_start: out.len(),
                        count: 0,
                        members_start: members.len(),
                        keys_start: keys.len(),
                        sorted: true,
                        key: None,
                        key_pos: 0,
                        key_prefix: 0,
                        dropping: false,
                        member_start: 0,
                        states: child,
                    };
                    stack.push(fr);
                    if is_object {
                        objects_open += 1;
                        pos = start_member(input, pos, out, keys, stack, rules, states, &mut child)?;
                    } else if has_rules {
                        let mut ib = [0u8; 20];
                        child = step_states(rules, states, &fr, index_segment(0, &mut ib)).0;
                    }
                    continue 'value;
                }
            }
            b'"' => {
                pos = parse_string(input, pos, out, None)?.0;
                states.truncate(child.0 as usize);
            }
            b'-' | b'0'..=b'9' => {
                pos = parse_number(input, pos, opts, out)?;
                states.truncate(child.0 as usize);
            }
            b't' | b'f' | b'n' => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if !input[pos..].starts_with(word) {
                    return Err(syntax("expected a value", pos));
                }
                out.extend_from_slice(word);
                pos += word.len();
                states.truncate(child.0 as usize);
            }
            _ => return Err(syntax("expected a value", pos)),
        }

        // A value just ended: continue in the enclosing containers.
        loop {
            let Some(fr) = stack.last_mut() else {
                pos = skip_ws(input, pos);
                if pos != input.len() {
                    return Err(syntax("unexpected data after the document", pos));
                }
                return Ok(());
            };
            pos = skip_ws(input, pos);
            let next = input.get(pos).copied();
            if fr.is_object {
                // Finish the member just read.
                let key = fr.key.expect("a member has a key");
                if fr.dropping {
                    out.truncate(fr.member_start);
                } else {
                    if fr.count > 0 {
                        let prev = members.last().expect("count > 0");
                        let cur = Member { key, prefix: fr.key_prefix, at: 0, start: 0, end: 0 };
                        match cmp_members(input, keys, prev, &cur) {
                            Ordering::Less => {}
                            Ordering::Equal => {
                                let k = key_bytes(input, keys, key);
                                return Err(fail(
                                    ErrorKind::DuplicateKey(String::from_utf8_lossy(k).into_owned()),
                                    fr.key_pos,
                                ));
                            }
                            Ordering::Greater => fr.sorted = false,
                        }
                    }
                    let body = fr.member_start + usize::from(fr.count > 0);
                    members.push(Member { key, prefix: fr.key_prefix, at: fr.key_pos, start: body, end: out.len() });
                    fr.count += 1;
                }
                match next {
                    Some(b',') => {
                        pos = start_member(input, pos + 1, out, keys, stack, rules, states, &mut child)?;
                        continue 'value;
                    }
                    Some(b'}') => {
                        pos += 1;
                        let fr = *fr;
                        // A large root object of a hashed document need not be laid
                        // out sorted: its members go to the hasher in order, saving a
                        // copy (and fresh pages) of the whole output. Small ones are
                        // cheaper to copy than to feed to the hasher piece by piece.
                        let big = stack.len() == 1 && out.len() >= FLUSH_AT;
                        let h = if big { hasher.as_deref_mut() } else { None };
                        close_object(input, out, keys, members, scratch, order, &fr, h)?;
                        stack.pop();
                        objects_open -= 1;
                        states.truncate(fr.states.0 as usize);
                    }
                    _ => return Err(syntax("expected `,` or `}` after an object member", pos)),
                }
            } else {
                match next {
                    Some(b',') => {
                        pos += 1;
                        out.push(b',');
                        fr.count += 1;
                        if has_rules {
                            let mut ib = [0u8; 20];
                            let fr = *fr;
                            child = step_states(rules, states, &fr, index_segment(fr.count, &mut ib)).0;
                        }
                        if objects_open == 0 && out.len() >= FLUSH_AT {
                            if let Some(h) = hasher.as_deref_mut() {
                                h.update(&out[..]);
                                out.clear();
                            }
                        }
                        continue 'value;
                    }
                    Some(b']') => {
                        pos += 1;
                        out.push(b']');
                        let fr = stack.pop().expect("frame");
                        states.truncate(fr.states.0 as usize);
                    }
                    _ => return Err(syntax("expected `,` or `]` after an array element", pos)),
                }
            }
        }
    }
}

/// Reads `"key":` of the next member of the innermost (object) frame; returns the
/// position of its value.
#[allow(clippy::too_many_arguments)]
#[inline]
fn start_member(
    input: &[u8],
    pos: usize,
    out: &mut Vec<u8>,
    keys: &mut Vec<u8>,
    stack: &mut [Frame],
    rules: &[Vec<Segment>],
    states: &mut Vec<State>,
    child: &mut (u32, u32),
) -> Result<usize, Fail> {
    let pos = skip_ws(input, pos);
    let fr = stack.last_mut().expect("inside an object");
    if input.get(pos) != Some(&b'"') {
        return Err(syntax("expected a string key", pos));
    }
    fr.member_start = out.len();
    if fr.count > 0 {
        out.push(b',');
    }
    let (after, key) = parse_string(input, pos, out, Some(&mut *keys))?;
    fr.key = Some(key);
    fr.key_pos = pos;
    fr.key_prefix = key_prefix(key_bytes(input, keys, key));
    let after = skip_ws(input, after);
    if input.get(after) != Some(&b':') {
        return Err(syntax("expected `:` after an object key", after));
    }
    out.push(b':');
    if !rules.is_empty() {
        let f = *fr;
        let (c, hit) = step_states(rules, states, &f, key_bytes(input, keys, key));
        *child = c;
        fr.dropping = hit;
    }
    Ok(after + 1)
}

/// Emits the closing brace, sorting the members first when they arrived out of order;
/// given a hasher (the root object), feeds it the sorted object instead of `out`.
#[allow(clippy::too_many_arguments)]
fn close_object(
    input: &[u8],
    out: &mut Vec<u8>,
    keys: &mut Vec<u8>,
    members: &mut Vec<Member>,
    scratch: &mut Vec<u8>,
    order: &mut Vec<(u64, usize)>,
    fr: &Frame,
    hasher: Option<&mut Sha256>,
) -> Result<(), Fail> {
    if !fr.sorted {
        let arena: &[u8] = keys;
        let all = &members[fr.members_start..];
        // Sorting 16-byte (prefix, index) pairs moves a quarter of the bytes that
        // sorting whole members would; equal keys (an error) fall back to arrival
        // order, so the second occurrence is the one reported.
        order.clear();
        order.extend(all.iter().enumerate().map(|(i, m)| (m.prefix, i)));
        let before = |a: &(u64, usize), b: &(u64, usize)| {
            a.0.cmp(&b.0)
                .then_with(|| cmp_utf16(key_bytes(input, arena, all[a.1].key), key_bytes(input, arena, all[b.1].key)))
                .then(a.1.cmp(&b.1))
        };
        if order.len() <= 24 {
            // Most objects are small: a plain insertion sort, deciding on the prefix
            // inline, beats the library sort's setup and closure calls.
            for i in 1..order.len() {
                let cur = order[i];
                let mut j = i;
                while j > 0 {
                    let prev = order[j - 1];
                    let less = cur.0 < prev.0 || (cur.0 == prev.0 && before(&cur, &prev) == Ordering::Less);
                    if !less {
                        break;
                    }
                    order[j] = prev;
                    j -= 1;
                }
                order[j] = cur;
            }
        } else {
            order.sort_unstable_by(before);
        }
        for w in order.windows(2) {
            let (first, second) = (&all[w[0].1], &all[w[1].1]);
            if w[0].0 == w[1].0 && key_bytes(input, arena, first.key) == key_bytes(input, arena, second.key) {
                let second = *second;
                let k = key_bytes(input, arena, second.key);
                return Err(Fail {
                    kind: ErrorKind::DuplicateKey(String::from_utf8_lossy(k).into_owned()),
                    offset: second.at,
                    key: Some(second.key),
                });
            }
        }
        let base = fr.body_start;
        if let Some(h) = hasher {
            h.update(&out[..base]);
            for (i, &(_, j)) in order.iter().enumerate() {
                let m = &all[j];
                if i > 0 {
                    h.update(b",");
                }
                h.update(&out[m.start..m.end]);
            }
            h.update(b"}");
            out.clear();
            members.truncate(fr.members_start);
            keys.truncate(fr.keys_start);
            return Ok(());
        }
        if base < out.len() - base {
            // Little precedes the object (e.g. it is the root): build the whole
            // buffer afresh in `scratch` and swap, one copy instead of two.
            scratch.clear();
            scratch.reserve(out.len() + 1);
            scratch.extend_from_slice(&out[..base]);
            for (i, &(_, j)) in order.iter().enumerate() {
                let m = &all[j];
                if i > 0 {
                    scratch.push(b',');
                }
                append(scratch, out, m.start, m.end);
            }
            std::mem::swap(out, scratch);
        } else {
            scratch.clear();
            scratch.extend_from_slice(&out[base..]);
            out.truncate(base);
            for (i, &(_, j)) in order.iter().enumerate() {
                let m = &all[j];
                if i > 0 {
                    out.push(b',');
                }
                append(out, scratch, m.start - base, m.end - base);
            }
        }
    }
    out.push(b'}');
    members.truncate(fr.members_start);
    keys.truncate(fr.keys_start);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::utf8_ok;

    #[test]
    fn utf8_check_agrees_with_the_library_on_every_boundary_sequence() {
        let tails = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5,
            0xFF,
        ];
        let mut seq = Vec::with_capacity(4);
        for first in 0..=255u8 {
            for &b in &tails {
                for &c in &tails {
                    for &d in &tails {
                        for len in 1..=4 {
                            seq.clear();
                            seq.extend_from_slice(&[first, b, c, d][..len]);
                            assert_eq!(utf8_ok(&seq), std::str::from_utf8(&seq).is_ok(), "{seq:02x?}");
                        }
                    }
                }
            }
        }
        assert!(utf8_ok("Zoë Ångström ★ 🎨 設定".as_bytes()));
    }
}
