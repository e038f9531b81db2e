//! `openspec validate` rules (1.13.2): change deltas checked against each other and the
//! main specs (including the archive dry run), main specs checked for structure, Purpose
//! and requirement shape, and task-file warnings. Messages are the CLI's, word for word.

use std::collections::{HashMap, HashSet};

use crate::delta::{
    describe_balance, diff_scenarios, fold_requirement_name, main_spec_blocks, normalize_requirement_name,
    parse_delta_spec, requirement_header_name, DeltaPlan, RequirementBlock,
};
use crate::spec::parse_spec;
use crate::tasks::{missing_checkbox_issues, numbering_issues};
use crate::text::{
    count_empty_scenarios, count_scenarios, fence_mask, has_shall_or_must, js_trim, re, requirement_body,
};
use crate::workspace::{Change, Workspace};

/// Severity of an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Fails validation.
    Error,
    /// Fails only with `--strict`.
    Warning,
    /// Never fails.
    Info,
}

impl Level {
    /// `ERROR`, `WARNING` or `INFO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warning => "WARNING",
            Level::Info => "INFO",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Severity.
    pub level: Level,
    /// Where (delta path, `file`, `overview`, `requirements[N]`, …).
    pub path: String,
    /// The CLI's message.
    pub message: String,
    /// 1-based line, when the CLI gives one.
    pub line: Option<usize>,
}

fn issue(level: Level, path: &str, message: String) -> Issue {
    Issue { level, path: path.to_string(), message, line: None }
}

/// The result for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Valid under the chosen mode.
    pub valid: bool,
    /// Findings in the CLI's order.
    pub issues: Vec<Issue>,
}

impl Report {
    fn new(issues: Vec<Issue>, strict: bool) -> Report {
        let errors = issues.iter().any(|i| i.level == Level::Error);
        let warnings = issues.iter().any(|i| i.level == Level::Warning);
        Report { valid: !(errors || strict && warnings), issues }
    }
}

const GUIDE_NO_DELTAS: &str = "No deltas found. Ensure your change has a specs/ directory with capability folders (e.g. specs/http-server/spec.md) containing .md files that use delta headers (## ADDED/MODIFIED/REMOVED/RENAMED Requirements) and that each requirement includes at least one \"#### Scenario:\" block. If this change intentionally modifies no specs (pure refactor, tooling, docs), set \"skip_specs: true\" in the change's .openspec.yaml instead. Tip: run \"openspec change show <change-id> --json --deltas-only\" to inspect parsed deltas.";
const GUIDE_MISSING_SPEC_SECTIONS: &str = "Missing required sections. Expected headers: \"## Purpose\" and \"## Requirements\". Example:\n## Purpose\n[brief purpose]\n\n## Requirements\n### Requirement: Clear requirement statement\nUsers SHALL ...\n\n#### Scenario: Descriptive name\n- **WHEN** ...\n- **THEN** ...";
const GUIDE_SCENARIO_FORMAT: &str = "Scenarios must use level-4 headers. Convert bullet lists into:\n#### Scenario: Short name\n- **WHEN** ...\n- **THEN** ...\n- **AND** ...";
const PURPOSE_IS_PLACEHOLDER: &str = "Purpose section is still a placeholder rather than a Purpose anyone wrote (the sentence `openspec archive` writes for a new capability, or a `TBD`/`TODO` marker left in its place). Replace it with what this capability is for, editing the main spec directly: a `## Purpose` in a delta is read only when the capability is created, so it cannot replace this one.";
const PLACEHOLDER_PREFIX: &str = "TBD - created by archiving change ";
const PLACEHOLDER_SUFFIX: &str = ". Update Purpose after archive.";
const SKIP_SPECS_CONFLICT: &str = "skip_specs is set in .openspec.yaml but spec files exist under specs/. Remove skip_specs or delete the delta spec files";
const SKIP_SPECS_ACCEPTED: &str =
    "skip_specs is set in .openspec.yaml: change declares no spec-level behavior changes, zero deltas accepted";

fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn shall_message(prefix: &str, name: &str, guidance: bool) -> String {
    let base = format!("{prefix} {} contain SHALL or MUST", if guidance { "should" } else { "must" });
    let suffix = if guidance { " (RFC 2119 best practice for English specs)" } else { "" };
    if has_shall_or_must(name) {
        format!("{base} in the requirement body, not only in the header. Move the SHALL/MUST statement to the line immediately after the \"### Requirement: ...\" header.{suffix}")
    } else {
        format!("{base}{suffix}")
    }
}

