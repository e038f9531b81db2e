//! Reading any supported file and recognising its format from its content, so the CLI
//! takes `--code` and `--design` without a format flag.

use std::path::Path;

use serde_json::Value;

use crate::error::{DesignError, Result};
use crate::figma::{looks_like_figma, parse_figma};
use crate::json::parse;
use crate::model::DesignComponent;
use crate::storybook::{parse_index, parse_plain_components, parse_storybook_manifest, ComponentManifest, StoryIndex};
use crate::tokens::{looks_like_tokens, parse_tokens, TokenSet};

/// The content of one input file, by format.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Storybook `index.json` / `stories.json`.
    Index(StoryIndex),
    /// twinsync `components.json` or Storybook `manifests/components.json`.
    Components(ComponentManifest),
    /// A Figma file: its components.
    Figma(Vec<DesignComponent>),
    /// A design token file.
    Tokens(TokenSet),
}

impl Input {
    /// A word naming the format, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Input::Index(_) => "Storybook index",
            Input::Components(_) => "components manifest",
            Input::Figma(_) => "Figma file",
            Input::Tokens(_) => "design tokens",
        }
    }
}

/// Recognises and parses a document; `file` names it in errors.
pub fn parse_input(file: &str, v: &Value) -> Result<Input> {
    if !v.is_object() {
        return Err(DesignError::invalid(file, "", "expected a JSON object at the top level"));
    }
    if v.get("v").is_some() && (v.get("entries").is_some() || v.get("stories").is_some()) {
        return parse_index(file, v).map(Input::Index);
    }
    match v.get("components") {
        Some(Value::Array(_)) => return parse_plain_components(file, v).map(Input::Components),
        Some(Value::Object(_)) if !looks_like_figma(v) => {
            return parse_storybook_manifest(file, v).map(Input::Components)
        }
        _ => {}
    }
    if looks_like_figma(v) {
        return parse_figma(file, v).map(Input::Figma);
    }
    if looks_like_tokens(v) {
        return parse_tokens(file, v).map(Input::Tokens);
    }
    Err(DesignError::UnknownFormat {
        file: file.to_string(),
        problem: "not a Storybook index (v + entries), a components manifest (components), a Figma file \
                  (document or nodes) or a token file ($value, or value + type)"
            .into(),
    })
}

/// Reads, parses and recognises a file.
pub fn load(path: &Path) -> Result<Input> {
    let bytes = std::fs::read(path).map_err(|source| DesignError::Io { path: path.to_path_buf(), source })?;
    let file = path.display().to_string();
    parse_input(&file, &parse(&file, &bytes)?)
}

/// Parses bytes (already read) under the label `file`.
pub fn load_bytes(file: &str, bytes: &[u8]) -> Result<Input> {
    parse_input(file, &parse(file, bytes)?)
}

/// Reads a file that must hold components (a components manifest or a Figma file),
/// with any tests it records.
pub fn load_components(path: &Path) -> Result<(Vec<DesignComponent>, Vec<twinsync_core::coverage::TestRecord>)> {
    match load(path)? {
        Input::Components(m) => Ok((m.components, m.tests)),
        Input::Figma(c) => Ok((c, Vec::new())),
        other => Err(DesignError::UnknownFormat {
            file: path.display().to_string(),
            problem: format!("expected components (components.json or a Figma file), found {}", other.kind()),
        }),
    }
}

/// Reads a file that must be a Storybook index.
pub fn load_index(path: &Path) -> Result<StoryIndex> {
    match load(path)? {
        Input::Index(ix) => Ok(ix),
        other => Err(DesignError::UnknownFormat {
            file: path.display().to_string(),
            problem: format!("expected a Storybook index.json, found {}", other.kind()),
        }),
    }
}
