//! `Secret`: a string that never prints, serialises or logs its value.
//!
//! This module owns the one type credentials travel in (API tokens, webhook signing
//! keys, database passwords). Every way a value usually leaks — `{:?}`, `{}`, serde
//! output, an error that wraps it — shows `[redacted]` instead. The value is read only
//! through [`Secret::expose`], so each read is visible in review. Comparison takes time
//! independent of where two values differ, and the buffer is overwritten with zeros
//! when the `Secret` is dropped.
//!
//! Limits, stated so nobody relies on more: the length of a value is not hidden (equal
//! comparison returns early on different lengths, and `len` is public), and copies made
//! by the caller from [`Secret::expose`] are the caller's to clear.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a `Secret` prints and serialises as in place of its value.
pub const REDACTED: &str = "[redacted]";

/// A string whose value never appears in `Debug`, `Display` or serde output.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value; the `String`'s buffer is taken over (not copied) and zeroed on drop.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value. Call it only where the value must leave the process (a request header,
    /// a connection string), never to log or display it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Same as [`Secret::expose`], under the name other secret crates use.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// True when the value is empty (an unset credential).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length of the value in bytes (not secret: see the module docs).
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // SAFETY: we write zero bytes (valid UTF-8) over the whole allocation, including
        // spare capacity that may hold an older, shorter copy of the value; the pointer and
        // capacity come from the live Vec, and nothing reads the String afterwards.
        unsafe {
            let v = self.0.as_mut_vec();
            let ptr = v.as_mut_ptr();
            for i in 0..v.capacity() {
                std::ptr::write_volatile(ptr.add(i), 0u8);
            }
            v.set_len(0);
        }
        // Keeps the compiler from moving the zeroing past the deallocation.
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }
}

impl PartialEq for Secret {
    /// Constant time in the position of the first difference (not in the length).
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut diff = 0u8;
        for (x, y) in a.iter().zip(b) {
            diff |= std::hint::black_box(x ^ y);
        }
        std::hint::black_box(diff) == 0
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret::from(s))
    }
}

impl Serialize for Secret {
    /// Always `"[redacted]"`: a serialised config or report never carries the value.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    /// Reads the value from a config file. Refuses the `"[redacted]"` placeholder: it means
    /// the file was written from serialised output and the real value was lost, and using
    /// the placeholder as a credential would fail later with a far less clear error.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        if value == REDACTED {
            return Err(serde::de::Error::custom(
                "secret holds the \"[redacted]\" placeholder, not a value: the file was written from redacted output; put the real value back",
            ));
        }
        Ok(Secret(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_compares_values() {
        assert_eq!(Secret::new("abc"), Secret::from("abc"));
        assert_ne!(Secret::new("abc"), Secret::new("abd"));
        assert_ne!(Secret::new("abc"), Secret::new("abcd"));
        assert_eq!(Secret::default(), Secret::new(""));
    }
}