fn block_checks(op: &str, block: &RequirementBlock, path: &str, issues: &mut Vec<Issue>) {
    let body = block.body_lines();
    let text = requirement_body(&body);
    if text.is_empty() {
        let msg = if has_shall_or_must(&block.name) {
            shall_message(&format!("{op} \"{}\"", block.name), &block.name, false)
        } else {
            format!("{op} \"{}\" is missing requirement text", block.name)
        };
        issues.push(issue(Level::Error, path, msg));
    } else if !has_shall_or_must(&text) {
        issues.push(issue(Level::Warning, path, shall_message(&format!("{op} \"{}\"", block.name), &block.name, true)));
    }
    if count_scenarios(&body) < 1 {
        let hint = if count_empty_scenarios(&body) == 0 {
            ""
        } else {
            " (a scenario header with no body under it does not count; add its steps, e.g. \"- **WHEN** ...\" and \"- **THEN** ...\")"
        };
        issues.push(issue(
            Level::Error,
            path,
            format!("{op} \"{}\" must include at least one scenario{hint}", block.name),
        ));
    }
}

fn scenario_loss(plan: &DeltaPlan, main: Option<&str>, path: &str) -> Vec<Issue> {
    let Some(main) = main else { return Vec::new() };
    let mut current: HashMap<String, RequirementBlock> = HashMap::new();
    for b in main_spec_blocks(main) {
        current.insert(normalize_requirement_name(&b.name), b);
    }
    let renamed_from: HashMap<String, String> =
        plan.renamed.iter().map(|r| (normalize_requirement_name(&r.to), normalize_requirement_name(&r.from))).collect();
    let renamed_away: HashSet<String> = plan.renamed.iter().map(|r| normalize_requirement_name(&r.from)).collect();
    let mut out = Vec::new();
    for block in &plan.modified {
        let key = normalize_requirement_name(&block.name);
        if renamed_away.contains(&key) {
            continue;
        }
        let mut visited = HashSet::new();
        let mut k = Some(key);
        let mut found = None;
        while let Some(name) = k {
            if visited.contains(&name) {
                break;
            }
            if let Some(b) = current.get(&name) {
                found = Some(b);
                break;
            }
            k = renamed_from.get(&name).cloned();
            visited.insert(name);
        }
        let Some(cur) = found else { continue };
        let d = diff_scenarios(&cur.raw, &block.raw);
        if d.missing.is_empty() {
            continue;
        }
        let missing: Vec<String> = d.missing.iter().map(|n| format!("\"{n}\"")).collect();
        out.push(issue(
            Level::Error,
            path,
            format!(
                "MODIFIED \"{}\" omits scenario(s) the current spec still has: {}. {} Copy the omitted scenarios into the MODIFIED block (a MODIFIED requirement replaces the whole block, so archive refuses to drop them).",
                block.name,
                missing.join(", "),
                describe_balance(&d)
            ),
        ));
    }
    out
}

