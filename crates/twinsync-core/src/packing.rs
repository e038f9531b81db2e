//! How a store keeps a content it holds for later (a base a merge may need, an undo's
//! pre-image): LZ4-compressed when that makes it clearly smaller, as it is otherwise.
//!
//! A first sync keeps the base of every text item, so without this the state file grows
//! by the size of the tree's texts. Small contents are kept as they are (see
//! `MIN_PACKED`): compressing them cost more CPU than the pages it saved. Contents that
//! do not shrink by an eighth are kept as they are too, so binary-like data costs one
//! failed attempt and nothing on reading.
//!
//! ```
//! use twinsync_core::packing::{pack, unpack};
//! let text = "the same line again\n".repeat(500);
//! let packed = pack(text.as_bytes());
//! assert_eq!(packed.encoding, Some("lz4"));
//! assert!(packed.bytes.len() < text.len() / 4);
//! let back = unpack(packed.encoding, packed.bytes.into_owned(), text.len() as u64).unwrap();
//! assert_eq!(back, text.as_bytes());
//! ```

use std::borrow::Cow;

/// The name a store records for LZ4 block format.
pub const LZ4: &str = "lz4";

/// Contents shorter than this are kept as they are. Measured on a first sync of 20,000
/// texts of 4 KB (`benches/first_sync_ab.py --varied`): compressing each cost more CPU
/// (0.4 s) than the pages it saved, and a text that small fills a page or two either way.
const MIN_PACKED: usize = 8 << 10;

/// A content as a store keeps it: the bytes, and how they are encoded (`None`: as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed<'a> {
    /// `Some(LZ4)` when compressed.
    pub encoding: Option<&'static str>,
    /// What the store writes.
    pub bytes: Cow<'a, [u8]>,
}

/// `bytes` compressed when that saves at least an eighth, else as they are.
pub fn pack(bytes: &[u8]) -> Packed<'_> {
    if bytes.len() >= MIN_PACKED {
        let packed = lz4_flex::block::compress(bytes);
        if packed.len() <= bytes.len() - bytes.len() / 8 {
            return Packed { encoding: Some(LZ4), bytes: Cow::Owned(packed) };
        }
    }
    Packed { encoding: None, bytes: Cow::Borrowed(bytes) }
}

/// The content [`pack`] gave `bytes` for, `size` bytes long. The error says what is
/// wrong (an unknown encoding, damaged data), for the store to name the blob.
pub fn unpack(encoding: Option<&str>, bytes: Vec<u8>, size: u64) -> Result<Vec<u8>, String> {
    let out = match encoding {
        None => bytes,
        Some(LZ4) => {
            let size = usize::try_from(size).map_err(|_| format!("size {size} does not fit in memory"))?;
            lz4_flex::block::decompress(&bytes, size).map_err(|e| format!("damaged LZ4 data: {e}"))?
        }
        Some(other) => return Err(format!("unknown encoding {other:?}")),
    };
    if out.len() as u64 != size {
        return Err(format!("damaged: {} bytes where {size} were recorded", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_packed_unpacks_to_itself() {
        let mut noise = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push(x as u8);
        }
        let text = "# Title\n\nA paragraph of text, then another one.\n".repeat(400).into_bytes();
        for bytes in [Vec::new(), b"short".to_vec(), vec![b'a'; MIN_PACKED], text, noise.clone()] {
            let p = pack(&bytes);
            let back = unpack(p.encoding, p.bytes.into_owned(), bytes.len() as u64).unwrap();
            assert_eq!(back, bytes);
        }
        // Data that does not shrink is kept as it is, so reading it costs nothing.
        assert_eq!(pack(&noise).encoding, None);
        assert_eq!(pack(&[b'a'; MIN_PACKED]).encoding, Some(LZ4));
        assert_eq!(pack(&[b'a'; MIN_PACKED - 1]).encoding, None);
    }

    #[test]
    fn damage_is_an_error_not_a_wrong_content() {
        let text = "some text that repeats, some text that repeats\n".repeat(400).into_bytes();
        let p = pack(&text);
        let mut cut = p.bytes.to_vec();
        cut.truncate(cut.len() / 2);
        assert!(unpack(Some(LZ4), cut, text.len() as u64).unwrap_err().contains("damaged"));
        assert!(unpack(Some(LZ4), p.bytes.to_vec(), text.len() as u64 + 1).unwrap_err().contains("damaged"));
        assert!(unpack(Some("zip"), text.clone(), text.len() as u64).unwrap_err().contains("unknown encoding"));
        assert!(unpack(None, text.clone(), 3).unwrap_err().contains("damaged"));
    }
}
