//! `Key`: a validated item key, a relative path with `/` separators or an id.

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 4096;

/// A validated item key: relative, `/`-separated, never `..`, never absolute, no NUL.
///
/// Cheap to clone (shared string), ordered by its UTF-8 bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(Arc<str>);

/// Why a string is not a valid key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key {key:?}: {reason}")]
pub struct KeyError {
    /// The rejected key.
    pub key: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Key {
    /// Validates `s` as a key.
    pub fn new(s: impl AsRef<str>) -> Result<Self, KeyError> {
        let s = s.as_ref();
        let err = |reason| KeyError { key: s.to_string(), reason };
        if s.is_empty() {
            return Err(err("empty"));
        }
        if s.len() > MAX_KEY_LEN {
            return Err(err("longer than 4096 bytes"));
        }
        if s.contains('\0') {
            return Err(err("contains NUL"));
        }
        if s.contains('\\') {
            return Err(err("contains a backslash; keys use `/`"));
        }
        if s.starts_with('/') {
            return Err(err("absolute path"));
        }
        let b = s.as_bytes();
        if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
            return Err(err("absolute path (drive letter)"));
        }
        for seg in s.split('/') {
            match seg {
                "" => return Err(err("empty path segment")),
                "." => return Err(err("`.` path segment")),
                ".." => return Err(err("`..` path segment escapes the root")),
                _ => {}
            }
        }
        Ok(Key(Arc::from(s)))
    }

    /// The key as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Key {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Key::new(s)
    }
}

impl TryFrom<&str> for Key {
    type Error = KeyError;
    fn try_from(s: &str) -> Result<Self, KeyError> {
        Key::new(s)
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Key::new(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_relative_paths_and_ids() {
        for ok in ["a", "docs/intro.md", "openspec/changes/add-x/tasks.md", "id-42", "..a/b..", "a/.hidden"] {
            assert_eq!(Key::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_escapes_with_a_reason() {
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a\0b", "C:/x", "a\\b", "a/"] {
            let e = Key::new(bad).unwrap_err();
            assert_eq!(e.key, bad);
            assert!(e.to_string().contains("invalid key"), "{e}");
        }
        assert!(serde_json::from_str::<Key>("\"../x\"").is_err());
    }
}