/// What `openspec archive` would do with one delta file: `Err` carries its refusal.
pub fn archive_dry_run(spec_id: &str, change_id: &str, delta: &str, target: Option<&str>) -> Result<(), String> {
    let plan = parse_delta_spec(delta);
    let s = spec_id;
    if let Some(u) = plan.unpaired_renames.first() {
        let missing = if u.side == "FROM" { "TO" } else { "FROM" };
        return Err(format!("{s} validation failed - RENAMED entry on line {} has no matching {missing}: for header \"### Requirement: {}\". Write each rename as a FROM: line followed immediately by its TO: line.", u.line, u.name));
    }
    let mut added = HashSet::new();
    for a in &plan.added {
        if !added.insert(normalize_requirement_name(&a.name)) {
            return Err(format!(
                "{s} validation failed - duplicate requirement in ADDED for header \"### Requirement: {}\"",
                a.name
            ));
        }
    }
    let mut modified = Vec::new();
    for m in &plan.modified {
        let n = normalize_requirement_name(&m.name);
        if modified.contains(&n) {
            return Err(format!(
                "{s} validation failed - duplicate requirement in MODIFIED for header \"### Requirement: {}\"",
                m.name
            ));
        }
        modified.push(n);
    }
    let mut removed = Vec::new();
    for r in &plan.removed {
        let n = normalize_requirement_name(r);
        if removed.contains(&n) {
            return Err(format!(
                "{s} validation failed - duplicate requirement in REMOVED for header \"### Requirement: {r}\""
            ));
        }
        removed.push(n);
    }
    let (mut from_set, mut to_set) = (HashSet::new(), HashSet::new());
    for r in &plan.renamed {
        let (f, t) = (normalize_requirement_name(&r.from), normalize_requirement_name(&r.to));
        if from_set.contains(&f) {
            return Err(format!(
                "{s} validation failed - duplicate FROM in RENAMED for header \"### Requirement: {}\"",
                r.from
            ));
        }
        if to_set.contains(&t) {
            return Err(format!(
                "{s} validation failed - duplicate TO in RENAMED for header \"### Requirement: {}\"",
                r.to
            ));
        }
        from_set.insert(f);
        to_set.insert(t);
    }
    let mut conflicts = Vec::new();
    for n in &modified {
        if removed.contains(n) {
            conflicts.push((n.clone(), "MODIFIED", "REMOVED"));
        }
        if added.contains(n) {
            conflicts.push((n.clone(), "MODIFIED", "ADDED"));
        }
    }
    for a in &plan.added {
        let n = normalize_requirement_name(&a.name);
        if removed.contains(&n) && !conflicts.iter().any(|c| c.0 == n && c.1 == "ADDED") {
            conflicts.push((n, "ADDED", "REMOVED"));
        }
    }
    for r in &plan.renamed {
        let (f, t) = (normalize_requirement_name(&r.from), normalize_requirement_name(&r.to));
        if let Some(rm) = removed.iter().find(|x| fold_requirement_name(x) == fold_requirement_name(&f)) {
            let extra = if *rm == f { String::new() } else { format!(" (REMOVED spells it \"{rm}\")") };
            return Err(format!("{s} validation failed - requirement present in multiple sections (RENAMED and REMOVED) for header \"### Requirement: {}\"{extra}", r.from));
        }
        if modified.contains(&f) {
            return Err(format!("{s} validation failed - when a rename exists, MODIFIED must reference the NEW header \"### Requirement: {}\"", r.to));
        }
        if added.contains(&t) {
            return Err(format!(
                "{s} validation failed - RENAMED TO header collides with ADDED for \"### Requirement: {}\"",
                r.to
            ));
        }
    }
    if let Some((n, a, b)) = conflicts.first() {
        return Err(format!("{s} validation failed - requirement present in multiple sections ({a} and {b}) for header \"### Requirement: {n}\""));
    }
    if plan.entry_count() == 0 {
        return Err(format!("Delta parsing found no operations for {s}. Provide ADDED/MODIFIED/REMOVED/RENAMED sections in change spec."));
    }
    let (target, is_new) = match target {
        Some(t) => (t.to_string(), false),
        None => {
            if !plan.modified.is_empty() || !plan.renamed.is_empty() {
                return Err(format!("{s}: target spec does not exist; only ADDED requirements are allowed for new specs. MODIFIED and RENAMED operations require an existing spec."));
            }
            (format!("# {s} Specification\n\n## Purpose\n{PLACEHOLDER_PREFIX}{change_id}{PLACEHOLDER_SUFFIX}\n\n## Requirements\n"), true)
        }
    };
    let structure = main_spec_structure_issues(&target);
    if !structure.is_empty() {
        let details: Vec<String> = structure.iter().map(|(l, m)| format!("line {l}: {m}")).collect();
        return Err(format!(
            "{s}: target spec is structurally invalid and cannot be updated until fixed:\n{}",
            details.join("\n")
        ));
    }
    let mut blocks: Vec<(String, RequirementBlock)> =
        main_spec_blocks(&target).into_iter().map(|b| (normalize_requirement_name(&b.name), b)).collect();
    let find = |blocks: &Vec<(String, RequirementBlock)>, k: &str| blocks.iter().position(|(n, _)| n == k);
    // A JS Map keeps the last block for a duplicated name in the first one's position.
    let mut dedup: Vec<(String, RequirementBlock)> = Vec::new();
    for (k, b) in blocks.drain(..) {
        match find(&dedup, &k) {
            Some(i) => dedup[i].1 = b,
            None => dedup.push((k, b)),
        }
    }
    let mut blocks = dedup;
    for r in &plan.renamed {
        let (f, t) = (normalize_requirement_name(&r.from), normalize_requirement_name(&r.to));
        let Some(fi) = find(&blocks, &f) else {
            if find(&blocks, &t).is_some() {
                if let Some((_, b)) =
                    blocks.iter().find(|(k, _)| *k != t && fold_requirement_name(k) == fold_requirement_name(&f))
                {
                    return Err(format!("{s} RENAMED failed for header \"### Requirement: {}\" - source not found, but \"### Requirement: {}\" exists; fix the header to match it exactly", r.from, b.name));
                }
                continue;
            }
            return Err(format!("{s} RENAMED failed for header \"### Requirement: {}\" - source not found", r.from));
        };
        if find(&blocks, &t).is_some() {
            return Err(format!("{s} RENAMED failed for header \"### Requirement: {}\" - target already exists", r.to));
        }
        if let Some((_, b)) =
            blocks.iter().find(|(k, _)| *k != f && fold_requirement_name(k) == fold_requirement_name(&t))
        {
            return Err(format!("{s} RENAMED failed for header \"### Requirement: {}\" - \"### Requirement: {}\" already exists and differs only in case or spacing; choose a distinct name", r.to, b.name));
        }
        let (_, mut b) = blocks.remove(fi);
        let h = format!("### Requirement: {t}");
        let mut lines: Vec<&str> = b.raw.split('\n').collect();
        lines[0] = &h;
        b.raw = lines.join("\n");
        b.header_line = h.clone();
        b.name = t.clone();
        blocks.push((t, b));
    }
    for name in &plan.removed {
        let k = normalize_requirement_name(name);
        match find(&blocks, &k) {
            Some(i) => {
                blocks.remove(i);
            }
            None => {
                if !is_new {
                    if let Some((_, b)) =
                        blocks.iter().find(|(x, _)| fold_requirement_name(x) == fold_requirement_name(&k))
                    {
                        return Err(format!("{s} REMOVED failed for header \"### Requirement: {name}\" - not found, but \"### Requirement: {}\" exists; fix the header to match it exactly", b.name));
                    }
                }
            }
        }
    }
    for m in &plan.modified {
        let k = normalize_requirement_name(&m.name);
        let Some(i) = find(&blocks, &k) else {
            return Err(format!("{s} MODIFIED failed for header \"### Requirement: {}\" - not found", m.name));
        };
        let header = m.raw.split('\n').next().unwrap_or("");
        if requirement_header_name(header).as_deref() != Some(k.as_str()) {
            return Err(format!(
                "{s} MODIFIED failed for header \"### Requirement: {}\" - header mismatch in content",
                m.name
            ));
        }
        let d = diff_scenarios(&blocks[i].1.raw, &m.raw);
        if !d.missing.is_empty() {
            let missing: Vec<String> = d.missing.iter().map(|n| format!("\"{n}\"")).collect();
            return Err(format!("{s} MODIFIED failed for header \"### Requirement: {}\" - current spec contains scenario(s) not present in the modified block: {}. {} Refresh the change spec before archiving to avoid dropping scenarios.", m.name, missing.join(", "), describe_balance(&d)));
        }
        blocks[i].1 = m.clone();
    }
    let norm_raw = |r: &str| js_trim(&crate::text::normalize(r)).to_string();
    for a in &plan.added {
        let k = normalize_requirement_name(&a.name);
        if let Some(i) = find(&blocks, &k) {
            if norm_raw(&blocks[i].1.raw) == norm_raw(&a.raw) {
                continue;
            }
            return Err(format!("{s} ADDED failed for header \"### Requirement: {}\" - already exists", a.name));
        }
        if let Some((_, b)) = blocks.iter().find(|(x, _)| fold_requirement_name(x) == fold_requirement_name(&k)) {
            return Err(format!("{s} ADDED failed for header \"### Requirement: {}\" - \"### Requirement: {}\" already exists and differs only in case or spacing; use MODIFIED with that exact header to change it, or choose a distinct name", a.name, b.name));
        }
        blocks.push((k, a.clone()));
    }
    Ok(())
}

