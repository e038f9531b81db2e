//! Whether a whole document is UTF-8, checked 64 bytes at a time during the
//! structure pass, so that the walk need not check its strings one by one.
//!
//! Checking each string as the walk meets it takes a branch per non-ASCII byte, and
//! in text that mixes scripts those branches go either way: about one in seven of
//! the walk's mispredicted branches. This check is branch-free: it is the lookup
//! method of Keiser and Lemire ("Validating UTF-8 in less than one instruction per
//! byte", 2021). Every byte is classified, with three 16-entry table lookups, by the
//! high nibble of the byte before it, the low nibble of the byte before it and its
//! own high nibble; a valid pair of bytes leaves no error bit set in the AND of the
//! three, except the continuation bytes of three- and four-byte sequences, which are
//! matched against the lead byte two and three places back. Blocks of ASCII cost a
//! test of their high bits.
//!
//! The lookups need SSSE3, which the x86-64 baseline lacks: without it (or on other
//! targets) the check reports nothing, and the walk checks each string as before.
//! It only ever says "all valid"; when it does not, the walk's own checks find the
//! first bad byte and name its place.
// Elsewhere the tables and the state are never used.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The running check over consecutive 64-byte blocks.
#[derive(Clone, Copy)]
pub(crate) struct Utf8Check {
    /// Whether this machine can run the check at all.
    on: bool,
    /// The last 16 bytes taken (zero after ASCII), for the pairs across a boundary.
    #[cfg(target_arch = "x86_64")]
    prev: __m128i,
    /// Nonzero where the last block ended inside a sequence: an error unless the
    /// next block continues it.
    #[cfg(target_arch = "x86_64")]
    incomplete: __m128i,
    /// The error bits found so far, OR-ed together.
    #[cfg(target_arch = "x86_64")]
    error: __m128i,
}

impl Default for Utf8Check {
    fn default() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is part of the x86_64 baseline.
            let zero = unsafe { _mm_setzero_si128() };
            Utf8Check { on: is_x86_feature_detected!("ssse3"), prev: zero, incomplete: zero, error: zero }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Utf8Check { on: false }
    }
}

