//! `Content`: what an item holds, and `HashRules`: how it is digested so that two
//! replicas agree on what "the same" means.

use serde::{Deserialize, Serialize};

use crate::canonical::{self, CanonicalError, CanonicalOptions, TextOptions};
use crate::digest::Digest;

/// How an item's bytes are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    /// JSON, digested in RFC 8785 canonical form.
    Json,
    /// UTF-8 text, digested after normalisation.
    Text,
    /// Opaque bytes, digested as they are.
    Bytes,
    /// A symbolic link, digested from its target text (never followed).
    Link,
}

impl ContentKind {
    /// The name stores and JSON use: `json`, `text`, `bytes`, `link`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ContentKind::Json => "json",
            ContentKind::Text => "text",
            ContentKind::Bytes => "bytes",
            ContentKind::Link => "link",
        }
    }

    /// The kind named `s` (as [`ContentKind::as_str`] spells it).
    pub fn parse(s: &str) -> Option<ContentKind> {
        [ContentKind::Json, ContentKind::Text, ContentKind::Bytes, ContentKind::Link]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What an item holds.
///
/// JSON is kept as the author's text rather than a parsed tree: a sync copies the
/// source's formatting verbatim, while the digest (canonical) ignores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Content {
    /// A JSON document, as text.
    Json(String),
    /// UTF-8 text.
    Text(String),
    /// Opaque bytes.
    Bytes(Vec<u8>),
    /// A symbolic link: its target, as written in the link (never followed).
    Link(String),
}

/// Why content could not be read as its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    /// JSON that cannot be canonicalised.
    #[error("{0}")]
    Json(#[from] CanonicalError),
    /// Text that is not UTF-8.
    #[error("not valid UTF-8 at byte {0}")]
    InvalidUtf8(usize),
}

impl Content {
    /// Interprets `bytes` as `kind`, checking UTF-8 for text and JSON.
    pub fn from_bytes(kind: ContentKind, bytes: Vec<u8>) -> Result<Content, ContentError> {
        match kind {
            ContentKind::Bytes => Ok(Content::Bytes(bytes)),
            ContentKind::Json | ContentKind::Text | ContentKind::Link => {
                let s =
                    String::from_utf8(bytes).map_err(|e| ContentError::InvalidUtf8(e.utf8_error().valid_up_to()))?;
                Ok(match kind {
                    ContentKind::Json => Content::Json(s),
                    ContentKind::Link => Content::Link(s),
                    _ => Content::Text(s),
                })
            }
        }
    }

    /// The kind of this content.
    pub fn kind(&self) -> ContentKind {
        match self {
            Content::Json(_) => ContentKind::Json,
            Content::Text(_) => ContentKind::Text,
            Content::Bytes(_) => ContentKind::Bytes,
            Content::Link(_) => ContentKind::Link,
        }
    }

    /// The bytes as stored on a replica.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Content::Json(s) | Content::Text(s) | Content::Link(s) => s.as_bytes(),
            Content::Bytes(b) => b,
        }
    }

    /// The text, for JSON and text content.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Json(s) | Content::Text(s) => Some(s),
            Content::Bytes(_) | Content::Link(_) => None,
        }
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What counts as a change of an item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    /// Canonical content: reordered JSON keys, CRLF against LF, a BOM are no change.
    #[default]
    Canonical,
    /// The bytes, as Unison and Mutagen compare: any byte is a change.
    Bytes,
}

impl Compare {
    /// `canonical` or `bytes`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Compare::Canonical => "canonical",
            Compare::Bytes => "bytes",
        }
    }
}

impl std::str::FromStr for Compare {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "canonical" => Ok(Compare::Canonical),
            "bytes" => Ok(Compare::Bytes),
            other => Err(format!("compare {other:?}: expected \"canonical\" or \"bytes\"")),
        }
    }
}

impl std::fmt::Display for Compare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Items larger than this (8 MiB) are opaque bytes by default: see [`HashRules::bytes_above`].
pub const DEFAULT_BYTES_ABOVE: u64 = 8 << 20;

/// How content is digested: one set of rules shared by both replicas of a pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashRules {
    /// Canonical JSON options, ignore rules included.
    pub json: CanonicalOptions,
    /// Text normalisation.
    pub text: TextOptions,
    /// A file larger than this many bytes is opaque bytes whatever its name: digested as
    /// it is, and copied as a stream, never parsed. Parsing JSON or normalising text
    /// needs it whole in memory; a size cap keeps a sync's memory constant whatever the
    /// files, at the price of formatting counting as a change in such large files.
    pub bytes_above: u64,
    /// Canonical content (the default) or bytes.
    pub compare: Compare,
}

