//! Where every array and object ends, found before the canonical walk.
//!
//! An object's members must come out sorted, so the walk first lists an object's
//! keys and only then writes its values. Listing the keys means stepping over each
//! member's value; for a nested container that would mean reading it once per level
//! of nesting. This pass finds every container's closing bracket in one sweep over
//! the input instead, 64 bytes at a time: quotes and backslashes tell which bytes
//! are inside strings (a quote after an odd run of backslashes is escaped; the
//! prefix XOR of the real quotes marks the string interiors), and the brackets
//! outside strings are paired with a stack.
//!
//! The result is only a shortcut: the walk still checks every byte against the
//! grammar. When the brackets do not pair up (or a string never ends) the document is
//! invalid, and the walk runs without the shortcut to find the error and its path.

use super::utf8::Utf8Check;

/// One container, numbered in document order.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Extent {
    /// Input offset of the closing bracket (while open: of the opening one).
    pub close: u32,
    /// Number of the first container that opens after this one closes.
    pub next: u32,
}

/// Inputs at least this large are scanned in two halves at once.
const SPLIT_AT: usize = 4 << 20;

/// What the pass found besides the extents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    /// The brackets outside strings pair up, every string ends, and the input fits
    /// 32-bit offsets: the extents are complete.
    pub balanced: bool,
    /// Balanced, and the whole input is known to be UTF-8 (see [`super::utf8`]).
    pub utf8: bool,
}

/// Fills `extents` with every container of `input`, in order of their opening
/// brackets, and checks that the input is UTF-8 on the way.
pub(crate) fn find_extents(
    input: &[u8],
    extents: &mut Vec<Extent>,
    open: &mut Vec<u32>,
    spare_threads: usize,
) -> Found {
    extents.clear();
    open.clear();
    if input.len() >= u32::MAX as usize {
        return Found { balanced: false, utf8: false };
    }
    if input.len() >= SPLIT_AT && spare_threads > 0 {
        if let Some(found) = find_extents_in_halves(input, extents, open) {
            return found;
        }
        extents.clear();
        open.clear();
    }
    let mut carry = Carry::default();
    let balanced =
        scan(input, 0, &mut carry, |at| pair(input, at, extents, open)) && open.is_empty() && carry.in_string == 0;
    Found { balanced, utf8: balanced && carry.utf8.valid() }
}

/// The same, scanning the second half on another thread. A raw newline never occurs
/// inside a string or after a backslash in valid JSON, so the half that starts after
/// one starts outside any string (and outside any UTF-8 sequence); when the first half
/// does not end that way the document is invalid and `None` asks for the one-thread
/// scan to say so.
fn find_extents_in_halves(input: &[u8], extents: &mut Vec<Extent>, open: &mut Vec<u32>) -> Option<Found> {
    let mid = input.len() / 2;
    let cut = mid + input[mid..].iter().position(|&c| c == b'\n')? + 1;
    let (head, tail) = input.split_at(cut);
    std::thread::scope(|scope| {
        let second = scope.spawn(move || {
            let mut found = Vec::new();
            let mut carry = Carry::default();
            scan(tail, cut as u32, &mut carry, |at| {
                found.push(at);
                true
            });
            (found, carry)
        });
        let mut carry = Carry::default();
        let first_ok = scan(head, 0, &mut carry, |at| pair(input, at, extents, open));
        let (found, tail_carry) = second.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        if carry.in_string != 0 || carry.escaped != 0 {
            return None;
        }
        let balanced = first_ok
            && found.into_iter().all(|at| pair(input, at, extents, open))
            && open.is_empty()
            && tail_carry.in_string == 0;
        Some(Found { balanced, utf8: balanced && carry.utf8.valid() && tail_carry.utf8.valid() })
    })
}

/// State carried from one 64-byte block to the next.
#[derive(Default)]
struct Carry {
    utf8: Utf8Check,
    /// The first byte of the next block is escaped by a backslash.
    escaped: u64,
    /// All ones while inside a string.
    in_string: u64,
}

/// Calls `bracket` with the input offset (`base` + position in `part`) of every
/// bracket outside strings, in order, until it returns false.
#[inline(always)]
fn scan(part: &[u8], base: u32, carry: &mut Carry, mut bracket: impl FnMut(u32) -> bool) -> bool {
    let mut blocks = part.chunks_exact(64);
    let mut at = base;
    for block in &mut blocks {
        if !step(block.try_into().expect("64 bytes"), at, carry, &mut bracket) {
            return false;
        }
        at += 64;
    }
    let rest = blocks.remainder();
    if rest.is_empty() {
        return true;
    }
    let mut last = [b' '; 64];
    last[..rest.len()].copy_from_slice(rest);
    step(&last, at, carry, &mut bracket)
}

