//! The design model both sides are read into: a component with a name, a source path
//! and props (variant axes, booleans, text, instance swaps), and its canonical JSON.
//!
//! The canonical form sorts props by name and options by value, and leaves out
//! volatile fields (design node ids), so two exports that differ only in key order,
//! whitespace, number spelling or node ids hash to the same digest.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use twinsync_core::canonical::{canonicalize_value, hash_value, CanonicalOptions, IgnoreRules};
use twinsync_core::coverage::{Axis, Component};
use twinsync_core::Digest;

use crate::error::{DesignError, Result};

/// What kind of property a prop is; only `Variant` and `Boolean` span variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PropKind {
    /// A closed set of options (Figma `VARIANT`, a TypeScript literal union).
    Variant,
    /// `true` / `false` (Figma `BOOLEAN`, a `boolean` prop).
    Boolean,
    /// Free text (Figma `TEXT`, a `string` prop).
    Text,
    /// A nested component slot (Figma `INSTANCE_SWAP`, a `ReactNode` prop).
    InstanceSwap,
}

impl PropKind {
    /// Whether the prop is a variant axis (its options multiply the variants).
    pub fn is_axis(self) -> bool {
        matches!(self, PropKind::Variant | PropKind::Boolean)
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            PropKind::Variant => "variant",
            PropKind::Boolean => "boolean",
            PropKind::Text => "text",
            PropKind::InstanceSwap => "instance_swap",
        }
    }
}

/// One prop of a component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prop {
    /// The prop's name as its side spells it (`Show label`, `showLabel`).
    pub name: String,
    /// What kind of prop.
    pub kind: PropKind,
    /// The options of a variant axis (`[true, false]` for booleans, empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Value>,
    /// The default value, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

impl Prop {
    /// The option a story that does not set this prop shows: the default if it is one
    /// of the options, `false` for a boolean without one, else the first option.
    pub fn default_index(&self) -> usize {
        let given = self.default.as_ref().and_then(|d| {
            let k = value_key(d);
            self.options.iter().position(|o| value_key(o) == k)
        });
        given.unwrap_or_else(|| match self.kind {
            PropKind::Boolean => self.options.iter().position(|o| *o == Value::Bool(false)).unwrap_or(0),
            _ => 0,
        })
    }

    /// A boolean prop with options `[true, false]`.
    pub fn boolean(name: impl Into<String>, default: Option<bool>) -> Self {
        Prop {
            name: name.into(),
            kind: PropKind::Boolean,
            options: vec![Value::Bool(true), Value::Bool(false)],
            default: default.map(Value::Bool),
        }
    }

    /// A variant axis with string options.
    pub fn variant<S: Into<String>>(name: impl Into<String>, options: impl IntoIterator<Item = S>) -> Self {
        Prop {
            name: name.into(),
            kind: PropKind::Variant,
            options: options.into_iter().map(|o| Value::String(o.into())).collect(),
            default: None,
        }
    }
}

/// A component as one side (code or design) describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignComponent {
    /// The component's name (`Button`, `Primary Button`).
    pub name: String,
    /// Where it is defined in code (`src/Button.tsx`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Storybook title of its stories (`Forms/Button`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its props.
    #[serde(default)]
    pub props: Vec<Prop>,
    /// Variants the design side draws explicitly (Figma variant children), axis to value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Map<String, Value>>,
    /// A volatile identifier (a Figma node id); never part of the canonical form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl DesignComponent {
    /// A component with a name and props only.
    pub fn new(name: impl Into<String>, props: Vec<Prop>) -> Self {
        DesignComponent { name: name.into(), source: None, title: None, props, variants: Vec::new(), id: None }
    }

    /// The variant axes, as core coverage takes them.
    pub fn to_coverage(&self) -> Component {
        let axes: Arc<[Axis]> = self
            .props
            .iter()
            .filter(|p| p.kind.is_axis())
            .map(|p| Axis {
                name: p.name.clone(),
                options: p.options.clone(),
                default: p.options.get(p.default_index()).cloned(),
            })
            .collect();
        Component { name: self.name.clone(), source: self.source.clone(), axes }
    }

    /// The prop called `name` (exactly).
    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    /// The canonical JSON value: props sorted by name, options and variants sorted,
    /// volatile ids left out.
    pub fn canonical(&self) -> Value {
        let mut c = self.clone();
        c.id = None;
        c.props.sort_by(|a, b| a.name.cmp(&b.name));
        for p in &mut c.props {
            p.options.sort_by_cached_key(value_key);
        }
        c.variants.sort_by_cached_key(|v| {
            let mut pairs: Vec<(String, String)> = v.iter().map(|(k, v)| (k.clone(), value_key(v))).collect();
            pairs.sort();
            pairs
        });
        serde_json::to_value(&c).expect("a component always serialises")
    }

    /// Digest of the canonical JSON, with [`design_ignore_rules`] applied.
    pub fn digest(&self) -> Result<Digest> {
        let opts = CanonicalOptions { ignore: design_ignore_rules(), ..Default::default() };
        hash_value(&self.canonical(), &opts)
            .map_err(|source| DesignError::Canonical { component: self.name.clone(), source })
    }
}

/// Fields dropped before hashing: node ids, timestamps and thumbnails wherever they sit.
pub fn design_ignore_rules() -> IgnoreRules {
    IgnoreRules::new([
        "/**/id",
        "/**/node_id",
        "/**/nodeId",
        "/**/updated_at",
        "/**/updatedAt",
        "/**/lastModified",
        "/**/last_modified",
        "/**/thumbnailUrl",
        "/**/thumbnail_url",
    ])
    .expect("the built-in patterns are valid")
}

/// Lower-case letters and digits only: `Show label`, `showLabel` and `show-label` all
/// become `showlabel`.
pub fn normalise_name(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A value's identity for comparisons: strings as they are, numbers in their canonical
/// (JCS) spelling so `1.0` equals `1`, anything else as canonical JSON.
pub fn value_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => canonicalize_value(other, &CanonicalOptions::default())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| other.to_string()),
    }
}

/// An option's text for display and for story names (`sm`, `true`, `2`).
pub fn option_text(v: &Value) -> String {
    value_key(v)
}
