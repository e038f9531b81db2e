//! Structural three-way merge of JSON: objects key by key, arrays atomic unless an id
//! field is configured; conflicts reported with their RFC 6901 JSON Pointer.
//!
//! Rules, at every position (a pointer) where base, left and right may each be absent:
//! - equal sides, or one side unchanged from base: the other side wins, cleanly;
//! - all present versions are objects (an absent base counts as `{}`): merged key by key,
//!   keys in left's order, then keys only right has in right's order;
//! - with `array_id_field` set, arrays whose elements are all objects carrying a unique
//!   string or number under that field are merged element by element, matched by id:
//!   left's elements in left's order, then elements only right added, in right's order;
//!   an element's pointer uses its index in left (or, if left lacks it, in base);
//! - anything else (including deletion against modification) is a conflict: the merged
//!   value keeps the left version there (absent if left deleted it).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    /// Where (RFC 6901; `""` is the whole document).
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
    /// Conflicts, in document order.
    pub conflicts: Vec<JsonConflict>,
}

impl JsonMerge {
    /// True when the merge needed no person.
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }
}

/// Merges `left` and `right`, both derived from `base`.
pub fn json3(base: &Value, left: &Value, right: &Value, opts: &JsonMergeOptions) -> JsonMerge {
    let mut m = Merger { opts, conflicts: Vec::new() };
    let mut pointer = String::new();
    let value = m.merge(Some(base), Some(left), Some(right), &mut pointer);
    // Both sides are present at the root, so the merge (keeping left on conflict) is too.
    JsonMerge { value: value.unwrap_or_else(|| left.clone()), conflicts: m.conflicts }
}

/// Appends one RFC 6901 reference token to `pointer`.
fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

struct Merger<'o> {
    opts: &'o JsonMergeOptions,
    conflicts: Vec<JsonConflict>,
}

impl Merger<'_> {
    fn merge(
        &mut self,
        base: Option<&Value>,
        left: Option<&Value>,
        right: Option<&Value>,
        pointer: &mut String,
    ) -> Option<Value> {
        if left == right || right == base {
            return left.cloned();
        }
        if left == base {
            return right.cloned();
        }
        let empty = Value::Object(Map::new());
        if let (Some(Value::Object(l)), Some(Value::Object(r))) = (left, right) {
            if let Value::Object(b) = base.unwrap_or(&empty) {
                return Some(Value::Object(self.objects(b, l, r, pointer)));
            }
        }
        if let (Some(field), Some(Value::Array(l)), Some(Value::Array(r))) =
            (self.opts.array_id_field.clone(), left, right)
        {
            let empty_arr = Vec::new();
            let b = match base {
                None => Some(&empty_arr),
                Some(Value::Array(b)) => Some(b),
                Some(_) => None,
            };
            if let Some(b) = b {
                if let Some(v) = self.arrays(&field, b, l, r, pointer) {
                    return Some(Value::Array(v));
                }
            }
        }
        self.conflicts.push(JsonConflict {
            pointer: pointer.clone(),
            base: base.cloned(),
            left: left.cloned(),
            right: right.cloned(),
        });
        left.cloned()
    }

    fn objects(
        &mut self,
        b: &Map<String, Value>,
        l: &Map<String, Value>,
        r: &Map<String, Value>,
        pointer: &mut String,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        // Keys only base has were deleted on both sides and stay deleted.
        let keys = l.keys().chain(r.keys().filter(|k| !l.contains_key(*k)));
        for k in keys {
            let len = pointer.len();
            push_token(pointer, k);
            if let Some(v) = self.merge(b.get(k), l.get(k), r.get(k), pointer) {
                out.insert(k.clone(), v);
            }
            pointer.truncate(len);
        }
        out
    }

    /// Per-element merge of id-keyed arrays; `None` when some array is not id-keyed.
    fn arrays(
        &mut self,
        field: &str,
        b: &[Value],
        l: &[Value],
        r: &[Value],
        pointer: &mut String,
    ) -> Option<Vec<Value>> {
        let (bi, li, ri) = (ids(field, b)?, ids(field, l)?, ids(field, r)?);
        let index = |ids: &[String]| -> HashMap<String, usize> {
            ids.iter().enumerate().map(|(i, id)| (id.clone(), i)).collect()
        };
        let (bm, lm, rm) = (index(&bi), index(&li), index(&ri));
        let find = |m: &HashMap<String, usize>, id: &String| m.get(id).copied();
        let mut order: Vec<&String> = li.iter().collect();
        order.extend(ri.iter().filter(|id| find(&lm, id).is_none() && find(&bm, id).is_none()));
        // Elements right kept but left deleted, or vice versa, are visited too so that a
        // deletion against a modification is reported.
        let mut extra: Vec<&String> =
            ri.iter().filter(|id| find(&lm, id).is_none() && find(&bm, id).is_some()).collect();
        extra.extend(bi.iter().filter(|id| find(&lm, id).is_none() && find(&rm, id).is_none()));
        let mut out = Vec::with_capacity(order.len());
        for id in order.into_iter().chain(extra) {
            let (bk, lk, rk) = (find(&bm, id), find(&lm, id), find(&rm, id));
            let index = lk.or(bk).or(rk).unwrap_or(0);
            let len = pointer.len();
            push_token(pointer, &index.to_string());
            let merged = self.merge(bk.map(|k| &b[k]), lk.map(|k| &l[k]), rk.map(|k| &r[k]), pointer);
            pointer.truncate(len);
            out.extend(merged);
        }
        Some(out)
    }
}

/// The ids of an id-keyed array, or `None` if an element is not an object with a unique
/// string or number id.
fn ids(field: &str, arr: &[Value]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(arr.len());
    for v in arr {
        let id = match v.as_object()?.get(field)? {
            Value::String(s) => format!("s:{s}"),
            Value::Number(n) => format!("n:{n}"),
            _ => return None,
        };
        if out.contains(&id) {
            return None;
        }
        out.push(id);
    }
    Some(out)
}
