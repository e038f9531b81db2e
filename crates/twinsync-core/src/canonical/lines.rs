//! JSON Lines: one digest per record, records hashed on every core.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::parse::spare_threads;
use super::{CanonicalError, CanonicalOptions, Canonicalizer};
use crate::digest::Digest;

/// A JSON Lines record that could not be canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct LineError {
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong with the record.
    pub error: CanonicalError,
}

/// Digests of the records of a JSON Lines document, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineDigests {
    /// One digest per record (blank lines are not records), up to the first bad one.
    pub digests: Vec<Digest>,
    /// The first record that is not valid JSON, if any: records after it are not read.
    pub error: Option<LineError>,
}

/// Inputs at least this large are split between threads.
const SPLIT_AT: usize = 256 << 10;

/// Records are handed to threads in pieces of about this many bytes, taken in turn,
/// so that a thread on a busier core simply takes fewer of them.
const PIECE: usize = 128 << 10;

/// Hashes every record of a JSON Lines document, like [`super::hash_json`] would one
/// by one. Large inputs are cut at line ends into pieces that every core takes in
/// turn; the answer is the same as from one thread.
pub fn hash_lines(data: &[u8], opts: &CanonicalOptions) -> LineDigests {
    let spare = if data.len() >= SPLIT_AT { spare_threads() } else { 0 };
    if spare == 0 {
        return hash_part(data, &mut Canonicalizer::new(opts)).0;
    }
    let mut bounds = vec![0];
    while let Some(&last) = bounds.last().filter(|&&b| b < data.len()) {
        bounds.push((find_newline(data, (last + PIECE).min(data.len())) + 1).min(data.len()));
    }
    let pieces = bounds.len() - 1;
    let next = AtomicUsize::new(0);
    // Pieces after one with a bad record need not be hashed.
    let first_bad = AtomicUsize::new(usize::MAX);
    let work = || {
        let mut canon = Canonicalizer::new(opts);
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            if k >= pieces || k > first_bad.load(Ordering::Relaxed) {
                return done;
            }
            let part = hash_part(&data[bounds[k]..bounds[k + 1]], &mut canon);
            if part.0.error.is_some() {
                first_bad.fetch_min(k, Ordering::Relaxed);
            }
            done.push((k, part));
        }
    };
    let mut results = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..spare).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for w in workers {
            all.extend(w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    results.sort_unstable_by_key(|r| r.0);
    let mut out = LineDigests::default();
    let mut lines_before = 0;
    for (_, (mut part, lines)) in results {
        out.digests.append(&mut part.digests);
        if let Some(mut e) = part.error {
            e.line += lines_before;
            out.error = Some(e);
            break;
        }
        lines_before += lines;
    }
    out
}

/// Hashes the records of `data`; returns the digests and the number of lines read.
fn hash_part(data: &[u8], canon: &mut Canonicalizer<'_>) -> (LineDigests, usize) {
    let mut out = LineDigests::default();
    let (mut start, mut n) = (0, 0);
    while start < data.len() {
        let end = find_newline(data, start);
        let record = &data[start..end];
        start = end + 1;
        n += 1;
        if record.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        match canon.hash(record) {
            Ok(d) => out.digests.push(d),
            Err(error) => {
                out.error = Some(LineError { line: n, error });
                break;
            }
        }
    }
    (out, n)
}

/// Position of the next `\n` at or after `from` (or the end), 16 or eight bytes at a
/// time.
fn find_newline(data: &[u8], mut from: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline; every load is unaligned and
        // reads 16 bytes that lie inside `data`.
        unsafe {
            let nl = _mm_set1_epi8(b'\n' as i8);
            while from + 16 <= data.len() {
                let v = _mm_loadu_si128(data.as_ptr().add(from) as *const __m128i);
                let m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) as u32;
                if m != 0 {
                    return from + m.trailing_zeros() as usize;
                }
                from += 16;
            }
        }
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    while from + 8 <= data.len() {
        let w = u64::from_le_bytes(data[from..from + 8].try_into().expect("8 bytes")) ^ (ONES * b'\n' as u64);
        // The lowest flagged byte is exact: borrows only run towards higher bytes.
        let zero = w.wrapping_sub(ONES) & !w & (ONES << 7);
        if zero != 0 {
            return from + (zero.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    data[from.min(data.len())..].iter().position(|&b| b == b'\n').map_or(data.len(), |i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_newline_position_across_the_wide_and_narrow_scans() {
        for len in 0..70 {
            for at in 0..=len {
                let mut data = vec![b'x'; len];
                if at < len {
                    data[at] = b'\n';
                }
                for from in 0..=at.min(len) {
                    assert_eq!(find_newline(&data, from), at, "len {len}, newline at {at}, from {from}");
                }
            }
        }
    }

    /// One thread's answer, record by record, to compare the split one with.
    fn one_by_one(data: &[u8], opts: &CanonicalOptions) -> LineDigests {
        hash_part(data, &mut Canonicalizer::new(opts)).0
    }

    #[test]
    fn split_input_gives_the_answer_of_one_thread() {
        const N: usize = 40_000;
        let opts = CanonicalOptions::default();
        let mut data = String::new();
        for i in 0..N {
            // Blank lines and CRLF endings count as lines but are not records.
            match i % 7 {
                0 => data.push('\n'),
                1 => data.push_str(&format!("{{\"b\": {i}, \"a\": [\"x\\u00e9\", {i}.0]}}\r\n")),
                _ => data.push_str(&format!("{{\"k{}\": \"v\", \"id\": {i}}}\n", i % 13)),
            }
        }
        assert!(data.len() > 2 * SPLIT_AT);
        let got = hash_lines(data.as_bytes(), &opts);
        assert_eq!(got, one_by_one(data.as_bytes(), &opts));
        assert_eq!(got.digests.len(), N - N.div_ceil(7));
        assert!(got.error.is_none());
        // A bad record late in the input: digests up to it, and its line number.
        let mut lines: Vec<&str> = data.split('\n').collect();
        lines[37_000] = "{\"a\": 1, \"a\": 2}";
        let bad = lines.join("\n");
        let got = hash_lines(bad.as_bytes(), &opts);
        assert_eq!(got, one_by_one(bad.as_bytes(), &opts));
        assert_eq!(got.error.as_ref().map(|e| e.line), Some(37_001));
        // Two bad records: the first one wins, and nothing after it is reported.
        lines[900] = "[1,";
        let bad = lines.join("\n");
        let got = hash_lines(bad.as_bytes(), &opts);
        assert_eq!(got.error.as_ref().map(|e| e.line), Some(901));
        assert_eq!(got, one_by_one(bad.as_bytes(), &opts));
    }
}