re!(requirements_section_re, r"(?i)^##\s+Requirements\s*$");
re!(top_section_re, r"^##\s+");
re!(delta_header_re, r"(?i)^##\s+(ADDED|MODIFIED|REMOVED|RENAMED)\s+Requirements\s*$");
re!(strict_req_header_re, r"(?i)^###\s+Requirement:\s*(.+)\s*$");

/// Structural errors of a main spec: delta headers, requirements outside `## Requirements`,
/// duplicate requirement names. `(line, message)` pairs.
pub fn main_spec_structure_issues(content: &str) -> Vec<(usize, String)> {
    let norm = content.replace("\r\n", "\n").replace('\r', "\n");
    let raw: Vec<&str> = norm.split('\n').collect();
    let mask = fence_mask(&raw);
    let lines: Vec<&str> = raw.iter().enumerate().map(|(i, l)| if mask[i] { "" } else { *l }).collect();
    let h = lines.iter().position(|l| requirements_section_re().is_match(l));
    let end =
        h.and_then(|h| (h + 1..lines.len()).find(|&i| top_section_re().is_match(lines[i]))).unwrap_or(lines.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = js_trim(line);
        if t.is_empty() {
            continue;
        }
        if delta_header_re().is_match(line) {
            out.push((i + 1, format!("Main spec contains delta header \"{t}\". Delta headers are only valid inside openspec/changes/<name>/specs/<capability-path>/spec.md and truncate the parsed ## Requirements section.")));
            continue;
        }
        let Some(m) = strict_req_header_re().captures(line) else { continue };
        let inside = h.map(|h| i > h && i < end).unwrap_or(false);
        if !inside {
            out.push((i + 1, format!("Requirement header \"{t}\" appears outside the main ## Requirements section. Main specs only parse requirements inside that section, so this requirement is currently invisible to validate, list, and archive.")));
            continue;
        }
        let name = normalize_requirement_name(&m[1]);
        match seen.get(&name) {
            Some(prev) => out.push((i + 1, format!("Requirement header \"{t}\" duplicates the requirement declared on line {prev}. Requirement names must be unique so spec updates cannot discard one block while updating another."))),
            None => {
                seen.insert(name, i + 1);
            }
        }
    }
    out
}