#[inline(always)]
fn step(block: &[u8; 64], base: u32, carry: &mut Carry, bracket: &mut impl FnMut(u32) -> bool) -> bool {
    let (quotes, backslashes, brackets, high) = classify(block);
    carry.utf8.block(block, high != 0);
    let escaped = escaped_bytes(backslashes, &mut carry.escaped);
    let quotes = quotes & !escaped;
    let in_string = prefix_xor(quotes) ^ carry.in_string;
    carry.in_string = ((in_string as i64) >> 63) as u64;
    let mut m = brackets & !in_string & !escaped;
    while m != 0 {
        if !bracket(base + m.trailing_zeros()) {
            return false;
        }
        m &= m - 1;
    }
    true
}

/// Opens a container at the bracket at `at`, or closes the innermost open one;
/// false when it does not pair up.
#[inline(always)]
fn pair(input: &[u8], at: u32, ext: &mut Vec<Extent>, open: &mut Vec<u32>) -> bool {
    match input[at as usize] {
        b'{' | b'[' => {
            open.push(ext.len() as u32);
            ext.push(Extent { close: at, next: 0 });
            true
        }
        close => {
            let Some(o) = open.pop() else { return false };
            // `{` pairs with `}`, `[` with `]`: they differ by 2 in ASCII.
            if input[ext[o as usize].close as usize] + 2 != close {
                return false;
            }
            let next = ext.len() as u32;
            ext[o as usize] = Extent { close: at, next };
            true
        }
    }
}

/// Bit masks of the quotes, backslashes, brackets (`{}[]`) and bytes of 0x80 or
/// more in a block.
#[inline(always)]
fn classify(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let (mut q, mut b, mut br, mut hi) = (0u64, 0u64, 0u64, 0u64);
        // SAFETY: SSE2 is part of the x86_64 baseline; each unaligned load reads 16
        // bytes inside the 64-byte block.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let bslash = _mm_set1_epi8(b'\\' as i8);
            // `[`/`{` and `]`/`}` differ only in bit 0x20.
            let (lower, open, close) = (_mm_set1_epi8(0x20), _mm_set1_epi8(b'{' as i8), _mm_set1_epi8(b'}' as i8));
            for i in 0..4 {
                let v = _mm_loadu_si128(block.as_ptr().add(16 * i) as *const __m128i);
                let l = _mm_or_si128(v, lower);
                let bracket = _mm_or_si128(_mm_cmpeq_epi8(l, open), _mm_cmpeq_epi8(l, close));
                q |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) as u16 as u64) << (16 * i);
                b |= (_mm_movemask_epi8(_mm_cmpeq_epi8(v, bslash)) as u16 as u64) << (16 * i);
                br |= (_mm_movemask_epi8(bracket) as u16 as u64) << (16 * i);
                hi |= (_mm_movemask_epi8(v) as u16 as u64) << (16 * i);
            }
        }
        (q, b, br, hi)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (mut q, mut b, mut br, mut hi) = (0u64, 0u64, 0u64, 0u64);
        for (i, &c) in block.iter().enumerate() {
            q |= ((c == b'"') as u64) << i;
            b |= ((c == b'\\') as u64) << i;
            br |= (matches!(c | 0x20, b'{' | b'}') as u64) << i;
            hi |= ((c >= 0x80) as u64) << i;
        }
        (q, b, br, hi)
    }
}

/// The bytes escaped by a backslash: each backslash that is not itself escaped
/// escapes the next byte. Backslashes are rare, so they are walked one by one.
#[inline(always)]
fn escaped_bytes(backslashes: u64, carry: &mut u64) -> u64 {
    let mut escaped = *carry;
    *carry = 0;
    let mut m = backslashes & !escaped;
    while m != 0 {
        let i = m.trailing_zeros();
        if i == 63 {
            *carry = 1;
        } else {
            escaped |= 1 << (i + 1);
        }
        // The byte after this backslash cannot start an escape of its own.
        m &= !(3u64 << i);
    }
    escaped
}

