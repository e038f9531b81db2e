//! Design tokens: the W3C Design Tokens format (`$value`, `$type` inherited from
//! groups, aliases `{group.token}`) and the Tokens Studio flavour (`value` / `type`,
//! token sets at the top level, `$themes` / `$metadata` beside them).
//!
//! Tokens are flattened to dotted paths and aliases resolved, so two files that spell
//! the same values differently (an alias vs. its target's value, `1.0` vs `1`) compare
//! equal.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{DesignError, Result};
use crate::json::{object, ptr};

/// Which token format a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// W3C Design Tokens Community Group format (`$value`).
    W3c,
    /// Tokens Studio for Figma (`value`).
    TokensStudio,
}

/// One token, flattened and resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// Dotted path (`color.brand.primary`).
    pub path: String,
    /// Its type (`color`, `dimension`), own or inherited from a group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The value, with aliases resolved.
    pub value: Value,
    /// The token it aliases (`color.blue.500`), if its value is an alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_of: Option<String>,
}

/// A token file, flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The flavour it was written in.
    pub format: TokenFormat,
    /// Tokens sorted by path.
    pub tokens: Vec<Token>,
}

impl TokenSet {
    /// Tokens by path.
    pub fn by_path(&self) -> BTreeMap<&str, &Token> {
        self.tokens.iter().map(|t| (t.path.as_str(), t)).collect()
    }
}

/// Whether a document looks like a token file: some object has a `$value`, or a
/// `value` next to a `type`.
pub fn looks_like_tokens(v: &Value) -> bool {
    detect(v, 0).is_some()
}

fn detect(v: &Value, depth: usize) -> Option<TokenFormat> {
    let m = v.as_object()?;
    if depth > 64 {
        return None;
    }
    if m.contains_key("$value") {
        return Some(TokenFormat::W3c);
    }
    if m.contains_key("value") && m.get("type").is_some_and(Value::is_string) {
        return Some(TokenFormat::TokensStudio);
    }
    let mut studio = None;
    for (k, child) in m {
        match detect(child, depth + 1) {
            Some(TokenFormat::W3c) => return Some(TokenFormat::W3c),
            Some(TokenFormat::TokensStudio) if !k.starts_with('$') => studio = Some(TokenFormat::TokensStudio),
            _ => {}
        }
    }
    studio
}

struct Raw {
    json_path: String,
    token_type: Option<String>,
    value: Value,
}

/// Parses and resolves a token file.
pub fn parse_tokens(file: &str, v: &Value) -> Result<TokenSet> {
    object(file, "", v)?;
    let format = detect(v, 0)
        .ok_or_else(|| DesignError::invalid(file, "", "no token found (no `$value`, nor `value` with `type`)"))?;
    let mut raw: BTreeMap<String, Raw> = BTreeMap::new();
    collect(file, format, v.as_object().expect("checked"), "", &mut Vec::new(), None, 0, &mut raw)?;
    // Tokens Studio aliases name tokens without their set (`{colors.red}` for
    // `global.colors.red`); index each path also without its first segment.
    let mut short: HashMap<&str, Option<&str>> = HashMap::new();
    if format == TokenFormat::TokensStudio {
        for p in raw.keys() {
            if let Some((_, rest)) = p.split_once('.') {
                short.entry(rest).and_modify(|e| *e = None).or_insert(Some(p.as_str()));
            }
        }
    }
    let lookup = |name: &str| -> Option<String> {
        if raw.contains_key(name) {
            return Some(name.to_string());
        }
        short.get(name).copied().flatten().map(str::to_string)
    };
    let mut tokens = Vec::with_capacity(raw.len());
    for (path, r) in &raw {
        let mut seen = vec![path.clone()];
        let mut cur = &r.value;
        let mut alias_of = None;
        let mut token_type = r.token_type.clone();
        while let Some(target) = alias(cur) {
            let resolved = lookup(target).ok_or_else(|| {
                DesignError::invalid(
                    file,
                    &r.json_path,
                    format!("token {path:?} refers to {{{target}}}, which is not a token in this file"),
                )
            })?;
            if seen.contains(&resolved) {
                seen.push(resolved);
                return Err(DesignError::invalid(file, &r.json_path, format!("alias cycle: {}", seen.join(" -> "))));
            }
            if alias_of.is_none() {
                alias_of = Some(resolved.clone());
            }
            let t = &raw[&resolved];
            if token_type.is_none() {
                token_type = t.token_type.clone();
            }
            cur = &t.value;
            seen.push(resolved);
        }
        tokens.push(Token { path: path.clone(), token_type, value: cur.clone(), alias_of });
    }
    Ok(TokenSet { format, tokens })
}

/// The target of a whole-value alias (`{color.blue}` -> `color.blue`).
fn alias(v: &Value) -> Option<&str> {
    let s = v.as_str()?.trim();
    let inner = s.strip_prefix('{')?.strip_suffix('}')?;
    (!inner.is_empty() && !inner.contains(['{', '}'])).then_some(inner)
}

#[allow(clippy::too_many_arguments)]
fn collect(
    file: &str,
    format: TokenFormat,
    m: &Map<String, Value>,
    json_path: &str,
    names: &mut Vec<String>,
    inherited: Option<&str>,
    depth: usize,
    out: &mut BTreeMap<String, Raw>,
) -> Result<()> {
    if depth > 128 {
        return Err(DesignError::invalid(file, json_path, "token groups nested deeper than 128 levels"));
    }
    let (value_key, type_key) = match format {
        TokenFormat::W3c => ("$value", "$type"),
        TokenFormat::TokensStudio => ("value", "type"),
    };
    let own_type = match m.get(type_key) {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(DesignError::invalid(file, &ptr(json_path, type_key), "a token type must be a string")),
        None => None,
    };
    let ty = own_type.or(inherited);
    if let Some(value) = m.get(value_key) {
        if names.is_empty() {
            return Err(DesignError::invalid(file, json_path, "the document root cannot itself be a token"));
        }
        let path = names.join(".");
        out.insert(
            path,
            Raw { json_path: json_path.to_string(), token_type: ty.map(str::to_string), value: value.clone() },
        );
        return Ok(());
    }
    for (k, child) in m {
        // `$type`, `$description`, `$extensions`, Tokens Studio's `$themes`, `$metadata`.
        if k.starts_with('$') {
            continue;
        }
        if format == TokenFormat::TokensStudio && (k == "type" || k == "description") && !child.is_object() {
            continue;
        }
        if k.contains(['{', '}', '.']) {
            return Err(DesignError::invalid(
                file,
                &ptr(json_path, k),
                format!("token or group name {k:?} contains `{{`, `}}` or `.`, which aliases cannot name"),
            ));
        }
        let cpath = ptr(json_path, k);
        match child {
            Value::Object(cm) => {
                names.push(k.clone());
                collect(file, format, cm, &cpath, names, ty, depth + 1, out)?;
                names.pop();
            }
            _ => {
                return Err(DesignError::invalid(
                    file,
                    &cpath,
                    format!("expected a token or group object under {k:?}, found a plain value"),
                ))
            }
        }
    }
    Ok(())
}