/// Validates one active change the way `validate --all` does.
pub fn validate_change(ws: &Workspace, change: &Change, strict: bool) -> Report {
    if let Some(m) = change.nested_message() {
        return Report::new(vec![issue(Level::Error, "file", m)], strict);
    }
    let mut issues = Vec::new();
    let mut total = 0usize;
    let mut missing_header = Vec::new();
    let mut empty_sections: Vec<(String, Vec<&str>)> = Vec::new();
    if change.root_level_spec {
        issues.push(issue(Level::Error, "spec.md", "Delta spec found at specs/spec.md. Delta specs must live under a capability path (e.g. specs/<capability-path>/spec.md) — a file at the specs/ root is ignored when the change is applied or archived.".into()));
    }
    for df in &change.deltas {
        let plan = &df.plan;
        let path = df.file.rel.as_str();
        for h in &plan.skipped_headers {
            let nameless = {
                let l = h.header.to_lowercase();
                l == "requirement" || l == "requirement:"
            };
            let message = if nameless {
                format!("Header \"### {}\" in {} is missing a requirement name and is ignored by validation. Add a name, e.g. \"### Requirement: <name>\".", h.header, h.section)
            } else {
                format!("Header \"### {}\" in {} is not a \"### Requirement:\" header and is ignored by validation. Use \"### Requirement: {}\" if it should be validated as a requirement.", h.header, h.section, h.header)
            };
            issues.push(Issue { level: Level::Info, path: path.into(), message, line: Some(h.line) });
        }
        for u in &plan.unpaired_renames {
            let missing = if u.side == "FROM" { "TO" } else { "FROM" };
            issues.push(Issue {
                level: Level::Error,
                path: path.into(),
                message: format!("RENAMED {}: \"{}\" has no matching {missing}: line. Write each rename as a FROM: line followed immediately by its TO: line.", u.side, u.name),
                line: Some(u.line),
            });
        }
        for o in &plan.orphans {
            let where_ = match &o.section {
                Some(s) => format!("under \"## {s}\""),
                None => "above the first \"## \" section".into(),
            };
            issues.push(Issue {
                level: Level::Warning,
                path: path.into(),
                message: format!("Requirement \"{}\" is {where_}, which is not a delta section, so it is ignored. Move it under \"## ADDED Requirements\", \"## MODIFIED Requirements\", \"## REMOVED Requirements\", or \"## RENAMED Requirements\".", o.name),
                line: Some(o.line),
            });
        }
        let names =
            ["## ADDED Requirements", "## MODIFIED Requirements", "## REMOVED Requirements", "## RENAMED Requirements"];
        let sections: Vec<&str> = (0..4).filter(|&i| plan.presence[i]).map(|i| names[i]).collect();
        if plan.entry_count() == 0 {
            if sections.is_empty() {
                missing_header.push(path.to_string());
            } else {
                empty_sections.push((path.to_string(), sections));
            }
        }
        let mut added = HashSet::new();
        let mut modified = Vec::new();
        let mut removed = Vec::new();
        for b in &plan.added {
            total += 1;
            if !added.insert(normalize_requirement_name(&b.name)) {
                issues.push(issue(Level::Error, path, format!("Duplicate requirement in ADDED: \"{}\"", b.name)));
            }
            block_checks("ADDED", b, path, &mut issues);
        }
        for b in &plan.modified {
            total += 1;
            let k = normalize_requirement_name(&b.name);
            if modified.contains(&k) {
                issues.push(issue(Level::Error, path, format!("Duplicate requirement in MODIFIED: \"{}\"", b.name)));
            } else {
                modified.push(k);
            }
            block_checks("MODIFIED", b, path, &mut issues);
        }
        if !plan.modified.is_empty() {
            issues.extend(scenario_loss(plan, ws.main_spec_text(&df.id), path));
        }
        for n in &plan.removed {
            total += 1;
            let k = normalize_requirement_name(n);
            if removed.contains(&k) {
                issues.push(issue(Level::Error, path, format!("Duplicate requirement in REMOVED: \"{n}\"")));
            } else {
                removed.push(k);
            }
        }
        let (mut rf, mut rt) = (HashSet::new(), HashSet::new());
        for r in &plan.renamed {
            total += 1;
            if !rf.insert(normalize_requirement_name(&r.from)) {
                issues.push(issue(Level::Error, path, format!("Duplicate FROM in RENAMED: \"{}\"", r.from)));
            }
            if !rt.insert(normalize_requirement_name(&r.to)) {
                issues.push(issue(Level::Error, path, format!("Duplicate TO in RENAMED: \"{}\"", r.to)));
            }
        }
        for n in &modified {
            if removed.contains(n) {
                issues.push(issue(
                    Level::Error,
                    path,
                    format!("Requirement present in both MODIFIED and REMOVED: \"{n}\""),
                ));
            }
            if added.contains(n) {
                issues.push(issue(
                    Level::Error,
                    path,
                    format!("Requirement present in both MODIFIED and ADDED: \"{n}\""),
                ));
            }
        }
        let mut added_order: Vec<String> = Vec::new();
        for b in &plan.added {
            let k = normalize_requirement_name(&b.name);
            if !added_order.contains(&k) {
                added_order.push(k);
            }
        }
        for n in &added_order {
            if removed.contains(n) {
                issues.push(issue(
                    Level::Error,
                    path,
                    format!("Requirement present in both ADDED and REMOVED: \"{n}\""),
                ));
            }
        }
        for r in &plan.renamed {
            let (f, t) = (normalize_requirement_name(&r.from), normalize_requirement_name(&r.to));
            if modified.contains(&f) {
                issues.push(issue(
                    Level::Error,
                    path,
                    format!("MODIFIED references old name from RENAMED. Use new header for \"{}\"", r.to),
                ));
            }
            if added.contains(&t) {
                issues.push(issue(Level::Error, path, format!("RENAMED TO collides with ADDED for \"{}\"", r.to)));
            }
            if let Some(rm) = removed.iter().find(|x| fold_requirement_name(x) == fold_requirement_name(&f)) {
                let extra = if *rm == f { String::new() } else { format!(" (REMOVED spells it \"{rm}\")") };
                issues.push(issue(
                    Level::Error,
                    path,
                    format!("Requirement present in both RENAMED and REMOVED: \"{}\"{extra}", r.from),
                ));
            }
        }
    }
    // Archive dry run for files not already reported.
    let mut reported: HashSet<String> =
        issues.iter().filter(|i| i.level == Level::Error).map(|i| i.path.clone()).collect();
    reported.extend(missing_header.iter().cloned());
    reported.extend(empty_sections.iter().map(|e| e.0.clone()));
    for df in &change.deltas {
        let entry = format!("{}/spec.md", df.id);
        if reported.contains(&entry) {
            continue;
        }
        if let Err(msg) = archive_dry_run(&df.id, &change.id, &df.file.text, ws.main_spec_text(&df.id)) {
            issues.push(issue(Level::Info, &entry, format!("Archive would refuse this delta: {msg}")));
        }
    }
    for (p, expected) in &change.unread_delta_files {
        issues.push(issue(Level::Error, p, format!("Delta spec found at specs/{p}. Delta specs must be a spec.md inside a capability folder — this file is ignored when the change is applied or archived. Move its requirements into specs/{expected}.")));
    }
    for (p, sections) in &empty_sections {
        let list = match sections.len() {
            1 => sections[0].to_string(),
            n => format!("{} and {}", sections[..n - 1].join(", "), sections[n - 1]),
        };
        issues.push(issue(Level::Error, p, format!("Delta sections {list} were found, but no requirement entries parsed. Ensure each section includes at least one \"### Requirement:\" block (REMOVED may use bullet list syntax).")));
    }
    for p in &missing_header {
        issues.push(issue(Level::Error, p, "No delta sections found. Add headers such as \"## ADDED Requirements\" or move non-delta notes outside specs/.".into()));
    }
    let skip = change.skip_specs();
    let specs_has_files = skip && crate::workspace::has_any_file(&change.dir.join("specs"));
    if skip && specs_has_files {
        issues.push(issue(Level::Error, "file", SKIP_SPECS_CONFLICT.into()));
    }
    if total == 0 && !change.root_level_spec && change.unread_delta_files.is_empty() {
        if skip && !specs_has_files {
            issues.push(issue(Level::Info, "file", SKIP_SPECS_ACCEPTED.into()));
        } else if !skip {
            issues.push(issue(Level::Error, "file", format!("Change must have at least one delta. {GUIDE_NO_DELTAS}")));
        }
    }
    let docs: Vec<(String, String)> = change.task_files.iter().map(|f| (f.rel.clone(), f.text.clone())).collect();
    let task_issue = |t: crate::tasks::TaskIssue| Issue {
        level: Level::Warning,
        path: t.path,
        message: t.message,
        line: Some(t.line),
    };
    issues.extend(missing_checkbox_issues(&docs).into_iter().map(task_issue));
    if ws.uses_builtin_spec_driven(change) {
        issues.extend(numbering_issues(&docs).into_iter().map(task_issue));
    }
    Report::new(issues, strict)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || crate::text::general_mark(c)
}

