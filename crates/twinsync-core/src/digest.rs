//! `Digest`: the SHA-256 of canonical content, and the tree digest of a whole replica.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::key::Key;

/// SHA-256 of canonical content; displays as `sha256:<hex>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest {input:?}: expected `sha256:` followed by 64 lowercase hex digits")]
pub struct DigestParseError {
    /// The rejected input.
    pub input: String,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Digest {
    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Digest(bytes)
    }

    /// SHA-256 of `bytes`, taken as they are.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Digest(Sha256::digest(bytes).into())
    }

    /// Finishes a running SHA-256.
    pub fn from_hasher(hasher: Sha256) -> Self {
        Digest(hasher.finalize().into())
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, without the `sha256:` prefix.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        s
    }

    /// Parses 64 hex digits, with or without the `sha256:` prefix.
    pub fn from_hex(hex: &str) -> Result<Self, DigestParseError> {
        let raw = hex.strip_prefix("sha256:").unwrap_or(hex).as_bytes();
        if raw.len() != 64 {
            return Err(DigestParseError { input: hex.to_string() });
        }
        // A store reads every base and replica digest back from hex (200k at a 100k-file
        // status): a table lookup per digit, with one check at the end, keeps that cheap.
        let mut out = [0u8; 32];
        let mut bad = 0u8;
        for (o, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
            let (hi, lo) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
            bad |= hi | lo;
            *o = (hi << 4) | (lo & 0x0F);
        }
        if bad & 0xF0 != 0 {
            return Err(DigestParseError { input: hex.to_string() });
        }
        Ok(Digest(out))
    }
}

/// The value of each lowercase hex digit; 0xFF for every other byte.
const HEX_VALUE: [u8; 256] = hex_values(false);

/// The value of each hex digit (lowercase, and uppercase too if asked); 0xFF for
/// every other byte.
pub(crate) const fn hex_values(uppercase_too: bool) -> [u8; 256] {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        if uppercase_too {
            t[b'A' as usize + i] = 10 + i as u8;
        }
        i += 1;
    }
    t
}

impl Digest {
    /// `sha256:<hex>` as ASCII bytes on the stack, as [`Display`](fmt::Display) writes
    /// it: the bindings format one digest per document they hash, and a binding can
    /// hand these bytes to its host without a temporary `String`.
    pub fn text(&self) -> [u8; 71] {
        let mut s = [0u8; 71];
        s[..7].copy_from_slice(b"sha256:");
        for (pair, b) in s[7..].chunks_exact_mut(2).zip(self.0) {
            pair[0] = HEX[(b >> 4) as usize];
            pair[1] = HEX[(b & 15) as usize];
        }
        s
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.text()).expect("ASCII"))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = DigestParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.starts_with("sha256:") {
            return Err(DigestParseError { input: s.to_string() });
        }
        Digest::from_hex(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One digest for a whole replica, like a Merkle root over its sorted entries.
///
/// SHA-256 over, for each entry in key order, the key's UTF-8 bytes, a NUL byte and
/// the entry's 32 raw digest bytes. Keys never contain NUL, so the encoding is
/// unambiguous; two replicas with the same keys and contents have the same tree digest.
pub fn tree_digest<'a, I>(entries: I) -> Digest
where
    I: IntoIterator<Item = (&'a Key, &'a Digest)>,
{
    let mut sorted: Vec<(&Key, &Digest)> = entries.into_iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let mut h = Sha256::new();
    for (k, d) in sorted {
        h.update(k.as_str().as_bytes());
        h.update([0u8]);
        h.update(d.as_bytes());
    }
    Digest::from_hasher(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_parses_with_prefix() {
        let d = Digest::of_bytes(b"abc");
        let s = d.to_string();
        assert_eq!(s, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(s.parse::<Digest>().unwrap(), d);
        assert!("ba7816bf".parse::<Digest>().is_err());
        assert!(Digest::from_hex(&"G".repeat(64)).is_err());
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
    }

    #[test]
    fn only_lowercase_hex_digits_parse_in_any_position() {
        let d = Digest::of_bytes(b"abc");
        assert_eq!(Digest::from_hex(&d.to_hex()).unwrap(), d);
        for pos in [0, 1, 31, 62, 63] {
            for b in 0..=255u8 {
                let mut hex = d.to_hex().into_bytes();
                hex[pos] = b;
                let ok = b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
                let parsed = std::str::from_utf8(&hex).ok().map(Digest::from_hex);
                assert_eq!(parsed.is_some_and(|r| r.is_ok()), ok, "byte {b:#04x} at {pos}");
            }
        }
    }

    #[test]
    fn tree_digest_ignores_input_order_and_sees_every_change() {
        let a = Key::new("a.md").unwrap();
        let b = Key::new("b/c.md").unwrap();
        let (da, db) = (Digest::of_bytes(b"1"), Digest::of_bytes(b"2"));
        let t1 = tree_digest([(&a, &da), (&b, &db)]);
        let t2 = tree_digest([(&b, &db), (&a, &da)]);
        assert_eq!(t1, t2);
        assert_ne!(t1, tree_digest([(&a, &db), (&b, &da)]));
        assert_ne!(t1, tree_digest([(&a, &da)]));
    }
}
