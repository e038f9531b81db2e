//! Code-side inputs: Storybook's built `index.json` (v4, v5 and the legacy v3
//! `stories.json`), Storybook's `manifests/components.json` (props with their literal
//! unions, from react-docgen), and twinsync's own plain `components.json`.
//!
//! Titles and ids are read as Storybook built them; nothing here re-derives a title.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use twinsync_core::coverage::TestRecord;

use crate::error::{DesignError, Result};
use crate::json::{array, object, opt_str, ptr, req_str, type_name};
use crate::model::{DesignComponent, Prop, PropKind};

/// Whether an index entry is a story or a docs page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryType {
    /// A rendered story.
    Story,
    /// A docs page (autodocs or MDX).
    Docs,
}

/// One entry of a Storybook index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Story id (`example-button--primary`).
    pub id: String,
    /// Story or docs.
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    /// Title (`Example/Button`).
    pub title: String,
    /// Display name (`Primary`).
    pub name: String,
    /// The CSF file (`./src/stories/Button.stories.ts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_path: Option<String>,
    /// Tags (`autodocs`, `play-fn`, `a11y`, ...).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The component file, when Storybook recorded it (v5, Storybook 9+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_path: Option<String>,
    /// The story's export name, when Storybook recorded it (v5, Storybook 9+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_name: Option<String>,
}

/// A parsed Storybook index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryIndex {
    /// Format version (`v`): 3, 4 or 5.
    pub version: u32,
    /// Entries in file order.
    pub entries: Vec<IndexEntry>,
}

impl StoryIndex {
    /// The story entries (docs pages left out).
    pub fn stories(&self) -> impl Iterator<Item = &IndexEntry> {
        self.entries.iter().filter(|e| e.entry_type == EntryType::Story)
    }
}

/// Parses an `index.json` (v4/v5) or legacy `stories.json` (v3).
pub fn parse_index(file: &str, v: &Value) -> Result<StoryIndex> {
    let root = object(file, "", v)?;
    let version = match root.get("v") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as u32,
        Some(other) => {
            return Err(DesignError::invalid(file, "/v", format!("expected a number, found {}", type_name(other))))
        }
        None => return Err(DesignError::invalid(file, "", "missing the format version \"v\"; not a Storybook index")),
    };
    let (member, legacy) = match version {
        4 | 5 => ("entries", false),
        3 => ("stories", true),
        other => {
            return Err(DesignError::invalid(
                file,
                "/v",
                format!("index format version {other} is not supported (3, 4 and 5 are)"),
            ))
        }
    };
    let entries_path = format!("/{member}");
    let map = object(file, &entries_path, root.get(member).unwrap_or(&Value::Null))?;
    let mut entries = Vec::with_capacity(map.len());
    for (key, e) in map {
        let path = ptr(&entries_path, key);
        let m = object(file, &path, e)?;
        let id = req_str(file, &path, m, "id")?;
        if id != key {
            return Err(DesignError::invalid(file, &path, format!("entry is keyed {key:?} but its id is {id:?}")));
        }
        let title = match (opt_str(file, &path, m, "title")?, legacy) {
            (Some(t), _) => t,
            (None, true) => req_str(file, &path, m, "kind")?,
            (None, false) => req_str(file, &path, m, "title")?,
        };
        let name = match (opt_str(file, &path, m, "name")?, legacy) {
            (Some(n), _) => n,
            (None, true) => req_str(file, &path, m, "story")?,
            (None, false) => req_str(file, &path, m, "name")?,
        };
        let entry_type = match opt_str(file, &path, m, "type")? {
            Some("story") => EntryType::Story,
            Some("docs") => EntryType::Docs,
            Some(other) => {
                return Err(DesignError::invalid(
                    file,
                    &ptr(&path, "type"),
                    format!("unknown entry type {other:?} (expected \"story\" or \"docs\")"),
                ))
            }
            // v3 has no type: docs-only entries say so in their parameters.
            None if legacy => {
                let docs_only = m.get("parameters").and_then(|p| p.get("docsOnly")).and_then(Value::as_bool);
                if docs_only == Some(true) {
                    EntryType::Docs
                } else {
                    EntryType::Story
                }
            }
            None => return Err(DesignError::invalid(file, &path, "missing required member \"type\"")),
        };
        let mut tags = Vec::new();
        if let Some(t) = m.get("tags") {
            let tpath = ptr(&path, "tags");
            for (i, tag) in array(file, &tpath, t)?.iter().enumerate() {
                match tag {
                    Value::String(s) => tags.push(s.clone()),
                    other => {
                        return Err(DesignError::invalid(
                            file,
                            &ptr(&tpath, &i.to_string()),
                            format!("a tag must be a string, found {}", type_name(other)),
                        ))
                    }
                }
            }
        }
        entries.push(IndexEntry {
            id: id.to_string(),
            entry_type,
            title: title.to_string(),
            name: name.to_string(),
            import_path: opt_str(file, &path, m, "importPath")?.map(str::to_string),
            tags,
            component_path: opt_str(file, &path, m, "componentPath")?.map(str::to_string),
            export_name: opt_str(file, &path, m, "exportName")?.map(str::to_string),
        });
    }
    Ok(StoryIndex { version, entries })
}