/// Whether a Purpose is the archive placeholder or starts with a TBD/TODO marker, and where.
fn purpose_placeholder(overview: &str, content: &str) -> Option<Option<usize>> {
    let unfenced = |t: &str| -> Vec<String> {
        let n = t.replace("\r\n", "\n").replace('\r', "\n");
        let lines: Vec<&str> = n.split('\n').collect();
        let m = fence_mask(&lines);
        lines.iter().enumerate().filter(|(i, _)| !m[*i]).map(|(_, l)| l.to_string()).collect()
    };
    let prose = unfenced(overview).join("\n");
    let prose = js_trim(&prose);
    let leading = leading_marker(prose);
    if !leading && placeholder_index(prose).is_none() {
        return None;
    }
    Some(placeholder_line(content, leading))
}

fn leading_marker(prose: &str) -> bool {
    for (i, m) in ["TBD", "TODO"].iter().enumerate() {
        let _ = i;
        let n = m.len();
        if prose.len() < n || !prose.is_char_boundary(n) {
            continue;
        }
        let head = &prose[..n];
        let rest = &prose[n..];
        let next = rest.chars().next();
        if next.map(is_word_char).unwrap_or(false) {
            continue;
        }
        if head == *m {
            return true;
        }
        if head.eq_ignore_ascii_case(m) {
            let r = rest.trim_start_matches([' ', '\t']);
            match r.chars().next() {
                None | Some('\n') => return true,
                Some(c) if ":-\u{2013}\u{2014}.,;()[]{}".contains(c) => return true,
                _ => {}
            }
        }
    }
    false
}

