//! Small helpers for reading JSON values with errors that name the file and the JSON
//! Pointer of the value at fault.

use serde_json::{Map, Value};

use crate::error::{DesignError, Result};

/// `base` extended by one JSON Pointer segment (RFC 6901 escaping).
pub(crate) fn ptr(base: &str, seg: &str) -> String {
    let mut out = String::with_capacity(base.len() + seg.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in seg.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// A short name for a JSON value's type, for error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `v` as an object, or an error saying what it is instead.
pub(crate) fn object<'v>(file: &str, path: &str, v: &'v Value) -> Result<&'v Map<String, Value>> {
    v.as_object().ok_or_else(|| DesignError::invalid(file, path, format!("expected an object, found {}", type_name(v))))
}

/// `v` as an array, or an error.
pub(crate) fn array<'v>(file: &str, path: &str, v: &'v Value) -> Result<&'v Vec<Value>> {
    v.as_array().ok_or_else(|| DesignError::invalid(file, path, format!("expected an array, found {}", type_name(v))))
}

/// The string member `key` of `m`, required.
pub(crate) fn req_str<'v>(file: &str, path: &str, m: &'v Map<String, Value>, key: &str) -> Result<&'v str> {
    match m.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => {
            Err(DesignError::invalid(file, &ptr(path, key), format!("expected a string, found {}", type_name(other))))
        }
        None => Err(DesignError::invalid(file, path, format!("missing required member {key:?}"))),
    }
}

/// The string member `key` of `m`, if present; an error if present but not a string.
pub(crate) fn opt_str<'v>(file: &str, path: &str, m: &'v Map<String, Value>, key: &str) -> Result<Option<&'v str>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => {
            Err(DesignError::invalid(file, &ptr(path, key), format!("expected a string, found {}", type_name(other))))
        }
    }
}

/// Parses bytes as JSON, naming the file on failure.
pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| DesignError::Syntax { file: file.to_string(), problem: e.to_string() })
}
