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
        // One pass over the bytes (every scanned file and stored row is a key); the
        // problems are then reported in a fixed order, whatever order they came in.
        let b = s.as_bytes();
        let (mut nul, mut backslash, mut segment) = (false, false, None);
        let mut start = 0;
        for i in 0..=b.len() {
            match b.get(i) {
                Some(0) => nul = true,
                Some(b'\\') => backslash = true,
                Some(b'/') | None => {
                    let problem = match &b[start..i] {
                        b"" => Some("empty path segment"),
                        b"." => Some("`.` path segment"),
                        b".." => Some("`..` path segment escapes the root"),
                        _ => None,
                    };
                    segment = segment.or(problem);
                    start = i + 1;
                }
                Some(_) => {}
            }
        }
        if nul {
            return Err(err("contains NUL"));
        }
        if backslash {
            return Err(err("contains a backslash; keys use `/`"));
        }
        if b[0] == b'/' {
            return Err(err("absolute path"));
        }
        if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
            return Err(err("absolute path (drive letter)"));
        }
        if let Some(reason) = segment {
            return Err(err(reason));
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

    /// The rules as first written, one check after another: the one-pass check must
    /// give the same verdict and the same reason.
    fn reason_by_the_rules(s: &str) -> Option<&'static str> {
        if s.is_empty() {
            return Some("empty");
        }
        if s.contains('\0') {
            return Some("contains NUL");
        }
        if s.contains('\\') {
            return Some("contains a backslash; keys use `/`");
        }
        if s.starts_with('/') {
            return Some("absolute path");
        }
        let b = s.as_bytes();
        if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
            return Some("absolute path (drive letter)");
        }
        s.split('/').find_map(|seg| match seg {
            "" => Some("empty path segment"),
            "." => Some("`.` path segment"),
            ".." => Some("`..` path segment escapes the root"),
            _ => None,
        })
    }

    proptest::proptest! {
        #[test]
        fn one_pass_gives_the_rules_verdict(s in "[a./\\\\\0:C]{0,12}") {
            proptest::prop_assert_eq!(Key::new(&s).err().map(|e| e.reason), reason_by_the_rules(&s));
        }
    }
}