fn placeholder_index(text: &str) -> Option<usize> {
    let prefixes: Vec<usize> = text.match_indices(PLACEHOLDER_PREFIX).map(|(i, _)| i).collect();
    for (at, _) in text.match_indices(PLACEHOLDER_SUFFIX) {
        if let Some(p) = prefixes.iter().rev().find(|&&p| p <= at) {
            return Some(*p);
        }
    }
    None
}

re!(purpose_header_re, r"(?i)^ {0,3}##[ \t]+Purpose[ \t]*$");
re!(top_header_re, r"^ {0,3}#{1,2}[ \t]+");

fn placeholder_line(content: &str, leading: bool) -> Option<usize> {
    let n = content.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = n.split('\n').collect();
    let m = fence_mask(&lines);
    let h = (0..lines.len()).find(|&i| !m[i] && purpose_header_re().is_match(lines[i]))?;
    let mut purpose: Vec<(usize, &str)> = Vec::new();
    for i in h + 1..lines.len() {
        if m[i] {
            continue;
        }
        if top_header_re().is_match(lines[i]) {
            break;
        }
        if leading && !js_trim(lines[i]).is_empty() {
            return Some(i + 1);
        }
        purpose.push((i + 1, lines[i]));
    }
    if leading {
        return None;
    }
    let text = purpose.iter().map(|p| p.1).collect::<Vec<_>>().join("\n");
    let at = placeholder_index(&text)?;
    let offset = text[..at].matches('\n').count();
    purpose.get(offset).map(|p| p.0)
}