impl Utf8Check {
    /// Takes the next block; `high` says whether any of its bytes is 0x80 or above.
    #[inline(always)]
    pub(crate) fn block(&mut self, block: &[u8; 64], high: bool) {
        #[cfg(target_arch = "x86_64")]
        if self.on {
            if high {
                // SAFETY: `on` is only set where SSSE3 was detected.
                unsafe { self.mixed(block) }
            } else {
                // SAFETY: SSE2 is part of the x86_64 baseline.
                unsafe {
                    // A sequence left open by the last block is cut short by ASCII.
                    self.error = _mm_or_si128(self.error, self.incomplete);
                    self.incomplete = _mm_setzero_si128();
                    // Every ASCII byte looks up the same classes as zero does.
                    self.prev = _mm_setzero_si128();
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (block, high);
    }

    /// True when every block taken so far is UTF-8 and no sequence is left open;
    /// false also when the check could not run here.
    pub(crate) fn valid(&self) -> bool {
        #[cfg(target_arch = "x86_64")]
        if self.on {
            // SAFETY: SSE2 is part of the x86_64 baseline.
            return unsafe {
                let bad = _mm_or_si128(self.error, self.incomplete);
                _mm_movemask_epi8(_mm_cmpeq_epi8(bad, _mm_setzero_si128())) == 0xFFFF
            };
        }
        false
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "ssse3")]
    unsafe fn mixed(&mut self, block: &[u8; 64]) {
        for i in 0..4 {
            // SAFETY: 16 bytes at 16 * i lie inside the 64-byte block.
            let input = unsafe { _mm_loadu_si128(block.as_ptr().add(16 * i) as *const __m128i) };
            self.error = _mm_or_si128(self.error, errors(input, self.prev));
            self.prev = input;
        }
        // Only the last three bytes can start a sequence that runs past the block.
        let mut max = [0xFF; 16];
        max[13..].copy_from_slice(&[0xEF, 0xDF, 0xBF]);
        self.incomplete = _mm_subs_epu8(self.prev, table16(max));
    }
}

// Error classes of a pair of bytes (the byte before, then this one). Bit 6 serves two
// classes that never meet: their lead bytes differ.
const TOO_SHORT: u8 = 1 << 0; // a lead byte or ASCII after a lead byte
const TOO_LONG: u8 = 1 << 1; // a continuation after ASCII
const OVERLONG_3: u8 = 1 << 2; // E0 80..9F
const TOO_LARGE: u8 = 1 << 3; // F4 90..BF, F5..FF
const SURROGATE: u8 = 1 << 4; // ED A0..BF
const OVERLONG_2: u8 = 1 << 5; // C0, C1
const TOO_LARGE_1000: u8 = 1 << 6; // F5..FF 80..8F
const OVERLONG_4: u8 = 1 << 6; // F0 80..8F
const TWO_CONTS: u8 = 1 << 7; // a continuation after a continuation
const CARRY: u8 = TOO_SHORT | TOO_LONG | TWO_CONTS;

/// The error bits of each byte of `input` (with the last bytes of `prev` before it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
#[inline]
fn errors(input: __m128i, prev: __m128i) -> __m128i {
    let nib = _mm_set1_epi8(0x0F);
    let prev1 = _mm_alignr_epi8::<15>(input, prev);
    // By the high nibble of the byte before.
    let byte_1_high = _mm_shuffle_epi8(
        table16([
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TOO_LONG,
            TWO_CONTS,
            TWO_CONTS,
            TWO_CONTS,
            TWO_CONTS,
            TOO_SHORT | OVERLONG_2,
            TOO_SHORT,
            TOO_SHORT | OVERLONG_3 | SURROGATE,
            TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
        ]),
        _mm_and_si128(_mm_srli_epi16::<4>(prev1), nib),
    );
    // By the low nibble of the byte before.
    let byte_1_low = _mm_shuffle_epi8(
        table16([
            CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
            CARRY | OVERLONG_2,
            CARRY,
            CARRY,
            CARRY | TOO_LARGE,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
            CARRY | TOO_LARGE | TOO_LARGE_1000,
        ]),
        _mm_and_si128(prev1, nib),
    );
    // By this byte's high nibble.
    let cont = TOO_LONG | OVERLONG_2 | TWO_CONTS;
    let byte_2_high = _mm_shuffle_epi8(
        table16([
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            cont | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
            cont | OVERLONG_3 | TOO_LARGE,
            cont | SURROGATE | TOO_LARGE,
            cont | SURROGATE | TOO_LARGE,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
            TOO_SHORT,
        ]),
        _mm_and_si128(_mm_srli_epi16::<4>(input), nib),
    );
    let special = _mm_and_si128(_mm_and_si128(byte_1_high, byte_1_low), byte_2_high);
    // A continuation two bytes after a three- or four-byte lead, or three after a
    // four-byte lead, is expected: the pair check above flags it as TWO_CONTS, and
    // the XOR clears exactly those (and flags a missing one).
    let prev2 = _mm_alignr_epi8::<14>(input, prev);
    let prev3 = _mm_alignr_epi8::<13>(input, prev);
    let third = _mm_subs_epu8(prev2, _mm_set1_epi8((0xE0u8 - 0x80) as i8));
    let fourth = _mm_subs_epu8(prev3, _mm_set1_epi8((0xF0u8 - 0x80) as i8));
    let must_be_cont = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8(0x80_u8 as i8));
    _mm_xor_si128(must_be_cont, special)
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn table16(t: [u8; 16]) -> __m128i {
    // SAFETY: an unaligned load of 16 bytes from a 16-byte array.
    unsafe { _mm_loadu_si128(t.as_ptr() as *const __m128i) }
}

/// Whether `input` is UTF-8, by this check alone; None where it cannot run.
#[cfg(test)]
fn check(input: &[u8]) -> Option<bool> {
    let mut c = Utf8Check::default();
    if !c.on {
        return None;
    }
    let mut blocks = input.chunks_exact(64);
    for b in &mut blocks {
        c.block(b.try_into().unwrap(), b.iter().any(|&x| x >= 0x80));
    }
    let mut last = [b' '; 64];
    let rest = blocks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    c.block(&last, rest.iter().any(|&x| x >= 0x80));
    Some(c.valid())
}

#[cfg(test)]
mod tests {
    use super::check;

    fn agrees(bytes: &[u8]) {
        let Some(got) = check(bytes) else { return };
        assert_eq!(got, std::str::from_utf8(bytes).is_ok(), "{bytes:02x?}");
    }

    /// Every pair of bytes starting at 0x80 or above, at offsets across the 16-byte
    /// lanes and the 64-byte blocks (and cut short at the end of the input), and every
    /// longer lead with each kind of byte after it, agrees with the standard library.
    #[test]
    fn agrees_with_the_library_on_every_short_sequence() {
        if check(b"").is_none() {
            eprintln!("no SSSE3 here: the walk checks strings one by one");
            return;
        }
        let mut doc = vec![b'a'; 192];
        let offsets = [0, 14, 15, 16, 62, 63, 64, 191];
        for a in 0x80..=0xFFu8 {
            for b in 0..=0xFFu8 {
                for &at in &offsets {
                    doc[at] = a;
                    if at + 1 < doc.len() {
                        doc[at + 1] = b;
                    }
                    agrees(&doc[..(at + 2).min(doc.len())]);
                    agrees(&doc);
                    doc[at] = b'a';
                    if at + 1 < doc.len() {
                        doc[at + 1] = b'a';
                    }
                }
            }
        }
        // Leads of three- and four-byte sequences (two-byte ones are done above), each
        // continuation class in third place, and ASCII, continuation or lead in fourth.
        let thirds = [0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xF0];
        for a in 0xE0..=0xFFu8 {
            for b in 0x80..=0xBFu8 {
                for &c in &thirds {
                    for d in [0x41, 0x80, 0xBF, 0xC0] {
                        for at in [14, 63] {
                            let mut doc = vec![b' '; 128];
                            doc[at..at + 4].copy_from_slice(&[a, b, c, d]);
                            agrees(&doc);
                            agrees(&doc[..at + 3]);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_the_library_on_random_text_with_random_damage() {
        if check(b"").is_none() {
            return;
        }
        let chars = ['a', ' ', 'é', 'ж', '€', '中', '\u{FFFD}', '\u{E000}', '😀', '\u{10FFFF}', '\u{7FF}', '\u{800}'];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut valid, mut total) = (0, 0);
        for n in 0..20_000 {
            let len = 1 + n % 150;
            let mut s = String::new();
            for _ in 0..len {
                s.push(chars[(next() % chars.len() as u64) as usize]);
            }
            let mut bytes = s.into_bytes();
            // Damage half of them: a byte replaced, dropped or inserted.
            if n % 2 == 1 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 3 {
                    0 => bytes[at] = next() as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, 0x80 | (next() as u8 & 0x7F)),
                }
            }
            valid += std::str::from_utf8(&bytes).is_ok() as usize;
            total += 1;
            agrees(&bytes);
        }
        assert!(valid > total / 2 && valid < total, "{valid} of {total} valid");
    }
}
