//! The canonical walk: reads a JSON document once and writes its RFC 8785 form in
//! final order, so that the output can go to SHA-256 as it is produced.
//!
//! Arrays, strings and numbers are written as they are read. An object takes two
//! steps: its members are listed first (keys decoded for comparison, scalar values
//! already put in canonical form in a small arena, nested containers stepped over
//! with the extents found beforehand by [`super::structure`]); then the list is
//! sorted by key and written out, each nested container walked in its turn. No output
//! byte moves after it is written, so a document of any size is hashed in 64 KiB
//! pieces, and every buffer lives in [`Canonicalizer`], reused across documents.
//!
//! Strings are checked for UTF-8 only when the first pass could not vouch for the
//! whole input (and then only those with non-ASCII bytes: the grammar rejects such
//! bytes anywhere else); number literals already in canonical form are copied.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

use super::ignore::{self, Segment, State};
use super::number::{self, Literal, NumberProblem};
use super::small;
use super::structure::{find_extents, Extent};
use super::{BigIntPolicy, CanonicalError, CanonicalOptions, ErrorKind};
use crate::digest::Digest;

/// One member of an object, listed before the object is written.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The key's first eight bytes in UTF-16 order: most comparisons end here.
    prefix: u64,
    /// The decoded key is `input[key..key + key_len]`, or the arena's if `key_in_arena`.
    key: u32,
    key_len: u32,
    /// Input offset of the key's opening quote.
    at: u32,
    /// A scalar's canonical bytes are `input[value..value + value_len]`, or the
    /// arena's if `value_in_arena`; a container starts at input offset `value` and
    /// is number `ordinal`.
    value: u32,
    value_len: u32,
    ordinal: u32,
    key_in_arena: bool,
    value_in_arena: bool,
    container: bool,
}

/// Reusable buffers, so that hashing many documents allocates once.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    out: Vec<u8>,
    /// Decoded keys with escapes, and the canonical scalars of objects being listed.
    arena: Vec<u8>,
    entries: Vec<Entry>,
    states: Vec<State>,
    extents: Vec<Extent>,
    open: Vec<u32>,
    small: small::Scratch,
}

