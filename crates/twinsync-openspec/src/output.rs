//! The JSON documents `openspec list|show|validate --json` print, built from the model
//! with the CLI's field order (serde_json keeps insertion order in this workspace).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::change::{change_deltas, change_title, proposal_sections, ShowDelta};
use crate::spec::Requirement;
use crate::text::locale_compare;
use crate::validate::{validate_change, validate_spec_text, Issue, Report};
use crate::workspace::{last_modified, Workspace};

/// `list` ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Newest file modification first (ties keep name order).
    Recent,
    /// By name.
    Name,
}

/// `{path, source}` for the workspace root.
pub fn root_json(ws: &Workspace) -> Value {
    json!({ "path": ws.root.display().to_string(), "source": ws.root_source })
}

/// ISO-8601 UTC with milliseconds, as `Date.toISOString`.
pub fn iso_time(t: SystemTime) -> String {
    let (secs, millis) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
        Err(e) => {
            let d = e.duration();
            let ms = d.as_millis() as i64;
            let total = -ms;
            (total.div_euclid(1000), total.rem_euclid(1000) as u32)
        }
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `list --json`.
pub fn list_json(ws: &Workspace, sort: Sort) -> Value {
    let mut rows: Vec<(String, SystemTime, Value)> = ws
        .changes
        .iter()
        .map(|c| {
            let p = c.progress();
            let lm = last_modified(&c.dir).unwrap_or(UNIX_EPOCH);
            let mut v = json!({
                "name": c.id,
                "completedTasks": p.completed,
                "totalTasks": p.total,
                "lastModified": iso_time(lm),
                "status": p.status(),
            });
            if !c.nested.is_empty() {
                v["nested"] = json!(c.nested);
            }
            (c.id.clone(), lm, v)
        })
        .collect();
    match sort {
        Sort::Recent => rows.sort_by_key(|r| std::cmp::Reverse(r.1)),
        Sort::Name => rows.sort_by(|a, b| locale_compare(&a.0, &b.0)),
    }
    let warnings: Vec<Value> = ws
        .changes
        .iter()
        .filter(|c| !c.nested.is_empty())
        .map(|c| {
            let message = c.nested_message().unwrap_or_default();
            json!({ "code": "nested_change_directory", "name": c.id, "nested": c.nested, "message": message })
        })
        .collect();
    let mut doc = json!({ "changes": rows.into_iter().map(|r| r.2).collect::<Vec<_>>() });
    if !warnings.is_empty() {
        doc["warnings"] = json!(warnings);
    }
    doc["root"] = root_json(ws);
    doc
}

/// `list --specs --json`.
pub fn list_specs_json(ws: &Workspace) -> Value {
    let mut specs: Vec<(&str, usize)> = ws
        .specs
        .iter()
        .map(|s| (s.id.as_str(), s.parsed.as_ref().map(|p| p.requirements.len()).unwrap_or(0)))
        .collect();
    specs.sort_by(|a, b| locale_compare(a.0, b.0));
    let rows: Vec<Value> = specs.into_iter().map(|(id, n)| json!({ "id": id, "requirementCount": n })).collect();
    json!({ "specs": rows, "root": root_json(ws) })
}

fn requirement_json(r: &Requirement) -> Value {
    json!({
        "text": r.text,
        "scenarios": r.scenarios.iter().map(|s| json!({ "rawText": s.raw_text })).collect::<Vec<_>>(),
    })
}

fn delta_json(d: &ShowDelta) -> Value {
    let mut m = Map::new();
    m.insert("spec".into(), json!(d.spec));
    m.insert("operation".into(), json!(d.operation.as_str()));
    m.insert("description".into(), json!(d.description));
    if let Some(r) = &d.requirement {
        m.insert("requirement".into(), requirement_json(r));
        m.insert("requirements".into(), json!([requirement_json(r)]));
    }
    if let Some((from, to)) = &d.rename {
        m.insert("rename".into(), json!({ "from": from, "to": to }));
    }
    Value::Object(m)
}

/// A `{status:[…]}` failure document.
pub fn status_json(code: &str, message: &str) -> Value {
    json!({ "status": [{ "severity": "error", "code": code, "message": message }] })
}

/// `show <id> --type change --json` (Err holds the failure document).
pub fn show_change_json(ws: &Workspace, id: &str) -> Result<Value, Value> {
    // With the type given, the CLI goes to the directory directly (dot-directories too).
    let Some(c) = ws.changes.iter().find(|c| c.id == id) else {
        let p = ws.root.join("openspec/changes").join(id).join("proposal.md");
        return Err(status_json("show_error", &format!("Change \"{id}\" not found at {}", p.display())));
    };
    if let Some(m) = c.nested_message() {
        return Err(status_json("show_error", &m));
    }
    let Some(proposal) = &c.proposal else {
        return Err(status_json(
            "show_error",
            &format!("Change \"{id}\" has no proposal.md yet. Run \"openspec status --change {id}\" to see which artifact comes next."),
        ));
    };
    let (_, what) = proposal_sections(&proposal.text).map_err(|e| status_json("show_error", &e.message))?;
    let files: Vec<(String, String)> = c.deltas.iter().map(|d| (d.id.clone(), d.file.text.clone())).collect();
    let deltas = change_deltas(&what, &files);
    Ok(json!({
        "id": c.id,
        "title": change_title(&proposal.text, &c.id),
        "deltaCount": deltas.len(),
        "deltas": deltas.iter().map(delta_json).collect::<Vec<_>>(),
        "root": root_json(ws),
    }))
}

/// `show <id> --type spec --json`.
pub fn show_spec_json(ws: &Workspace, id: &str) -> Result<Value, Value> {
    let Some(s) = ws.spec(id) else {
        let p = ws.root.join("openspec/specs").join(id).join("spec.md");
        return Err(status_json("show_error", &format!("Spec '{id}' not found at {}", p.display())));
    };
    let spec = s.parsed.as_ref().map_err(|e| status_json("show_error", &e.message))?;
    Ok(json!({
        "id": s.id,
        "title": s.id,
        "overview": spec.overview,
        "requirementCount": spec.requirements.len(),
        "requirements": spec.requirements.iter().map(requirement_json).collect::<Vec<_>>(),
        "metadata": { "version": "1.0.0", "format": "openspec" },
        "root": root_json(ws),
    }))
}

/// `show <id> [--type …] --json`: resolves the type as the CLI does.
pub fn show_json(ws: &Workspace, id: &str, kind: Option<&str>) -> Result<Value, Value> {
    let is_change = ws.change(id).is_some();
    let is_spec = ws.spec(id).is_some();
    match kind {
        Some("change") => show_change_json(ws, id),
        Some("spec") => show_spec_json(ws, id),
        Some(other) => Err(status_json("show_error", &format!("Invalid type '{other}'. Expected 'change' or 'spec'."))),
        None if is_change && is_spec => Err(json!({ "status": [{
            "severity": "error", "code": "ambiguous_item",
            "message": format!("Ambiguous item '{id}' matches both a change and a spec."),
            "fix": "Pass --type change|spec.",
        }] })),
        None if is_change => show_change_json(ws, id),
        None if is_spec => show_spec_json(ws, id),
        None => Err(status_json("unknown_item", &unknown_message(ws, id))),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b): (Vec<u16>, Vec<u16>) = (a.encode_utf16().collect(), b.encode_utf16().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `Unknown item 'x'.` with up to five nearest ids (changes first, then specs), as the CLI.
pub fn unknown_message(ws: &Workspace, id: &str) -> String {
    let mut candidates: Vec<&str> = ws.changes.iter().map(|c| c.id.as_str()).filter(|c| !c.starts_with('.')).collect();
    candidates.extend(ws.specs.iter().map(|s| s.id.as_str()));
    let mut scored: Vec<(usize, &str)> = candidates.into_iter().map(|c| (levenshtein(id, c), c)).collect();
    scored.sort_by_key(|s| s.0);
    let near: Vec<&str> = scored.into_iter().take(5).map(|s| s.1).collect();
    if near.is_empty() {
        format!("Unknown item '{id}'.")
    } else {
        format!("Unknown item '{id}'. Did you mean: {}?", near.join(", "))
    }
}

fn issue_json(i: &Issue) -> Value {
    let mut m = Map::new();
    m.insert("level".into(), json!(i.level.as_str()));
    m.insert("path".into(), json!(i.path));
    if let Some(l) = i.line {
        m.insert("line".into(), json!(l));
    }
    m.insert("message".into(), json!(i.message));
    Value::Object(m)
}

/// Which items `validate` covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Active changes.
    pub changes: bool,
    /// Main specs.
    pub specs: bool,
}

/// `validate --all|--changes|--specs [--strict] --json`; the bool says whether all passed.
pub fn validate_json(ws: &Workspace, scope: Scope, strict: bool) -> (Value, bool) {
    let mut items: Vec<(String, &'static str, Report, u128)> = Vec::new();
    if scope.changes {
        for c in ws.changes.iter().filter(|c| !c.id.starts_with('.')) {
            let t = Instant::now();
            let r = validate_change(ws, c, strict);
            items.push((c.id.clone(), "change", r, t.elapsed().as_millis()));
        }
    }
    if scope.specs {
        for s in &ws.specs {
            let t = Instant::now();
            let r = validate_spec_text(&s.file.text, strict);
            items.push((s.id.clone(), "spec", r, t.elapsed().as_millis()));
        }
    }
    items.sort_by(|a, b| locale_compare(&a.0, &b.0));
    let tally = |kind: Option<&str>| {
        let sel: Vec<_> = items.iter().filter(|i| kind.map(|k| i.1 == k).unwrap_or(true)).collect();
        let passed = sel.iter().filter(|i| i.2.valid).count();
        json!({ "items": sel.len(), "passed": passed, "failed": sel.len() - passed })
    };
    let mut by_type = Map::new();
    if scope.changes {
        by_type.insert("change".into(), tally(Some("change")));
    }
    if scope.specs {
        by_type.insert("spec".into(), tally(Some("spec")));
    }
    let all_ok = items.iter().all(|i| i.2.valid);
    let rows: Vec<Value> = items
        .iter()
        .map(|(id, kind, r, ms)| {
            json!({
                "id": id, "type": kind, "valid": r.valid,
                "issues": r.issues.iter().map(issue_json).collect::<Vec<_>>(),
                "durationMs": *ms as u64,
            })
        })
        .collect();
    let doc = json!({
        "items": rows,
        "summary": { "totals": tally(None), "byType": Value::Object(by_type) },
        "version": "1.0",
        "root": root_json(ws),
    });
    (doc, all_ok)
}

/// `validate --archived --json`: archived changes with unfinished tasks fail.
pub fn validate_archived_json(ws: &Workspace) -> (Value, bool) {
    let mut rows = Vec::new();
    let (mut passed, mut failed) = (0usize, 0usize);
    for c in &ws.archived {
        let t = Instant::now();
        let p = c.progress();
        let open = p.total.saturating_sub(p.completed);
        let mut issues = Vec::new();
        if open > 0 {
            let s = if open == 1 { "" } else { "s" };
            issues.push(json!({ "level": "ERROR", "path": "tasks.md",
                "message": format!("{open} incomplete task{s} ({}/{} completed)", p.completed, p.total) }));
        }
        let valid = issues.is_empty();
        if valid {
            passed += 1;
        } else {
            failed += 1;
        }
        rows.push(json!({ "id": c.id, "type": "change", "valid": valid, "issues": issues,
            "durationMs": t.elapsed().as_millis() as u64 }));
    }
    let tally = json!({ "items": rows.len(), "passed": passed, "failed": failed });
    let doc = json!({
        "items": rows,
        "summary": { "totals": tally.clone(), "byType": { "change": tally } },
        "version": "1.0",
        "root": root_json(ws),
    });
    (doc, failed == 0)
}