impl Default for HashRules {
    fn default() -> Self {
        HashRules {
            json: CanonicalOptions::default(),
            text: TextOptions::default(),
            bytes_above: DEFAULT_BYTES_ABOVE,
            compare: Compare::Canonical,
        }
    }
}

impl HashRules {
    /// True when an item of `len` bytes is too large to parse: it is opaque bytes.
    pub fn is_large(&self, len: u64) -> bool {
        len > self.bytes_above
    }

    /// True when `len` bytes of a kind other than a link are digested as bytes: when
    /// comparing bytes, or when they are large.
    fn as_bytes(&self, kind: ContentKind, len: u64) -> bool {
        kind != ContentKind::Link && (self.compare == Compare::Bytes || self.is_large(len))
    }

    /// Digest of `content`. Content over [`HashRules::bytes_above`] is digested as bytes,
    /// whatever its kind, so every replica agrees with one that streams it; so is all
    /// content when comparing bytes.
    pub fn digest(&self, content: &Content) -> Result<Digest, ContentError> {
        if self.as_bytes(content.kind(), content.len() as u64) {
            return Ok(Digest::of_bytes(content.as_bytes()));
        }
        Ok(match content {
            Content::Json(s) => canonical::hash_json(s.as_bytes(), &self.json)?,
            Content::Text(s) => canonical::hash_text(s, &self.text),
            Content::Bytes(b) => Digest::of_bytes(b),
            Content::Link(target) => link_digest(target),
        })
    }

    /// Digest of raw `bytes` read as `kind`, without building a `Content`.
    pub fn digest_bytes(&self, kind: ContentKind, bytes: &[u8]) -> Result<Digest, ContentError> {
        if self.as_bytes(kind, bytes.len() as u64) {
            return Ok(Digest::of_bytes(bytes));
        }
        Ok(match kind {
            ContentKind::Json => canonical::hash_json(bytes, &self.json)?,
            ContentKind::Text => {
                let s = std::str::from_utf8(bytes).map_err(|e| ContentError::InvalidUtf8(e.valid_up_to()))?;
                canonical::hash_text(s, &self.text)
            }
            ContentKind::Bytes => Digest::of_bytes(bytes),
            ContentKind::Link => {
                let s = std::str::from_utf8(bytes).map_err(|e| ContentError::InvalidUtf8(e.valid_up_to()))?;
                link_digest(s)
            }
        })
    }
}

/// An item's two digests: what compare looks at, and what the item holds byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digests {
    /// Digest of the canonical content (of the bytes when comparing bytes).
    pub canonical: Digest,
    /// SHA-256 of the bytes as stored: equal to `canonical` when the bytes are already
    /// canonical. Two sides equal in `canonical` and different here differ in formatting only.
    pub bytes: Digest,
}

impl Digests {
    /// Both digests of an item digested as its bytes.
    pub const fn same(d: Digest) -> Digests {
        Digests { canonical: d, bytes: d }
    }
}

impl From<Digest> for Digests {
    /// An item digested as its bytes (large, or compared as bytes): one digest for both.
    fn from(d: Digest) -> Digests {
        Digests::same(d)
    }
}

impl HashRules {
    /// [`HashRules::digest_bytes`] and the digest of the bytes themselves. The bytes are
    /// hashed a second time only when they are not canonical already: text with a BOM or
    /// a CR, and JSON (whose canonical form is almost never how it is written).
    pub fn digests_bytes(&self, kind: ContentKind, bytes: &[u8]) -> Result<Digests, ContentError> {
        let canonical = self.digest_bytes(kind, bytes)?;
        if self.as_bytes(kind, bytes.len() as u64) || matches!(kind, ContentKind::Bytes | ContentKind::Link) {
            return Ok(Digests::same(canonical));
        }
        let normal = kind == ContentKind::Text
            && std::str::from_utf8(bytes).is_ok_and(|s| canonical::is_normal_text(s, &self.text));
        Ok(Digests { canonical, bytes: if normal { canonical } else { Digest::of_bytes(bytes) } })
    }

    /// [`HashRules::digests_bytes`] of `content`.
    pub fn digests(&self, content: &Content) -> Result<Digests, ContentError> {
        self.digests_bytes(content.kind(), content.as_bytes())
    }
}

