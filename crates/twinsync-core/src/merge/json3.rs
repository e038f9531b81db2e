//! Structural three-way merge of JSON: objects key by key, arrays atomic unless an id
//! field is configured; conflicts reported with their JSON Pointer.
//!
//! PLACEHOLDER: whole-document only; the real merge replaces this.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Options of a JSON merge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonMergeOptions {
    /// Field that identifies array elements (`id`), so arrays of objects merge per element.
    pub array_id_field: Option<String>,
}

/// A conflict at one JSON Pointer: the three values there (`None`: absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonConflict {
    /// Where.
    pub pointer: String,
    /// The base value.
    pub base: Option<Value>,
    /// The left value.
    pub left: Option<Value>,
    /// The right value.
    pub right: Option<Value>,
}

/// A JSON merge result. Where it conflicted, `value` holds the left version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonMerge {
    /// The merged value.
    pub value: Value,
    /// Conflicts, by pointer.
    pub conflicts: Vec<JsonConflict>,
}

impl JsonMerge {
    /// True when the merge needed no person.
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }
}

/// Merges `left` and `right`, both derived from `base`.
pub fn json3(base: &Value, left: &Value, right: &Value, _opts: &JsonMergeOptions) -> JsonMerge {
    if left == right || right == base {
        return JsonMerge { value: left.clone(), conflicts: vec![] };
    }
    if left == base {
        return JsonMerge { value: right.clone(), conflicts: vec![] };
    }
    JsonMerge {
        value: left.clone(),
        conflicts: vec![JsonConflict {
            pointer: String::new(),
            base: Some(base.clone()),
            left: Some(left.clone()),
            right: Some(right.clone()),
        }],
    }
}
