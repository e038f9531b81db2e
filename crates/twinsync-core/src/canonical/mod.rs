//! Canonical forms, so formatting never looks like drift: RFC 8785 (JCS) JSON, ignore
//! rules for volatile fields, and text normalisation for markdown and code.
//!
//! PLACEHOLDER IMPLEMENTATION (Value based) — the streaming canonicaliser replaces it.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::digest::Digest;

/// What to do with an integer beyond ±2^53, which an IEEE double cannot hold exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BigIntPolicy {
    /// Reject the document, naming the path.
    #[default]
    Error,
    /// Canonicalise the integer as a JSON string of its decimal digits.
    KeepAsString,
}

/// JSON Pointer patterns whose fields are dropped before hashing.
///
/// `*` matches one segment, `**` any number of segments: `/updatedAt`, `/**/id`,
/// `/variants/*/figmaNodeId`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct IgnoreRules {
    patterns: Vec<String>,
}

impl IgnoreRules {
    /// Parses JSON Pointer patterns.
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Result<Self, CanonicalError> {
        let patterns: Vec<String> = patterns.into_iter().map(|p| p.as_ref().to_string()).collect();
        for p in &patterns {
            if !p.starts_with('/') {
                return Err(CanonicalError::new(p.clone(), ErrorKind::BadPattern));
            }
        }
        Ok(IgnoreRules { patterns })
    }
    /// True when there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

impl TryFrom<Vec<String>> for IgnoreRules {
    type Error = CanonicalError;
    fn try_from(v: Vec<String>) -> Result<Self, CanonicalError> {
        IgnoreRules::new(v)
    }
}

impl From<IgnoreRules> for Vec<String> {
    fn from(r: IgnoreRules) -> Self {
        r.patterns
    }
}

/// Options for canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CanonicalOptions {
    /// Integers beyond 2^53.
    pub big_integers: BigIntPolicy,
    /// Volatile fields to drop.
    pub ignore: IgnoreRules,
    /// Deepest nesting accepted.
    pub max_depth: usize,
}

impl Default for CanonicalOptions {
    fn default() -> Self {
        CanonicalOptions { big_integers: BigIntPolicy::Error, ignore: IgnoreRules::default(), max_depth: 256 }
    }
}

/// What went wrong while canonicalising.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not JSON at all.
    Syntax(String),
    /// The same key twice in one object.
    DuplicateKey(String),
    /// NaN or an infinity (or a number too large for a double).
    NonFinite,
    /// A `\uD800`-style escape without its partner.
    LoneSurrogate,
    /// An integer that a double cannot hold exactly.
    BigInteger(String),
    /// Nesting deeper than the limit.
    TooDeep(usize),
    /// Input bytes that are not UTF-8.
    InvalidUtf8,
    /// An ignore pattern that is not a JSON Pointer pattern.
    BadPattern,
}

/// A canonicalisation failure, with the JSON Pointer of the value at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("at {}: {}", if .path.is_empty() { "/" } else { .path.as_str() }, describe(.kind))]
pub struct CanonicalError {
    /// JSON Pointer of the offending value (empty for the root).
    pub path: String,
    /// What is wrong.
    pub kind: ErrorKind,
}

fn describe(k: &ErrorKind) -> String {
    match k {
        ErrorKind::Syntax(m) => format!("invalid JSON: {m}"),
        ErrorKind::DuplicateKey(key) => format!("duplicate key {key:?}"),
        ErrorKind::NonFinite => "NaN or Infinity cannot be represented in JSON".into(),
        ErrorKind::LoneSurrogate => "lone UTF-16 surrogate in string".into(),
        ErrorKind::BigInteger(n) => format!("integer {n} is beyond 2^53 and would lose precision"),
        ErrorKind::TooDeep(n) => format!("nesting deeper than {n} levels"),
        ErrorKind::InvalidUtf8 => "input is not valid UTF-8".into(),
        ErrorKind::BadPattern => "ignore pattern must be a JSON Pointer starting with `/`".into(),
    }
}

impl CanonicalError {
    /// A new error at `path`.
    pub fn new(path: impl Into<String>, kind: ErrorKind) -> Self {
        CanonicalError { path: path.into(), kind }
    }
}

/// RFC 8785 canonical bytes of a JSON document.
pub fn canonicalize(json: &[u8], opts: &CanonicalOptions) -> Result<Vec<u8>, CanonicalError> {
    let v: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| CanonicalError::new("", ErrorKind::Syntax(e.to_string())))?;
    canonicalize_value(&v, opts)
}

/// RFC 8785 canonical bytes of a parsed value.
pub fn canonicalize_value(v: &serde_json::Value, _opts: &CanonicalOptions) -> Result<Vec<u8>, CanonicalError> {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.iter().collect();
                entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sort(v))).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    Ok(serde_json::to_vec(&sort(v)).expect("serialising a Value cannot fail"))
}

/// Digest of the canonical form of a JSON document.
pub fn hash_json(json: &[u8], opts: &CanonicalOptions) -> Result<Digest, CanonicalError> {
    Ok(Digest::of_bytes(&canonicalize(json, opts)?))
}

/// Digest of the canonical form of a parsed value.
pub fn hash_value(v: &serde_json::Value, opts: &CanonicalOptions) -> Result<Digest, CanonicalError> {
    Ok(Digest::of_bytes(&canonicalize_value(v, opts)?))
}

/// Appends `s` as a JCS string literal (quotes, minimal escaping).
pub fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(serde_json::to_string(s).expect("string").as_bytes());
}

/// Options for normalising text before hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TextOptions {
    /// Also strip spaces and tabs at the end of every line.
    pub trim_trailing_whitespace: bool,
}

/// Normalised text: no BOM, CRLF and CR turned into LF, optionally no trailing blanks.
pub fn normalize_text<'a>(s: &'a str, opts: &TextOptions) -> Cow<'a, str> {
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    let mut out = s.replace("\r\n", "\n").replace('\r', "\n");
    if opts.trim_trailing_whitespace {
        out = out.split('\n').map(|l| l.trim_end_matches([' ', '\t'])).collect::<Vec<_>>().join("\n");
    }
    Cow::Owned(out)
}

/// Digest of normalised text.
pub fn hash_text(s: &str, opts: &TextOptions) -> Digest {
    let mut h = Sha256::new();
    h.update(normalize_text(s, opts).as_bytes());
    Digest::from_hasher(h)
}