/// A link's digest: SHA-256 of `symlink:` and its target, so a link never has the digest
/// of a file holding the same text.
fn link_digest(target: &str) -> Digest {
    let mut bytes = Vec::with_capacity(8 + target.len());
    bytes.extend_from_slice(b"symlink:");
    bytes.extend_from_slice(target.as_bytes());
    Digest::of_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_changes_the_digest() {
        let r = HashRules::default();
        let a = Content::Json("{\"b\": 1, \"a\": [1, 2]}".into());
        let b = Content::Json("{\n  \"a\": [1,2],\n  \"b\": 1\n}\n".into());
        assert_eq!(r.digest(&a).unwrap(), r.digest(&b).unwrap());
        let t1 = Content::Text("\u{feff}line\r\nnext\r\n".into());
        let t2 = Content::Text("line\nnext\n".into());
        assert_eq!(r.digest(&t1).unwrap(), r.digest(&t2).unwrap());
        assert_eq!(r.digest(&t2).unwrap(), r.digest_bytes(ContentKind::Text, b"line\nnext\n").unwrap());
    }

    #[test]
    fn content_over_the_limit_is_digested_as_bytes() {
        let r = HashRules { bytes_above: 8, ..HashRules::default() };
        let small = Content::Json("{\"a\": 1}".into());
        assert_eq!(
            r.digest(&small).unwrap(),
            HashRules::default().digest(&small).unwrap(),
            "8 bytes is not over the limit"
        );
        let big = Content::Json("{ \"a\" : 1 }".into());
        assert_eq!(r.digest(&big).unwrap(), Digest::of_bytes(big.as_bytes()));
        assert_ne!(r.digest(&big).unwrap(), HashRules::default().digest(&big).unwrap());
        assert_eq!(r.digest_bytes(ContentKind::Json, b"{ \"a\" : 1 }").unwrap(), r.digest(&big).unwrap());
        // Invalid JSON over the limit is no error: it is never parsed.
        assert!(r.digest_bytes(ContentKind::Json, b"{not json at all").is_ok());
    }

    #[test]
    fn comparing_bytes_makes_formatting_a_change() {
        let r = HashRules { compare: Compare::Bytes, ..HashRules::default() };
        let (a, b) = (Content::Text("x\n".into()), Content::Text("x\r\n".into()));
        assert_ne!(r.digest(&a).unwrap(), r.digest(&b).unwrap());
        assert_eq!(HashRules::default().digest(&a).unwrap(), HashRules::default().digest(&b).unwrap());
        assert_eq!(r.digest(&a).unwrap(), Digest::of_bytes(b"x\n"));
        // A link keeps its own digest: it is never a file with the same text.
        assert_ne!(r.digest(&Content::Link("x\n".into())).unwrap(), Digest::of_bytes(b"x\n"));
        assert_eq!("bytes".parse::<Compare>().unwrap(), Compare::Bytes);
        assert!("exact".parse::<Compare>().unwrap_err().contains("canonical"));
    }

    #[test]
    fn the_bytes_digest_differs_only_where_formatting_does() {
        let r = HashRules::default();
        let of = |k, b: &[u8]| r.digests_bytes(k, b).unwrap();
        let lf = of(ContentKind::Text, b"a\nb\n");
        assert_eq!(lf, Digests::same(Digest::of_bytes(b"a\nb\n")), "normal text: one digest serves both");
        let crlf = of(ContentKind::Text, b"a\r\nb\r\n");
        assert_eq!(crlf.canonical, lf.canonical);
        assert_eq!(crlf.bytes, Digest::of_bytes(b"a\r\nb\r\n"));
        let (j1, j2) = (of(ContentKind::Json, b"{\"b\":1,\"a\":2}"), of(ContentKind::Json, b"{\"a\":2,\"b\":1}"));
        assert_eq!(j1.canonical, j2.canonical);
        assert_ne!(j1.bytes, j2.bytes);
        assert_eq!(j2.bytes, j2.canonical, "canonical JSON is its own bytes");
        let bytes = HashRules { compare: Compare::Bytes, ..HashRules::default() };
        assert_eq!(
            bytes.digests_bytes(ContentKind::Text, b"a\r\n").unwrap(),
            Digests::same(Digest::of_bytes(b"a\r\n"))
        );
        assert_eq!(r.digests(&Content::Text("a\r\nb\r\n".into())).unwrap(), crlf);
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        assert_eq!(Content::from_bytes(ContentKind::Text, vec![b'a', 0xff]).unwrap_err(), ContentError::InvalidUtf8(1));
        assert!(HashRules::default().digest_bytes(ContentKind::Json, b"{\"a\":").is_err());
    }
}
