//! The stateless functions: canonical hashing, drift, plan and merge. Each converts its
//! arguments, calls the facade's binding API (`twinsync::api`) once and converts the
//! CLI-shaped result into records.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::Value;
use twinsync::api;
use twinsync_core as core;

use crate::error::{Result, TwinsyncError};
use crate::types::{Drift, Plan};

/// Parses the JSON text argument `what`.
pub(crate) fn parse_json(what: &str, json: &str) -> Result<Value> {
    serde_json::from_str(json).map_err(|e| TwinsyncError::invalid(format!("{what}: invalid JSON: {e}")))
}

/// Reads the API's JSON result as `T`; a mismatch is a bug between this crate and the API.
pub(crate) fn decode<T: DeserializeOwned>(what: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| TwinsyncError::Io { reason: format!("{what}: unexpected result shape: {e}") })
}

/// How JSON and text are hashed; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct HashOptions {
    /// JSON Pointer patterns of volatile members to drop (`/updatedAt`, `/**/id`).
    #[uniffi(default = [])]
    pub ignore: Vec<String>,
    /// Integers beyond 2^53: `error` (default) or `string` (kept as their digits).
    #[uniffi(default = None)]
    pub big_integers: Option<String>,
    /// Deepest nesting accepted (default 256).
    #[uniffi(default = None)]
    pub max_depth: Option<u32>,
    /// Text: also strip spaces and tabs at line ends.
    #[uniffi(default = false)]
    pub trim_trailing_whitespace: bool,
}

impl HashOptions {
    /// The API's options for `o`, defaults when absent.
    pub(crate) fn api(o: Option<HashOptions>) -> api::HashOptions {
        let o = o.unwrap_or_default();
        api::HashOptions {
            ignore: o.ignore,
            big_integers: o.big_integers,
            max_depth: o.max_depth.map(|d| d as usize),
            trim_trailing_whitespace: o.trim_trailing_whitespace,
        }
    }
}

/// RFC 8785 (JCS) canonical text of the JSON document `json`.
#[uniffi::export(default(options = None))]
pub fn canonicalize(json: String, options: Option<HashOptions>) -> Result<String> {
    Ok(api::canonicalize_json(json.as_bytes(), &HashOptions::api(options))?)
}

/// `sha256:<hex>` of the canonical form of the JSON document `json`, as `twinsync hash` prints it.
#[uniffi::export(default(options = None))]
pub fn canonical_hash(json: String, options: Option<HashOptions>) -> Result<String> {
    Ok(api::canonical_hash_json(json.as_bytes(), &HashOptions::api(options))?)
}

/// Same as [`canonicalize`]: the name the Node and Python bindings give their JSON-text form.
#[uniffi::export(default(options = None))]
pub fn canonicalize_json(json: String, options: Option<HashOptions>) -> Result<String> {
    canonicalize(json, options)
}

/// Same as [`canonical_hash`]: the name the Node and Python bindings give their JSON-text form.
#[uniffi::export(default(options = None))]
pub fn canonical_hash_json(json: String, options: Option<HashOptions>) -> Result<String> {
    canonical_hash(json, options)
}

/// `sha256:<hex>` of normalised text (no BOM, LF line ends), so line endings are not drift.
#[uniffi::export(default(options = None))]
pub fn hash_text(text: String, options: Option<HashOptions>) -> String {
    api::hash_text(&text, &HashOptions::api(options))
}

/// `sha256:<hex>` of bytes taken as they are.
#[uniffi::export]
pub fn hash_bytes(bytes: Vec<u8>) -> String {
    api::hash_bytes(&bytes)
}

/// A map `key -> sha256:<hex> digest, or text content` as the API's JSON object.
fn entries(map: HashMap<String, String>) -> Value {
    Value::Object(map.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// `sha256:<hex>` of a whole tree given as key to digest (`sha256:<hex>`) or text content.
#[uniffi::export(default(options = None))]
pub fn tree_digest(entries: HashMap<String, String>, options: Option<HashOptions>) -> Result<String> {
    Ok(api::tree_digest(&self::entries(entries), &HashOptions::api(options))?)
}

/// Three-way drift of three maps of key to digest (`sha256:<hex>`) or text content.
#[uniffi::export(default(options = None))]
pub fn detect_drift(
    base: HashMap<String, String>,
    left: HashMap<String, String>,
    right: HashMap<String, String>,
    options: Option<HashOptions>,
) -> Result<Drift> {
    let v = api::detect_drift(&entries(base), &entries(left), &entries(right), &HashOptions::api(options))?;
    Drift::from_api(v)
}

/// Inputs of [`plan`] beyond the three maps; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct PlanOptions {
    /// Conflict policy as the CLI's `--policy` takes it (default `manual`).
    #[uniffi(default = None)]
    pub policy: Option<String>,
    /// `left-to-right`, `right-to-left` or `both` (default).
    #[uniffi(default = None)]
    pub direction: Option<String>,
    /// Now in milliseconds since the epoch, for the operation id (default: the system clock).
    #[uniffi(default = None)]
    pub now_ms: Option<i64>,
    /// How contents in the maps are hashed.
    #[uniffi(default = None)]
    pub hash: Option<HashOptions>,
}

/// The plan a sync of these three maps (key to digest or text content) would run.
#[uniffi::export(default(options = None))]
pub fn plan(
    base: HashMap<String, String>,
    left: HashMap<String, String>,
    right: HashMap<String, String>,
    options: Option<PlanOptions>,
) -> Result<Plan> {
    let o = options.unwrap_or_default();
    let opts =
        api::PlanOptions { policy: o.policy, direction: o.direction, now_ms: o.now_ms, hash: HashOptions::api(o.hash) };
    let v = api::plan(&entries(base), &entries(left), &entries(right), &opts)?;
    Ok(decode::<core::Plan>("plan", v)?.into())
}

/// How text merge conflicts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConflictStyle {
    /// `<<<<<<<`, `=======`, `>>>>>>>` (git's default).
    Merge,
    /// Also the base between `|||||||` and `=======`.
    Diff3,
    /// diff3 with lines common to both sides moved out of the hunk.
    Zdiff3,
}