/// Validates one main spec the way `validate --all` does.
pub fn validate_spec_text(content: &str, strict: bool) -> Report {
    let mut issues = Vec::new();
    let spec = match parse_spec(content) {
        Ok(s) => s,
        Err(e) => {
            issues.push(issue(Level::Error, "file", format!("{}. {GUIDE_MISSING_SPEC_SECTIONS}", e.message)));
            return Report::new(issues, strict);
        }
    };
    if spec.overview.is_empty() {
        issues.push(issue(Level::Error, "overview", "Purpose section cannot be empty".into()));
    }
    if spec.requirements.is_empty() {
        issues.push(issue(Level::Error, "requirements", "Spec must have at least one requirement".into()));
    }
    for (i, r) in spec.requirements.iter().enumerate() {
        if r.text.is_empty() {
            issues.push(issue(
                Level::Error,
                &format!("requirements.{i}.text"),
                "Requirement text cannot be empty".into(),
            ));
        }
        if r.scenarios.is_empty() {
            issues.push(issue(
                Level::Error,
                &format!("requirements.{i}.scenarios"),
                "Requirement must have at least one scenario".into(),
            ));
        }
    }
    for (line, message) in main_spec_structure_issues(content) {
        issues.push(Issue { level: Level::Error, path: "file".into(), message, line: Some(line) });
    }
    if let Some(line) = purpose_placeholder(&spec.overview, content) {
        issues.push(Issue {
            level: Level::Warning,
            path: "overview".into(),
            message: PURPOSE_IS_PLACEHOLDER.into(),
            line,
        });
    } else if js_len(&spec.overview) < 50 {
        issues.push(issue(Level::Warning, "overview", "Purpose section is too brief (less than 50 characters)".into()));
    }
    for (i, r) in spec.requirements.iter().enumerate() {
        if js_len(&r.text) > 500 {
            issues.push(issue(
                Level::Info,
                &format!("requirements[{i}]"),
                "Requirement text is very long (>500 characters). Consider breaking it down.".into(),
            ));
        }
        if r.scenarios.is_empty() {
            issues.push(issue(
                Level::Warning,
                &format!("requirements[{i}].scenarios"),
                format!("Requirement must have at least one scenario. {GUIDE_SCENARIO_FORMAT}"),
            ));
        }
    }
    for (i, b) in main_spec_blocks(content).iter().enumerate() {
        let text = requirement_body(&b.body_lines());
        let p = format!("requirements[{i}]");
        if text.is_empty() {
            issues.push(issue(Level::Error, &p, shall_message(&format!("Requirement \"{}\"", b.name), &b.name, false)));
        } else if !has_shall_or_must(&text) {
            issues.push(issue(
                Level::Warning,
                &p,
                shall_message(&format!("Requirement \"{}\"", b.name), &b.name, true),
            ));
        }
    }
    Report::new(issues, strict)
}