/// Bit i of the result is the XOR of bits 0..=i of `x`.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same answer, one byte at a time. A backslash escapes the next byte
    /// outside strings too: valid JSON has none there, and the block scan does not
    /// know where strings are when it pairs backslashes.
    fn reference(input: &[u8]) -> Option<Vec<(u32, u32)>> {
        let (mut in_str, mut esc) = (false, false);
        let mut ext: Vec<(u32, u32)> = Vec::new();
        let mut open = Vec::new();
        for (i, &c) in input.iter().enumerate() {
            if esc {
                esc = false;
                continue;
            }
            if c == b'\\' {
                esc = true;
                continue;
            }
            if in_str {
                if c == b'"' {
                    in_str = false;
                }
                continue;
            }
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => {
                    open.push((ext.len(), c));
                    ext.push((i as u32, 0));
                }
                b'}' | b']' => {
                    let (o, oc) = open.pop()?;
                    if oc + 2 != c {
                        return None;
                    }
                    ext[o] = (i as u32, ext.len() as u32);
                }
                _ => {}
            }
        }
        (open.is_empty() && !in_str).then_some(ext)
    }

    #[test]
    fn agrees_with_a_byte_by_byte_scan() {
        // Short random documents over an alphabet dense in the bytes that matter,
        // long enough to cross block boundaries (escape and string carries).
        let alphabet = b"\"\"\\{}[]aa   ";
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut ext = Vec::new();
        let mut open = Vec::new();
        let (mut valid, mut total) = (0, 0);
        for n in 0..40_000 {
            let len = 1 + n % 200;
            let doc: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let want = reference(&doc);
            let ok = find_extents(&doc, &mut ext, &mut open, 0).balanced;
            assert_eq!(ok, want.is_some(), "{:?}", String::from_utf8_lossy(&doc));
            if let Some(want) = want {
                let got: Vec<(u32, u32)> = ext.iter().map(|e| (e.close, e.next)).collect();
                assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&doc));
                valid += 1;
            }
            total += 1;
        }
        // The generator must exercise both outcomes.
        assert!(valid > 300 && valid < total, "{valid} of {total} balanced");
    }

    #[test]
    fn escapes_across_block_boundaries() {
        for pad in 55..70 {
            for run in 1..5 {
                let doc = format!("[\"{}{}\"]", "x".repeat(pad), "\\".repeat(run));
                let mut ext = Vec::new();
                let ok = find_extents(doc.as_bytes(), &mut ext, &mut Vec::new(), 0).balanced;
                // An even run of backslashes leaves the quote closing the string.
                assert_eq!(ok, run % 2 == 0, "{doc}");
                let closed = format!("{doc}\"]");
                assert_eq!(
                    find_extents(closed.as_bytes(), &mut ext, &mut Vec::new(), 0).balanced,
                    run % 2 == 1,
                    "{closed}"
                );
            }
        }
    }

    #[test]
    fn two_halves_find_what_one_scan_finds() {
        let item = "  {\"s\": \"a [quoted] \\\" { string\", \"l\": [1, [2, {}]], \"t\": \"\\\\ é 🎨\"}";
        let n = (SPLIT_AT / item.len()) * 2;
        let doc = format!("[\n{}\n]", vec![item; n].join(",\n"));
        let (mut one, mut two) = (Vec::new(), Vec::new());
        assert!(find_extents(doc.as_bytes(), &mut one, &mut Vec::new(), 0).balanced);
        assert!(find_extents(doc.as_bytes(), &mut two, &mut Vec::new(), 1).balanced);
        let pairs = |e: &[Extent]| e.iter().map(|x| (x.close, x.next)).collect::<Vec<_>>();
        assert_eq!(pairs(&one), pairs(&two));
        assert_eq!(one.len(), 1 + 4 * n);
        // Both vouch for the UTF-8, and neither does once a byte of either half is bad.
        assert!(find_extents(doc.as_bytes(), &mut two, &mut Vec::new(), 1).utf8);
        for at in [doc.find('é').unwrap(), doc.rfind('🎨').unwrap() + 1] {
            let mut bad = doc.clone().into_bytes();
            bad[at] = 0xFF;
            let (a, b) =
                (find_extents(&bad, &mut one, &mut Vec::new(), 0), find_extents(&bad, &mut two, &mut Vec::new(), 1));
            assert!(a.balanced && b.balanced && !a.utf8 && !b.utf8, "byte {at}: {a:?} {b:?}");
        }
        // Unbalanced in the second half, or a raw newline inside a string where the
        // halves meet: both ways say no.
        let unbalanced = format!("{}]", doc);
        assert!(!find_extents(unbalanced.as_bytes(), &mut two, &mut Vec::new(), 1).balanced);
        let mid = doc.len() / 2;
        let broken = format!("{}\"x\n{}", &doc[..mid], &doc[mid..]);
        assert_eq!(
            find_extents(broken.as_bytes(), &mut two, &mut Vec::new(), 1).balanced,
            find_extents(broken.as_bytes(), &mut one, &mut Vec::new(), 0).balanced
        );
    }
}