impl Buffers {
    /// Bytes held, roughly.
    pub(crate) fn capacity(&self) -> usize {
        self.out.capacity()
            + self.arena.capacity()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.states.capacity() * std::mem::size_of::<State>()
            + self.extents.capacity() * std::mem::size_of::<Extent>()
            + self.open.capacity() * 4
            + self.small.capacity()
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

/// A step of the path to a failure.
enum Seg {
    Key(Vec<u8>),
    Index(usize),
}

/// An internal failure: what, where in the input, and the path, innermost first
/// (each level of the walk adds its step as the error passes through it).
pub(super) struct Fail {
    kind: ErrorKind,
    offset: usize,
    path: Vec<Seg>,
}

/// Boxed, so that a result stays two words wide on the hot path.
pub(super) type Res<T> = Result<T, Box<Fail>>;

/// A piece of a large array, walked on its own: where it ended, and its output.
type Walked = (Res<usize>, Vec<u8>);

fn fail(kind: ErrorKind, offset: usize) -> Box<Fail> {
    Box::new(Fail { kind, offset, path: Vec::new() })
}

fn syntax(msg: &str, offset: usize) -> Box<Fail> {
    fail(ErrorKind::Syntax(msg.to_string()), offset)
}

fn in_index(mut f: Box<Fail>, i: usize) -> Box<Fail> {
    f.path.push(Seg::Index(i));
    f
}

fn in_key(mut f: Box<Fail>, key: &[u8]) -> Box<Fail> {
    f.path.push(Seg::Key(key.to_vec()));
    f
}

/// Output size at which the output is handed to the hasher.
const FLUSH_AT: usize = 1 << 16;

/// Arrays at least this large (in input bytes) are walked in parts on several
/// threads: starting a thread costs tens of microseconds, a mebibyte of JSON
/// several milliseconds.
const SPLIT_AT: usize = 1 << 20;

/// A large array is cut into this many pieces per thread, taken in turn.
const PIECES_PER_THREAD: usize = 4;

/// Threads beside the caller's that may walk parts of a large array: one per
/// further core, at most three.
pub(crate) fn spare_threads() -> usize {
    static SPARE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SPARE.get_or_init(|| std::thread::available_parallelism().map_or(0, |n| n.get().min(4) - 1))
}

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
        // The canonical form is rarely longer than the input; growing once is cheaper
        // than doubling (and copying) a large buffer several times.
        out.reserve(input.len() + 16);
        std::mem::swap(out, &mut self.buf.out);
        let r = self.run(input, None, false);
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

    /// The digest of the canonical form of `input`, whose UTF-8 the type vouches for,
    /// so that its strings are not checked again (a binding's transcoded text).
    pub fn hash_str(&mut self, input: &str) -> Result<Digest, CanonicalError> {
        let mut h = Sha256::new();
        self.hash_with(input.as_bytes(), &mut h, true)?;
        Ok(Digest::from_hasher(h))
    }

    /// Feeds the canonical form of `input` to a running SHA-256.
    ///
    /// On error the hasher may have been fed part of the document.
    pub fn hash_into(&mut self, input: &[u8], hasher: &mut Sha256) -> Result<(), CanonicalError> {
        self.hash_with(input, hasher, false)
    }

    fn hash_with(&mut self, input: &[u8], hasher: &mut Sha256, utf8: bool) -> Result<(), CanonicalError> {
        self.buf.out.clear();
        self.buf.out.reserve(input.len().min(2 * FLUSH_AT) + 64);
        let r = self.run(input, Some(hasher), utf8);
        if r.is_ok() {
            hasher.update(&self.buf.out);
        }
        self.buf.out.clear();
        r
    }

    /// `utf8`: the caller vouches that `input` is UTF-8.
    fn run(&mut self, input: &[u8], hasher: Option<&mut Sha256>, utf8: bool) -> Result<(), CanonicalError> {
        let b = &mut self.buf;
        if input.len() <= small::MAX
            && self.opts.ignore.is_empty()
            && small::canonicalize(input, self.opts, utf8, &mut b.out, &mut b.small)
        {
            return Ok(());
        }
        b.arena.clear();
        b.entries.clear();
        b.states.clear();
        let rules = self.opts.ignore.compiled();
        parse(input, self.opts, rules, b, hasher, utf8).map_err(|f| {
            let mut path = String::new();
            for seg in f.path.iter().rev() {
                match seg {
                    Seg::Key(k) => push_segment(&mut path, k),
                    Seg::Index(i) => {
                        path.push('/');
                        path.push_str(&i.to_string());
                    }
                }
            }
            let mut e = CanonicalError::new(path, f.kind);
            e.offset = Some(f.offset);
            e
        })
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

/// The decoded key of an entry.
#[inline(always)]
fn key_of<'a>(input: &'a [u8], arena: &'a [u8], e: &Entry) -> &'a [u8] {
    let (s, n) = (e.key as usize, e.key_len as usize);
    if e.key_in_arena {
        &arena[s..s + n]
    } else {
        &input[s..s + n]
    }
}

/// Key order: RFC 8785's, then arrival, so that of two equal keys the later one
/// comes second (and is the one reported).
#[inline(always)]
fn entry_order(input: &[u8], arena: &[u8], a: &Entry, b: &Entry) -> Ordering {
    match a.prefix.cmp(&b.prefix) {
        Ordering::Equal => cmp_utf16(key_of(input, arena, a), key_of(input, arena, b)).then(a.at.cmp(&b.at)),
        other => other,
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

/// The first eight bytes of the key `src[start..start + len]` as a big-endian
/// number whose order is UTF-16 order: lead bytes of supplementary characters
/// (F0..F4) are moved below those of U+E000..U+FFFF (EE, EF). Neither ever occurs as
/// a continuation byte, so the remap cannot disturb comparisons inside a character.
#[inline(always)]
pub(super) fn key_prefix(src: &[u8], start: usize, len: usize) -> u64 {
    let n = len.min(8);
    let v = match src.get(start..start + 8) {
        // One load, the bytes past the key masked off (`len` 0 masks everything).
        Some(b) => {
            u64::from_be_bytes(b.try_into().expect("8 bytes")) & !(u64::MAX.checked_shr(n as u32 * 8).unwrap_or(0))
        }
        None => {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&src[start..start + n]);
            u64::from_be_bytes(b)
        }
    };
    if v & 0x8080_8080_8080_8080 == 0 {
        // ASCII: nothing to remap.
        return v;
    }
    let mut b = v.to_be_bytes();
    for x in &mut b[..n] {
        *x = match *x {
            0xEE | 0xEF => *x + 5,
            0xF0..=0xF4 => *x - 2,
            other => other,
        };
    }
    u64::from_be_bytes(b)
}

#[inline]
pub(super) fn skip_ws(input: &[u8], mut pos: usize) -> usize {
    match input.get(pos) {
        Some(&c) if c > b' ' => return pos,
        None => return pos,
        _ => {}
    }
    // A single space, as after a colon in pretty-printed JSON.
    if input[pos] == b' ' && input.get(pos + 1).is_some_and(|&c| c > b' ') {
        return pos + 1;
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

/// Finds the first `"`, `\` or control byte at or after `i`; also says, when strings
/// are checked for UTF-8, whether a non-ASCII byte may occur before it.
#[inline(always)]
fn scan_plain(input: &[u8], i: usize, check_utf8: bool) -> (usize, bool) {
    // Two copies, so that the unchecked one does not track non-ASCII bytes.
    if check_utf8 {
        scan_plain_::<true>(input, i)
    } else {
        scan_plain_::<false>(input, i)
    }
}

#[inline(always)]
fn scan_plain_<const HIGH: bool>(input: &[u8], mut i: usize) -> (usize, bool) {
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
                    high |= HIGH && h & ((1u32 << idx) - 1) != 0;
                    return (i + idx as usize, high);
                }
                high |= HIGH && h != 0;
                i += 16;
            }
        }
    }
    while let Some(&c) = input.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        high |= HIGH && c >= 0x80;
        i += 1;
    }
    (i, high)
}

fn check_utf8_at(seg: &[u8], offset: usize) -> Res<()> {
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

/// The value of each byte as a hex digit (either case), or 0xFF.
const HEX_VALUE: [u8; 256] = crate::digest::hex_values(true);

/// The four hex digits at `pos`, looked up rather than matched: in text full of
/// `\u` escapes a branch per digit class is a coin toss.
#[inline]
fn hex4(input: &[u8], pos: usize) -> Res<u32> {
    let Some(h) = input.get(pos..pos + 4) else {
        return Err(syntax("truncated \\u escape", pos));
    };
    let [a, b, c, d] = [h[0], h[1], h[2], h[3]].map(|x| HEX_VALUE[x as usize]);
    if (a | b | c | d) & 0xF0 != 0 {
        let i = [a, b, c, d].iter().position(|&v| v == 0xFF).unwrap_or(0);
        return Err(syntax("\\u must be followed by four hex digits", pos + i));
    }
    Ok(u32::from(a) << 12 | u32::from(b) << 8 | u32::from(c) << 4 | u32::from(d))
}

/// Appends `src[from..to]`. Most strings and members are short, and a fixed-size
/// 32-byte move beats a `memcpy` call for them, when both buffers have room for it.
#[inline(always)]
pub(super) fn append(dst: &mut Vec<u8>, src: &[u8], from: usize, to: usize) {
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

/// Appends `s` (UTF-8) with JCS's minimal escaping, without the quotes.
pub(crate) fn write_escaped(out: &mut Vec<u8>, s: &[u8]) {
    let mut plain = 0;
    for (i, &c) in s.iter().enumerate() {
        // Every byte that needs an escape is ASCII, so bytes can be looked at alone.
        if c < 0x20 || c == b'"' || c == b'\\' {
            out.extend_from_slice(&s[plain..i]);
            push_char(out, c as char);
            plain = i + 1;
        }
    }
    out.extend_from_slice(&s[plain..]);
}

/// Reads the string starting at the quote at `pos`; returns the position after the
/// closing quote, and whether its canonical form differs from the input (and was
/// then appended to `out`).
#[inline(always)]
fn parse_string(input: &[u8], pos: usize, check_utf8: bool, out: &mut Vec<u8>) -> Res<(usize, bool)> {
    let start = pos + 1;
    let (end, high) = scan_plain(input, start, check_utf8);
    if input.get(end) == Some(&b'"') {
        // Nothing to escape: the input is canonical.
        if high {
            check_utf8_at(&input[start..end], start)?;
        }
        return Ok((end + 1, false));
    }
    out.push(b'"');
    Ok((string_slow(input, start, end, high, check_utf8, true, out)?, true))
}

/// Reads the key starting at the quote at `pos`. Its decoded bytes stay in the
/// input when it has no escapes, else they are appended to `arena`. Returns the
/// position after the closing quote, where the key is, and whether in the arena.
#[inline(always)]
pub(super) fn parse_key(
    input: &[u8],
    pos: usize,
    check_utf8: bool,
    arena: &mut Vec<u8>,
) -> Res<(usize, usize, usize, bool)> {
    let start = pos + 1;
    let (end, high) = scan_plain(input, start, check_utf8);
    if input.get(end) == Some(&b'"') {
        if high {
            check_utf8_at(&input[start..end], start)?;
        }
        return Ok((end + 1, start, end - start, false));
    }
    let from = arena.len();
    let after = string_slow(input, start, end, high, check_utf8, false, arena)?;
    Ok((after, from, arena.len() - from, true))
}

/// The rest of a string from `end`, the first byte the fast scan stopped at: writes
/// the canonical form (closing quote included) or, for keys, the decoded bytes.
#[cold]
fn string_slow(
    input: &[u8],
    start: usize,
    mut end: usize,
    mut high: bool,
    check_utf8: bool,
    canonical: bool,
    dst: &mut Vec<u8>,
) -> Res<usize> {
    let mut seg = start;
    loop {
        if high {
            check_utf8_at(&input[seg..end], seg)?;
        }
        dst.extend_from_slice(&input[seg..end]);
        let Some(&c) = input.get(end) else {
            return Err(syntax("unterminated string", start - 1));
        };
        match c {
            b'"' => {
                if canonical {
                    dst.push(b'"');
                }
                return Ok(end + 1);
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
                if canonical {
                    push_char(dst, ch);
                } else {
                    let mut tmp = [0u8; 4];
                    dst.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                }
                seg = next;
            }
            _ => return Err(syntax("control character in string must be escaped", end)),
        }
        (end, high) = scan_plain(input, seg, check_utf8);
    }
}

/// Reads the string, number or literal at `pos`; returns its end, and whether its
/// canonical form differs from the input (and was then appended to `dst`).
#[inline(always)]
fn scalar_at(
    input: &[u8],
    pos: usize,
    opts: &CanonicalOptions,
    check_utf8: bool,
    dst: &mut Vec<u8>,
) -> Res<(usize, bool)> {
    match input.get(pos) {
        Some(b'"') => parse_string(input, pos, check_utf8, dst),
        Some(b'-' | b'0'..=b'9') => parse_number(input, pos, opts, dst),
        Some(&c @ (b't' | b'f' | b'n')) => {
            let word: &[u8] = match c {
                b't' => b"true",
                b'f' => b"false",
                _ => b"null",
            };
            if !input[pos..].starts_with(word) {
                return Err(syntax("expected a value", pos));
            }
            Ok((pos + word.len(), false))
        }
        None => Err(syntax("expected a value, found the end of the input", pos)),
        Some(_) => Err(syntax("expected a value", pos)),
    }
}

/// Reads the scalar at `pos` and writes its canonical form to `out`; returns its end.
#[inline(always)]
pub(super) fn scalar(
    input: &[u8],
    pos: usize,
    opts: &CanonicalOptions,
    check_utf8: bool,
    out: &mut Vec<u8>,
) -> Res<usize> {
    let (end, rewritten) = scalar_at(input, pos, opts, check_utf8, out)?;
    if !rewritten {
        append(out, input, pos, end);
    }
    Ok(end)
}

/// The position of the first byte at or after `i` that is not an ASCII digit,
/// looking at eight bytes at a time: numbers are short, and a loop that stops at an
/// unpredictable length costs a mispredicted branch per run of digits.
#[inline(always)]
fn skip_digits(input: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    while let Some(b) = input.get(i..i + 8) {
        let v = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        // A digit is 0x30..=0x39: high nibble 3, and still 3 after adding 6. A carry
        // out of a byte (only from 0xFA and up, not a digit) can only disturb the
        // bytes after the first non-digit, which are not looked at.
        let high = v & (ONES * 0xF0);
        let bumped = v.wrapping_add(ONES * 0x06) & (ONES * 0xF0);
        let not_digit = (high ^ (ONES * 0x30)) | (bumped ^ (ONES * 0x30));
        if not_digit != 0 {
            return i + (not_digit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while matches!(input.get(i), Some(b'0'..=b'9')) {
        i += 1;
    }
    i
}

/// Reads the number at `pos`; returns its end, and whether its canonical form
/// differs from the input (and was then appended to `out`).
#[inline(always)]
fn parse_number(input: &[u8], pos: usize, opts: &CanonicalOptions, out: &mut Vec<u8>) -> Res<(usize, bool)> {
    let mut i = pos;
    let neg = input[i] == b'-';
    if neg {
        i += 1;
    }
    let int_start = i;
    match input.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = skip_digits(input, i + 1),
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
        i = skip_digits(input, i);
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
    if number::is_canonical(&lit) || number::is_shortest(&lit) {
        return Ok((i, false));
    }
    match number::write_literal(out, &lit) {
        Ok(()) => Ok((i, true)),
        Err(NumberProblem::NonFinite) => Err(fail(ErrorKind::NonFinite, pos)),
        Err(NumberProblem::BigInteger) => match opts.big_integers {
            BigIntPolicy::KeepAsString => {
                out.push(b'"');
                out.extend_from_slice(lit.text);
                out.push(b'"');
                Ok((i, true))
            }
            BigIntPolicy::Error => {
                Err(fail(ErrorKind::BigInteger(String::from_utf8_lossy(lit.text).into_owned()), pos))
            }
        },
    }
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

/// Steps the ignore states `range` over one child segment; returns the child's
/// states and whether the child itself is ignored.
#[inline(always)]
fn step_states(rules: &[Vec<Segment>], states: &mut Vec<State>, range: (u32, u32), seg: &[u8]) -> ((u32, u32), bool) {
    let (a, z) = range;
    if a == z {
        let l = states.len() as u32;
        return ((l, l), false);
    }
    let from = states.len();
    let hit = ignore::step(rules, states, a as usize..z as usize, seg);
    ((from as u32, states.len() as u32), hit)
}

fn parse(
    input: &[u8],
    opts: &CanonicalOptions,
    rules: &[Vec<Segment>],
    b: &mut Buffers,
    hasher: Option<&mut Sha256>,
    utf8: bool,
) -> Res<()> {
    if input.len() >= u32::MAX as usize {
        return Err(syntax("documents of 4 GiB or more are not supported", 0));
    }
    let Buffers { out, arena, entries, states, extents, open, .. } = b;
    let spare = if input.len() >= SPLIT_AT { spare_threads() } else { 0 };
    let found = find_extents(input, extents, open, spare);
    let mut root = (0, 0);
    if !rules.is_empty() {
        ignore::start(rules, states);
        root = (0, states.len() as u32);
    }
    let mut walk = Walk {
        input,
        opts,
        rules,
        extents: if found.balanced { extents } else { &[] },
        check_utf8: !(utf8 || found.utf8),
        out,
        arena,
        entries,
        states,
        hasher,
        depth: 0,
        discarding: 0,
        spare_threads: spare,
    };
    let start = if input.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let end = walk.value(skip_ws(input, start), 0, root)?;
    let end = skip_ws(input, end);
    if end != input.len() {
        return Err(syntax("unexpected data after the document", end));
    }
    Ok(())
}

/// The walk over one document.
struct Walk<'a, 'h> {
    input: &'a [u8],
    opts: &'a CanonicalOptions,
    rules: &'a [Vec<Segment>],
    /// Every container's extent; empty when the brackets do not pair up, and then
    /// containers are stepped over by walking them.
    extents: &'a [Extent],
    /// Whether strings must be checked for UTF-8 (the structure pass could not
    /// vouch for the whole input).
    check_utf8: bool,
    out: &'a mut Vec<u8>,
    arena: &'a mut Vec<u8>,
    entries: &'a mut Vec<Entry>,
    states: &'a mut Vec<State>,
    hasher: Option<&'h mut Sha256>,
    /// Containers open around the current position.
    depth: usize,
    /// Above zero while walking a value only to check it (a dropped member): its
    /// output is taken back afterwards, so it must not reach the hasher.
    discarding: usize,
    /// Threads that may still be started to walk the parts of a large array.
    spare_threads: usize,
}

impl Walk<'_, '_> {
    /// Walks the value at `pos`, which is container number `ord` if it is one;
    /// `states` are the ignore states for its children. Returns its end.
    fn value(&mut self, pos: usize, ord: u32, states: (u32, u32)) -> Res<usize> {
        match self.input.get(pos) {
            Some(b'{') => self.object(pos, ord, states),
            Some(b'[') => self.array(pos, ord, states),
            _ => scalar(self.input, pos, self.opts, self.check_utf8, self.out),
        }
    }

    /// Checks the value at `pos` without keeping its output; returns its end.
    fn check(&mut self, pos: usize, ord: u32) -> Res<usize> {
        let mark = self.out.len();
        self.discarding += 1;
        let r = self.value(pos, ord, (0, 0));
        self.discarding -= 1;
        self.out.truncate(mark);
        r
    }

    /// The number of the first container after container `ord`.
    #[inline]
    fn after(&self, ord: u32) -> u32 {
        self.extents.get(ord as usize).map_or(0, |e| e.next)
    }

    #[inline]
    fn enter(&mut self, pos: usize) -> Res<()> {
        if self.depth >= self.opts.max_depth {
            return Err(fail(ErrorKind::TooDeep(self.opts.max_depth), pos));
        }
        self.depth += 1;
        Ok(())
    }

    /// Hands the output so far to the hasher once there is enough of it.
    #[inline(always)]
    fn flush(&mut self) {
        if self.out.len() >= FLUSH_AT && self.discarding == 0 {
            if let Some(h) = self.hasher.as_deref_mut() {
                h.update(&self.out[..]);
                self.out.clear();
            }
        }
    }

    fn array(&mut self, open: usize, ord: u32, states: (u32, u32)) -> Res<usize> {
        self.enter(open)?;
        let input = self.input;
        self.out.push(b'[');
        let pos = skip_ws(input, open + 1);
        if input.get(pos) == Some(&b']') {
            self.out.push(b']');
            self.depth -= 1;
            return Ok(pos + 1);
        }
        let next = ord.wrapping_add(1);
        let large = self.extents.get(ord as usize).is_some_and(|e| e.close as usize - open >= SPLIT_AT);
        let end = if large && self.spare_threads > 0 && self.discarding == 0 {
            self.elements_in_parallel(pos, next, states)?
        } else {
            self.elements(pos, next, 0, usize::MAX, states)?
        };
        self.depth -= 1;
        Ok(end)
    }

    /// Walks array elements from `pos`, element number `i` (with `next` the number
    /// of the first container from there), until the array ends or `count` elements
    /// are done; returns the position after the `]`, or after the last element's `,`.
    fn elements(
        &mut self,
        mut pos: usize,
        mut next: u32,
        mut i: usize,
        count: usize,
        states: (u32, u32),
    ) -> Res<usize> {
        let input = self.input;
        let stop = i.saturating_add(count);
        loop {
            let r = if matches!(input.get(pos), Some(b'{' | b'[')) {
                let mark = self.states.len();
                let child = if states.0 == states.1 {
                    (mark as u32, mark as u32)
                } else {
                    let mut ib = [0u8; 20];
                    step_states(self.rules, self.states, states, index_segment(i, &mut ib)).0
                };
                let r = self.value(pos, next, child);
                self.states.truncate(mark);
                next = self.after(next);
                r
            } else {
                scalar(input, pos, self.opts, self.check_utf8, self.out)
            };
            pos = match r {
                Ok(end) => skip_ws(input, end),
                Err(f) => return Err(in_index(f, i)),
            };
            match input.get(pos) {
                Some(b',') => {
                    self.out.push(b',');
                    self.flush();
                    pos = skip_ws(input, pos + 1);
                    i += 1;
                    if i == stop {
                        return Ok(pos);
                    }
                }
                Some(b']') => {
                    self.out.push(b']');
                    return Ok(pos + 1);
                }
                _ => return Err(in_index(syntax("expected `,` or `]` after an array element", pos), i)),
            }
        }
    }

    /// Walks the elements of a large array in pieces that every core takes in turn
    /// (so that a thread on a busier core simply takes fewer), and writes their
    /// outputs in order, as soon as each is done. Every piece is walked as
    /// [`Walk::elements`] would; an error is the one of the first failing piece, so
    /// the same as a single thread reports.
    fn elements_in_parallel(&mut self, pos: usize, next: u32, states: (u32, u32)) -> Res<usize> {
        let input = self.input;
        let wanted = (self.spare_threads + 1) * PIECES_PER_THREAD;
        // Where each piece starts: (position, first container number, element number),
        // found by stepping over elements (containers through their extents).
        let mut starts = vec![(pos, next, 0usize)];
        let close = self.extents.get(next.wrapping_sub(1) as usize).map_or(pos, |e| e.close as usize);
        let share = (close - pos) / wanted;
        let (mut p, mut o, mut i) = (pos, next, 0);
        let mut scratch = Vec::new();
        while starts.len() < wanted {
            let end = match input.get(p) {
                Some(b'{' | b'[') => match self.extents.get(o as usize) {
                    Some(x) => {
                        o = x.next;
                        x.close as usize + 1
                    }
                    None => break,
                },
                _ => match scalar_at(input, p, self.opts, self.check_utf8, &mut scratch) {
                    Ok((end, _)) => end,
                    // Left for the walk to report, in its place.
                    Err(_) => break,
                },
            };
            scratch.clear();
            let q = skip_ws(input, end);
            if input.get(q) != Some(&b',') {
                break;
            }
            p = skip_ws(input, q + 1);
            i += 1;
            if p - pos >= share * starts.len() {
                starts.push((p, o, i));
            }
        }
        if starts.len() < 2 {
            return self.elements(pos, next, 0, usize::MAX, states);
        }
        let pieces = starts.len();
        let (opts, rules, extents, depth, check_utf8) =
            (self.opts, self.rules, self.extents, self.depth, self.check_utf8);
        // Every piece's elements step from the ignore states of this array's children.
        let inherited: Vec<State> = self.states[..states.1 as usize].to_vec();
        let done: Vec<Mutex<Option<Walked>>> = (0..pieces).map(|_| Mutex::new(None)).collect();
        let taken = AtomicUsize::new(0);
        // Pieces after a failing one need not be walked.
        let first_bad = AtomicUsize::new(usize::MAX);
        // Takes the next piece, if any is left, walks it and files its output.
        let take = |b: &mut Buffers| -> bool {
            let k = taken.fetch_add(1, AtomicOrdering::Relaxed);
            if k >= pieces || k > first_bad.load(AtomicOrdering::Relaxed) {
                return false;
            }
            let (p, o, i) = starts[k];
            let count = starts.get(k + 1).map_or(usize::MAX, |s| s.2 - i);
            b.states.clear();
            b.states.extend_from_slice(&inherited);
            // Room for the output up front (rarely longer than the input; memory is
            // only committed as written), so that it does not move as it grows.
            let mut out = Vec::with_capacity(starts.get(k + 1).map_or(close, |s| s.0) - p + 64);
            let Buffers { arena, entries, states: st, .. } = b;
            let mut w = Walk {
                input,
                opts,
                rules,
                extents,
                check_utf8,
                out: &mut out,
                arena,
                entries,
                states: st,
                hasher: None,
                depth,
                discarding: 0,
                spare_threads: 0,
            };
            let r = w.elements(p, o, i, count, states);
            if r.is_err() {
                first_bad.fetch_min(k, AtomicOrdering::Relaxed);
            }
            *done[k].lock().unwrap_or_else(|e| e.into_inner()) = Some((r, out));
            true
        };
        std::thread::scope(|scope| {
            let take = &take;
            let workers: Vec<_> = (0..self.spare_threads)
                .map(|_| {
                    scope.spawn(move || {
                        let mut b = Buffers::default();
                        while take(&mut b) {}
                    })
                })
                .collect();
            let mut b = Buffers::default();
            let (mut handed, mut end) = (0, pos);
            let mut workers = Some(workers);
            loop {
                let more = take(&mut b);
                if !more {
                    // Nothing left to take: wait for the pieces still being walked.
                    for w in workers.take().into_iter().flatten() {
                        w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    }
                }
                // Hand on, in order, every piece that is done.
                while handed < pieces {
                    let Some((r, out)) = done[handed].lock().unwrap_or_else(|e| e.into_inner()).take() else {
                        break;
                    };
                    end = r?;
                    self.write_piece(&out);
                    handed += 1;
                }
                if handed == pieces {
                    return Ok(end);
                }
                // Once all workers are joined, every piece up to the first failing one
                // is done, and the failing one returned above.
                assert!(more, "a piece before the first failing one was not walked");
            }
        })
    }

    /// Appends the output of a piece walked on its own (straight to the hasher when
    /// hashing, after what is pending).
    fn write_piece(&mut self, piece: &[u8]) {
        match self.hasher.as_deref_mut() {
            Some(h) => {
                h.update(&self.out[..]);
                self.out.clear();
                h.update(piece);
            }
            None => self.out.extend_from_slice(piece),
        }
    }

    fn object(&mut self, open: usize, ord: u32, states: (u32, u32)) -> Res<usize> {
        self.enter(open)?;
        let input = self.input;
        let pos = skip_ws(input, open + 1);
        if input.get(pos) == Some(&b'}') {
            self.out.extend_from_slice(b"{}");
            self.depth -= 1;
            return Ok(pos + 1);
        }
        let first = self.entries.len();
        let arena_mark = self.arena.len();
        let end = self.list_members(pos, ord)?;
        let last = self.entries.len();
        self.sort_members(first)?;

        self.out.push(b'{');
        let mut written = 0;
        for i in first..last {
            let e = self.entries[i];
            let mark = self.states.len();
            let key = key_of(input, self.arena, &e);
            let (child, dropped) = step_states(self.rules, self.states, states, key);
            if dropped {
                // Scalars were checked while listing; a container is checked now.
                if e.container {
                    self.check(e.value as usize, e.ordinal).map_err(|f| in_key(f, key_of(input, self.arena, &e)))?;
                }
                self.states.truncate(mark);
                continue;
            }
            if written > 0 {
                self.out.push(b',');
            }
            written += 1;
            if e.key_in_arena {
                self.out.push(b'"');
                write_escaped(self.out, key_of(input, self.arena, &e));
                self.out.extend_from_slice(b"\":");
            } else {
                append(self.out, input, e.at as usize, (e.key + e.key_len) as usize + 1);
                self.out.push(b':');
            }
            if e.container {
                if let Err(f) = self.value(e.value as usize, e.ordinal, child) {
                    return Err(in_key(f, key_of(input, self.arena, &e)));
                }
            } else {
                let src: &[u8] = if e.value_in_arena { self.arena } else { input };
                append(self.out, src, e.value as usize, (e.value + e.value_len) as usize);
            }
            self.states.truncate(mark);
            self.flush();
        }
        self.out.push(b'}');
        self.entries.truncate(first);
        self.arena.truncate(arena_mark);
        self.depth -= 1;
        Ok(end)
    }

    /// Lists the members of the object whose first key is at `pos`: keys decoded,
    /// scalars canonical in the arena, containers stepped over. Returns the end of
    /// the object.
    fn list_members(&mut self, mut pos: usize, ord: u32) -> Res<usize> {
        let input = self.input;
        let mut next = ord.wrapping_add(1);
        loop {
            if input.get(pos) != Some(&b'"') {
                return Err(syntax("expected a string key", pos));
            }
            let (after, key, key_len, key_in_arena) = parse_key(input, pos, self.check_utf8, self.arena)?;
            let mut e = Entry {
                prefix: 0,
                key: key as u32,
                key_len: key_len as u32,
                at: pos as u32,
                value: 0,
                value_len: 0,
                ordinal: 0,
                key_in_arena,
                value_in_arena: false,
                container: false,
            };
            e.prefix =
                if key_in_arena { key_prefix(self.arena, key, key_len) } else { key_prefix(input, key, key_len) };
            pos = skip_ws(input, after);
            if input.get(pos) != Some(&b':') {
                let f = syntax("expected `:` after an object key", pos);
                return Err(in_key(f, key_of(input, self.arena, &e)));
            }
            pos = skip_ws(input, pos + 1);
            let r = if matches!(input.get(pos), Some(b'{' | b'[')) {
                e.container = true;
                e.value = pos as u32;
                e.ordinal = next;
                match self.extents.get(next as usize) {
                    Some(x) => {
                        next = x.next;
                        Ok(x.close as usize + 1)
                    }
                    // No extents: the document is invalid somewhere, and walking
                    // the value is what finds out where.
                    None => self.check(pos, next),
                }
            } else {
                let from = self.arena.len();
                scalar_at(input, pos, self.opts, self.check_utf8, self.arena).map(|(end, rewritten)| {
                    (e.value, e.value_len) = if rewritten {
                        (from as u32, (self.arena.len() - from) as u32)
                    } else {
                        (pos as u32, (end - pos) as u32)
                    };
                    e.value_in_arena = rewritten;
                    end
                })
            };
            pos = match r {
                Ok(end) => skip_ws(input, end),
                Err(f) => return Err(in_key(f, key_of(input, self.arena, &e))),
            };
            self.entries.push(e);
            match input.get(pos) {
                Some(b',') => pos = skip_ws(input, pos + 1),
                Some(b'}') => return Ok(pos + 1),
                _ => {
                    let f = syntax("expected `,` or `}` after an object member", pos);
                    return Err(in_key(f, key_of(input, self.arena, &e)));
                }
            }
        }
    }

    /// Sorts the entries from `first` on by key; a key given twice is an error
    /// naming its later occurrence.
    fn sort_members(&mut self, first: usize) -> Res<()> {
        let (input, arena) = (self.input, &self.arena[..]);
        let list = &mut self.entries[first..];
        let before = |a: &Entry, b: &Entry| entry_order(input, arena, a, b) == Ordering::Less;
        if list.windows(2).all(|w| before(&w[0], &w[1])) {
            // Already in order (duplicates included: arrival order breaks their tie).
        } else if list.len() <= 24 {
            // Most objects are small: an insertion sort beats the library's setup.
            for i in 1..list.len() {
                let cur = list[i];
                let mut j = i;
                while j > 0 && before(&cur, &list[j - 1]) {
                    list[j] = list[j - 1];
                    j -= 1;
                }
                list[j] = cur;
            }
        } else {
            list.sort_unstable_by(|a, b| entry_order(input, arena, a, b));
        }
        for w in list.windows(2) {
            if w[0].prefix == w[1].prefix && key_of(input, arena, &w[0]) == key_of(input, arena, &w[1]) {
                let k = key_of(input, arena, &w[1]);
                let f = fail(ErrorKind::DuplicateKey(String::from_utf8_lossy(k).into_owned()), w[1].at as usize);
                return Err(in_key(f, k));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{skip_digits, utf8_ok};

    #[test]
    fn digit_runs_end_at_the_first_non_digit_byte() {
        for len in 0..20 {
            for stop in 0..=255u8 {
                let mut s = vec![b'7'; len];
                s.push(stop);
                s.extend_from_slice(b"123456789");
                let want = if stop.is_ascii_digit() { len + 1 + 9 } else { len };
                assert_eq!(skip_digits(&s, 0), want, "{len} digits then {stop:#x}");
            }
        }
    }

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