/// How text conflicts are resolved instead of being marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Favor {
    /// Write conflict markers (`none` in the other bindings; `.none` would clash with
    /// Swift's `Optional.none`).
    Markers,
    /// Take the left side of each conflict.
    Ours,
    /// Take the right side of each conflict.
    Theirs,
    /// Take both sides, left first.
    Union,
}

/// Options of a text merge; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct MergeTextOptions {
    /// Labels after the markers: left, base, right (default `left`, `base`, `right`).
    #[uniffi(default = None)]
    pub labels: Option<Vec<String>>,
    /// Conflict style (default `Merge`).
    #[uniffi(default = None)]
    pub style: Option<ConflictStyle>,
    /// Resolution instead of markers (default `Markers`).
    #[uniffi(default = None)]
    pub favor: Option<Favor>,
    /// Marker length (default 7).
    #[uniffi(default = None)]
    pub marker_size: Option<u32>,
}

/// A text merge result: the text (with markers where it conflicted) and the conflicts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TextMerge {
    /// The merged text.
    pub text: String,
    /// Number of conflict hunks.
    pub conflicts: u64,
}

/// Merges `left` and `right`, both derived from `base`, line by line as `git merge-file`.
#[uniffi::export(default(options = None))]
pub fn merge_text(base: String, left: String, right: String, options: Option<MergeTextOptions>) -> Result<TextMerge> {
    let o = options.unwrap_or_default();
    let labels = o
        .labels
        .map(|l| {
            <[String; 3]>::try_from(l)
                .map_err(|l| TwinsyncError::invalid(format!("labels: expected 3 (left, base, right), got {}", l.len())))
        })
        .transpose()?;
    let style = o.style.map(|s| match s {
        ConflictStyle::Merge => "merge",
        ConflictStyle::Diff3 => "diff3",
        ConflictStyle::Zdiff3 => "zdiff3",
    });
    let favor = o.favor.map(|f| match f {
        Favor::Markers => "none",
        Favor::Ours => "ours",
        Favor::Theirs => "theirs",
        Favor::Union => "union",
    });
    let opts = api::MergeTextOptions {
        labels,
        style: style.map(str::to_string),
        favor: favor.map(str::to_string),
        marker_size: o.marker_size.map(|n| n as usize),
    };
    let m: core::merge::TextMerge = decode("merge", api::merge_text(&base, &left, &right, &opts)?)?;
    Ok(TextMerge { text: m.text, conflicts: m.conflicts as u64 })
}

/// A JSON merge conflict at one JSON Pointer, with the three values there as JSON text
/// (absent where the value is absent).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JsonConflict {
    /// Where (RFC 6901; empty for the whole document).
    pub pointer: String,
    /// The base value.
    pub base: Option<String>,
    /// The left value.
    pub left: Option<String>,
    /// The right value.
    pub right: Option<String>,
}

/// A JSON merge result; where it conflicted, `value` holds the left version.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JsonMerge {
    /// The merged document as JSON text.
    pub value: String,
    /// Conflicts, in document order.
    pub conflicts: Vec<JsonConflict>,
}

/// Merges JSON documents `left` and `right`, both derived from `base`, key by key;
/// arrays of objects merge per element when `array_id_field` names their id field.
#[uniffi::export(default(array_id_field = None))]
pub fn merge_json(base: String, left: String, right: String, array_id_field: Option<String>) -> Result<JsonMerge> {
    let (b, l, r) = (parse_json("base", &base)?, parse_json("left", &left)?, parse_json("right", &right)?);
    let m: core::merge::JsonMerge = decode("merge", api::merge_json(&b, &l, &r, array_id_field.as_deref())?)?;
    let text = |v: Option<Value>| v.map(|v| v.to_string());
    Ok(JsonMerge {
        value: m.value.to_string(),
        conflicts: m
            .conflicts
            .into_iter()
            .map(|c| JsonConflict { pointer: c.pointer, base: text(c.base), left: text(c.left), right: text(c.right) })
            .collect(),
    })
}
