//! Design-side input: Figma REST file JSON (`GET /v1/files/:key`, and the
//! `GET /v1/files/:key/nodes` shape with a `nodes` map).
//!
//! A `COMPONENT_SET` becomes one component: its `componentPropertyDefinitions` give
//! the props (`VARIANT` with `variantOptions`, `BOOLEAN`, `TEXT`, `INSTANCE_SWAP`),
//! and its children, named `Size=Small, State=Hover`, give the variants the design
//! actually draws. A `COMPONENT` outside any set is a component with the non-variant
//! props it defines. Property keys carry `#id` suffixes (`Show label#12:3`) that change
//! whenever a property is recreated; they are stripped. Instances are usages, not
//! definitions, and are skipped.

use serde_json::{Map, Value};

use crate::error::{DesignError, Result};
use crate::json::{array, object, opt_str, ptr, req_str, type_name};
use crate::model::{DesignComponent, Prop, PropKind};

/// Nesting beyond this is refused rather than walked (Figma documents are far shallower).
const MAX_DEPTH: usize = 512;

/// `Show label#12:3` -> `Show label`; names without an id suffix are returned as they are.
pub fn strip_property_id(key: &str) -> &str {
    match key.rfind('#') {
        Some(i)
            if i + 1 < key.len()
                && key[i + 1..].bytes().all(|b| b.is_ascii_digit() || b == b':' || b == b';' || b == b'-') =>
        {
            &key[..i]
        }
        _ => key,
    }
}

/// Parses a variant child's name (`Size=Small, State=Hover`) into axis/value pairs;
/// `None` when a part has no `=`.
pub fn parse_variant_name(name: &str) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    for part in name.split(',') {
        let (k, v) = part.split_once('=')?;
        out.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
    }
    Some(out)
}

/// Whether a JSON document looks like a Figma file or nodes response.
pub fn looks_like_figma(v: &Value) -> bool {
    v.get("document").and_then(|d| d.get("type")).is_some() || v.get("nodes").is_some_and(Value::is_object)
}

/// The components a Figma file defines, in document order.
pub fn parse_figma(file: &str, v: &Value) -> Result<Vec<DesignComponent>> {
    let root = object(file, "", v)?;
    let mut out = Vec::new();
    if let Some(doc) = root.get("document") {
        walk(file, "/document", doc, false, 0, &mut out)?;
    } else if let Some(nodes) = root.get("nodes") {
        for (id, n) in object(file, "/nodes", nodes)? {
            let path = ptr("/nodes", id);
            // A node the API could not find comes back as null.
            if n.is_null() {
                continue;
            }
            let nm = object(file, &path, n)?;
            if let Some(doc) = nm.get("document") {
                walk(file, &ptr(&path, "document"), doc, false, 0, &mut out)?;
            }
        }
    } else {
        return Err(DesignError::invalid(file, "", "neither \"document\" nor \"nodes\": not a Figma file response"));
    }
    Ok(out)
}

fn walk(
    file: &str,
    path: &str,
    node: &Value,
    in_set: bool,
    depth: usize,
    out: &mut Vec<DesignComponent>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(DesignError::invalid(file, path, format!("nodes nested deeper than {MAX_DEPTH} levels")));
    }
    let m = object(file, path, node)?;
    let ty = req_str(file, path, m, "type")?;
    match ty {
        "COMPONENT_SET" => {
            out.push(component(file, path, m, true)?);
            return Ok(());
        }
        "COMPONENT" if !in_set => {
            out.push(component(file, path, m, false)?);
            return Ok(());
        }
        _ => {}
    }
    if let Some(children) = m.get("children") {
        let cpath = ptr(path, "children");
        for (i, c) in array(file, &cpath, children)?.iter().enumerate() {
            walk(file, &ptr(&cpath, &i.to_string()), c, in_set, depth + 1, out)?;
        }
    }
    Ok(())
}

fn component(file: &str, path: &str, m: &Map<String, Value>, is_set: bool) -> Result<DesignComponent> {
    let name = req_str(file, path, m, "name")?;
    let id = opt_str(file, path, m, "id")?.map(str::to_string);
    let mut props: Vec<Prop> = Vec::new();
    if let Some(defs) = m.get("componentPropertyDefinitions") {
        let dpath = ptr(path, "componentPropertyDefinitions");
        for (key, def) in object(file, &dpath, defs)? {
            let ppath = ptr(&dpath, key);
            let dm = object(file, &ppath, def)?;
            let pname = strip_property_id(key).trim();
            if pname.is_empty() {
                return Err(DesignError::invalid(file, &ppath, "a property name is empty once its #id is stripped"));
            }
            let kind = match req_str(file, &ppath, dm, "type")? {
                "VARIANT" => PropKind::Variant,
                "BOOLEAN" => PropKind::Boolean,
                "TEXT" => PropKind::Text,
                "INSTANCE_SWAP" => PropKind::InstanceSwap,
                other => {
                    return Err(DesignError::invalid(
                        file,
                        &ptr(&ppath, "type"),
                        format!("unknown property type {other:?} (expected VARIANT, BOOLEAN, TEXT or INSTANCE_SWAP)"),
                    ))
                }
            };
            let options = match kind {
                PropKind::Variant => {
                    let opath = ptr(&ppath, "variantOptions");
                    let list = dm.get("variantOptions").ok_or_else(|| {
                        DesignError::invalid(file, &ppath, "a VARIANT property needs \"variantOptions\"")
                    })?;
                    let mut opts = Vec::new();
                    for (i, o) in array(file, &opath, list)?.iter().enumerate() {
                        match o {
                            Value::String(_) => opts.push(o.clone()),
                            other => {
                                return Err(DesignError::invalid(
                                    file,
                                    &ptr(&opath, &i.to_string()),
                                    format!("a variant option must be a string, found {}", type_name(other)),
                                ))
                            }
                        }
                    }
                    if opts.is_empty() {
                        return Err(DesignError::invalid(file, &opath, "a VARIANT property has no options"));
                    }
                    opts
                }
                PropKind::Boolean => vec![Value::Bool(true), Value::Bool(false)],
                _ => Vec::new(),
            };
            // An instance swap's default is a node id: volatile, so not part of the model.
            let default = match kind {
                PropKind::InstanceSwap => None,
                _ => dm.get("defaultValue").cloned().filter(|v| !v.is_null()),
            };
            if props.iter().any(|p| p.name == pname) {
                return Err(DesignError::invalid(
                    file,
                    &ppath,
                    format!("property {pname:?} is defined twice (after stripping #id suffixes)"),
                ));
            }
            props.push(Prop { name: pname.to_string(), kind, options, default });
        }
    }
    let mut variants = Vec::new();
    if is_set {
        if let Some(children) = m.get("children") {
            let cpath = ptr(path, "children");
            for (i, c) in array(file, &cpath, children)?.iter().enumerate() {
                let chpath = ptr(&cpath, &i.to_string());
                let cm = object(file, &chpath, c)?;
                if cm.get("type").and_then(Value::as_str) != Some("COMPONENT") {
                    continue;
                }
                let cname = req_str(file, &chpath, cm, "name")?;
                let v = parse_variant_name(cname).ok_or_else(|| {
                    DesignError::invalid(
                        file,
                        &ptr(&chpath, "name"),
                        format!("variant name {cname:?} is not of the form `Prop=Value, Prop=Value`"),
                    )
                })?;
                variants.push(v);
            }
        }
    }
    Ok(DesignComponent { name: name.to_string(), source: None, title: None, props, variants, id })
}
