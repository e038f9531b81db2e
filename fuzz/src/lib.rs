//! Helpers shared by the fuzz targets: cutting one fuzz input into the several inputs a
//! parser or a merge takes.

/// Splits `data` at its first `n - 1` NUL bytes into `n` parts (missing parts are empty),
/// so a mutation can grow or shrink one part without touching the others. The last part
/// keeps any further NULs.
pub fn split_nul<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut parts = [&data[..0]; N];
    let mut rest = data;
    for (i, part) in parts.iter_mut().enumerate() {
        if i + 1 == N {
            *part = rest;
            break;
        }
        match rest.iter().position(|&b| b == 0) {
            Some(at) => {
                *part = &rest[..at];
                rest = &rest[at + 1..];
            }
            None => {
                *part = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    parts
}

/// The first byte (which targets use to pick options) and the rest; `None` when empty.
pub fn selector(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(s, rest)| (*s, rest))
}