/// Components and tests from a code-side manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentManifest {
    /// The components.
    pub components: Vec<DesignComponent>,
    /// Tests found for them (only the plain format records these).
    #[serde(default)]
    pub tests: Vec<TestRecord>,
}

/// Parses twinsync's plain `components.json`:
/// `{"components": [{"name", "source"?, "title"?, "props": [{"name", "kind", "options"?, "default"?}]}], "tests"?: [...]}`.
pub fn parse_plain_components(file: &str, v: &Value) -> Result<ComponentManifest> {
    let root = object(file, "", v)?;
    let list = array(file, "/components", root.get("components").unwrap_or(&Value::Null))?;
    let mut components = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let path = format!("/components/{i}");
        let m = object(file, &path, c)?;
        let name = req_str(file, &path, m, "name")?;
        if name.trim().is_empty() {
            return Err(DesignError::invalid(file, &ptr(&path, "name"), "a component name must not be empty"));
        }
        let mut comp: DesignComponent = serde_json::from_value(c.clone())
            .map_err(|e| DesignError::invalid(file, &path, format!("component {name:?}: {e}")))?;
        for (j, p) in comp.props.iter_mut().enumerate() {
            let ppath = format!("{path}/props/{j}");
            if p.kind == PropKind::Boolean && p.options.is_empty() {
                p.options = vec![Value::Bool(true), Value::Bool(false)];
            }
            if p.kind == PropKind::Variant && p.options.is_empty() {
                return Err(DesignError::invalid(file, &ppath, format!("variant prop {:?} has no options", p.name)));
            }
        }
        components.push(comp);
    }
    let tests = match root.get("tests") {
        None => Vec::new(),
        Some(t) => {
            serde_json::from_value(t.clone()).map_err(|e| DesignError::invalid(file, "/tests", e.to_string()))?
        }
    };
    Ok(ComponentManifest { components, tests })
}

/// Parses Storybook's `manifests/components.json`: `{"v", "components": {id: {"name",
/// "path", "reactDocgen": {"props": {...}}}}}`. Props become variant axes when their
/// type is a union of literals (or an enum), booleans, text when `string`, and
/// instance swaps when a React node or element; other props (callbacks, objects) have
/// no design counterpart and are left out.
pub fn parse_storybook_manifest(file: &str, v: &Value) -> Result<ComponentManifest> {
    let root = object(file, "", v)?;
    let map = object(file, "/components", root.get("components").unwrap_or(&Value::Null))?;
    let mut components = Vec::with_capacity(map.len());
    for (key, c) in map {
        let path = ptr("/components", key);
        let m = object(file, &path, c)?;
        let name = req_str(file, &path, m, "name")?;
        let source = opt_str(file, &path, m, "path")?.map(str::to_string);
        let mut props = Vec::new();
        // react-docgen, react-docgen-typescript, or a framework's own docgen member.
        let docgen_key = ["reactDocgen", "reactDocgenTypescript", "docgen"].into_iter().find(|k| m.contains_key(*k));
        if let Some(key) = docgen_key {
            let dg = &m[key];
            let dpath = ptr(&path, key);
            let dm = object(file, &dpath, dg)?;
            if let Some(pv) = dm.get("props") {
                let ppath = ptr(&dpath, "props");
                for (pname, pdef) in object(file, &ppath, pv)? {
                    let path = ptr(&ppath, pname);
                    if let Some(p) = docgen_prop(file, &path, pname, object(file, &path, pdef)?)? {
                        props.push(p);
                    }
                }
            }
        }
        components.push(DesignComponent {
            name: name.to_string(),
            source,
            title: None,
            props,
            variants: Vec::new(),
            id: None,
        });
    }
    Ok(ComponentManifest { components, tests: Vec::new() })
}

/// A literal as react-docgen writes it (`'sm'`, `"sm"`, `2`, `true`) as a JSON value.
fn docgen_literal(raw: &str) -> Option<Value> {
    let t = raw.trim();
    for q in ['\'', '"', '`'] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return Some(Value::String(t[1..t.len() - 1].to_string()));
        }
    }
    match t {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => serde_json::from_str::<serde_json::Number>(t).ok().map(Value::Number),
    }
}

fn docgen_prop(file: &str, path: &str, name: &str, def: &Map<String, Value>) -> Result<Option<Prop>> {
    // TypeScript components carry `tsType`; PropTypes components carry `type`.
    let ty = def.get("tsType").or_else(|| def.get("type"));
    let Some(ty) = ty else { return Ok(None) };
    let tpath = ptr(path, if def.contains_key("tsType") { "tsType" } else { "type" });
    let tm = object(file, &tpath, ty)?;
    let tname = req_str(file, &tpath, tm, "name")?;
    let default = def
        .get("defaultValue")
        .and_then(|d| d.get("value"))
        .and_then(Value::as_str)
        // react-docgen quotes string defaults (`'md'`); react-docgen-typescript does not (`md`).
        .map(|raw| docgen_literal(raw).unwrap_or_else(|| Value::String(raw.to_string())));
    let kind_options: Option<(PropKind, Vec<Value>)> = match tname {
        "boolean" | "bool" => Some((PropKind::Boolean, vec![Value::Bool(true), Value::Bool(false)])),
        "string" => Some((PropKind::Text, Vec::new())),
        "ReactNode" | "ReactReactNode" | "React.ReactNode" | "ReactElement" | "JSX.Element" | "node" | "element" => {
            Some((PropKind::InstanceSwap, Vec::new()))
        }
        "union" | "enum" => {
            // tsType unions list `elements`; PropTypes enums list `value`.
            let list = tm.get("elements").or_else(|| tm.get("value"));
            let mut options = Vec::new();
            let mut all_literal = list.is_some();
            if let Some(Value::Array(items)) = list {
                for it in items {
                    let raw =
                        it.get("value").and_then(Value::as_str).or_else(|| it.get("name").and_then(Value::as_str));
                    match raw.and_then(docgen_literal) {
                        Some(v) if !options.contains(&v) => options.push(v),
                        Some(_) => {}
                        // `undefined` in an optional union is not an option.
                        None if raw == Some("undefined") || raw == Some("null") => {}
                        None => all_literal = false,
                    }
                }
            } else if let Some(raw) = tm.get("raw").and_then(Value::as_str) {
                all_literal = true;
                for part in raw.split('|') {
                    match docgen_literal(part) {
                        Some(v) => options.push(v),
                        None if matches!(part.trim(), "undefined" | "null") => {}
                        None => all_literal = false,
                    }
                }
            }
            if all_literal && !options.is_empty() {
                if options.iter().all(Value::is_boolean) && options.len() == 2 {
                    Some((PropKind::Boolean, vec![Value::Bool(true), Value::Bool(false)]))
                } else {
                    Some((PropKind::Variant, options))
                }
            } else {
                None
            }
        }
        _ => None,
    };
    Ok(kind_options.map(|(kind, options)| {
        let default = default.filter(|d| kind.is_axis() && options.contains(d) || kind == PropKind::Text);
        Prop { name: name.to_string(), kind, options, default }
    }))
}
