//! Changes: the proposal (Why / What Changes / title), the deltas `show` reports (spec
//! delta files first, the legacy What Changes bullets only when no file has a delta section).

use crate::delta::{parse_delta_spec, DeltaPlan, Operation, RequirementBlock};
use crate::spec::{requirements_of, Requirement};
use crate::tasks::js_ws;
use crate::text::{js_trim, normalize, re, Outline};

/// One delta as `show --json` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowDelta {
    /// Capability id.
    pub spec: String,
    /// Operation.
    pub operation: Operation,
    /// Human description (`Add requirement: …`).
    pub description: String,
    /// The requirement, for ADDED / MODIFIED / REMOVED from delta files.
    pub requirement: Option<Requirement>,
    /// The rename, for RENAMED.
    pub rename: Option<(String, String)>,
}

/// Why a proposal cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProposalError {
    /// The CLI's message.
    pub message: String,
}

/// The proposal's Why and What Changes (errors as the CLI words them).
pub fn proposal_sections(content: &str) -> Result<(String, String), ProposalError> {
    let outline = Outline::of_text(content);
    let get = |t: &str| outline.find(t).map(|i| outline.sections[i].content.clone()).unwrap_or_default();
    let why = get("Why");
    let what = get("What Changes");
    if why.is_empty() {
        return Err(ProposalError { message: "Change must have a Why section".into() });
    }
    if what.is_empty() {
        return Err(ProposalError { message: "Change must have a What Changes section".into() });
    }
    Ok((why, what))
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// The change title: first `# Title` (`Change:` stripped) in the raw text, not fence aware,
/// falling back to the id (also for a bare `# Proposal`).
pub fn change_title(raw: &str, id: &str) -> String {
    let found = find_title(raw);
    match found {
        Some(t) => {
            let t = js_trim(&t).to_string();
            if t.is_empty() || t.to_lowercase() == "proposal" {
                id.to_string()
            } else {
                t
            }
        }
        None => id.to_string(),
    }
}

fn find_title(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut starts = vec![0usize];
    for (i, c) in raw.char_indices() {
        if is_line_terminator(c) {
            starts.push(i + c.len_utf8());
        }
    }
    for &p in &starts {
        if bytes.get(p) != Some(&b'#') {
            continue;
        }
        let after_hash = p + 1;
        let ws_end = skip(raw, after_hash, js_ws);
        if ws_end == after_hash {
            continue;
        }
        // Optional `Change:` prefix followed by white space and some text.
        let rest = &raw[ws_end..];
        if rest.len() >= 7 && rest.is_char_boundary(7) && rest[..7].eq_ignore_ascii_case("change:") {
            let a = skip(raw, ws_end + 7, js_ws);
            if a > ws_end + 7 {
                let t = line_run(raw, a);
                if !t.is_empty() {
                    return Some(t);
                }
            }
        }
        let t = line_run(raw, ws_end);
        if !t.is_empty() {
            return Some(t);
        }
        // `\s+` may give back its last character when that is not a line break.
        let last = raw[after_hash..ws_end].chars().last();
        if let Some(c) = last {
            if !is_line_terminator(c) {
                return Some(c.to_string());
            }
        }
    }
    None
}

fn skip(s: &str, mut i: usize, f: fn(char) -> bool) -> usize {
    while let Some(c) = s[i..].chars().next() {
        if f(c) {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    i
}

fn line_run(s: &str, i: usize) -> String {
    s[i..].chars().take_while(|c| !is_line_terminator(*c)).collect()
}

re!(simple_delta_re, r"^\s*-\s*\*\*([^*:]+)(?::\*\*|\*\*:)\s*(.+)$");
re!(rename_re, r"\brename(s|d|ing)?\b");
re!(renamed_re, r"\brenamed\s+(to|from)\b");
re!(add_re, r"\badd(s|ed|ing)?\b");
re!(create_re, r"\bcreate(s|d|ing)?\b");
re!(new_re, r"\bnew\b");
re!(remove_re, r"\bremove(s|d|ing)?\b");
re!(delete_re, r"\bdelete(s|d|ing)?\b");

/// Legacy `- **spec:** text` deltas from What Changes, operation guessed from keywords.
pub fn simple_deltas(what_changes: &str) -> Vec<ShowDelta> {
    let mut out = Vec::new();
    for line in what_changes.split('\n') {
        let Some(m) = simple_delta_re().captures(line) else { continue };
        let spec = js_trim(&m[1]).to_string();
        let description = js_trim(&m[2]).to_string();
        let low = description.to_lowercase();
        let operation = if rename_re().is_match(&low) || renamed_re().is_match(&low) {
            Operation::Renamed
        } else if add_re().is_match(&low) || create_re().is_match(&low) || new_re().is_match(&low) {
            Operation::Added
        } else if remove_re().is_match(&low) || delete_re().is_match(&low) {
            Operation::Removed
        } else {
            Operation::Modified
        };
        out.push(ShowDelta { spec, operation, description, requirement: None, rename: None });
    }
    out
}

re!(req_title_re, r"(?i)^Requirement:\s*\S");
re!(h3_prefix_re, r"^###\s*");

/// The requirement `show` reads from a delta block (None when its header has no name).
pub fn block_requirement(block: &RequirementBlock) -> Option<Requirement> {
    let mut lines = block.raw.split('\n');
    let header = lines.next().unwrap_or("");
    let title = js_trim(&h3_prefix_re().replace(header, "")).to_string();
    let text = std::iter::once(format!("### {title}")).chain(lines.map(str::to_string)).collect::<Vec<_>>().join("\n");
    let outline = Outline::of_text(&text);
    let first = outline.sections.iter().position(|s| s.parent.is_none())?;
    // Treat the first section as the only child of a synthetic Requirements section.
    let mut sub = Outline { sections: outline.sections.clone() };
    sub.sections.insert(
        0,
        crate::text::Section { level: 0, title: String::new(), content: String::new(), line: 0, parent: None },
    );
    for s in sub.sections.iter_mut().skip(1) {
        s.parent = s.parent.map(|p| p + 1);
    }
    sub.sections[first + 1].parent = Some(0);
    let reqs = requirements_of(&sub, 0, |t| req_title_re().is_match(js_trim(t)));
    reqs.into_iter().next()
}

/// The deltas of one delta file, in the order `show` lists them.
pub fn plan_deltas(spec: &str, plan: &DeltaPlan) -> Vec<ShowDelta> {
    let mut out = Vec::new();
    let push = |op: Operation, prefix: &str, block: &RequirementBlock, out: &mut Vec<ShowDelta>| {
        if let Some(req) = block_requirement(block) {
            out.push(ShowDelta {
                spec: spec.to_string(),
                operation: op,
                description: format!("{prefix}{}", req.text),
                requirement: Some(req),
                rename: None,
            });
        }
    };
    for b in &plan.added {
        push(Operation::Added, "Add requirement: ", b, &mut out);
    }
    for b in &plan.modified {
        push(Operation::Modified, "Modify requirement: ", b, &mut out);
    }
    let mut removed_blocks = plan.removed_blocks.clone();
    for name in &plan.removed {
        let block = match removed_blocks.iter().position(|b| &b.name == name) {
            Some(i) => removed_blocks.remove(i),
            None => {
                let h = format!("### Requirement: {name}");
                RequirementBlock { header_line: h.clone(), name: name.clone(), raw: h, line: 0 }
            }
        };
        push(Operation::Removed, "Remove requirement: ", &block, &mut out);
    }
    for r in &plan.renamed {
        out.push(ShowDelta {
            spec: spec.to_string(),
            operation: Operation::Renamed,
            description: format!("Rename requirement from \"{}\" to \"{}\"", r.from, r.to),
            requirement: None,
            rename: Some((r.from.clone(), r.to.clone())),
        });
    }
    out
}

/// All deltas `show` reports for a change, given its What Changes text and its delta files
/// (`(capability id, file text)` sorted by id).
pub fn change_deltas(what_changes: &str, files: &[(String, String)]) -> Vec<ShowDelta> {
    let mut out = Vec::new();
    let mut any = false;
    for (id, content) in files {
        let plan = parse_delta_spec(content);
        any |= plan.has_sections();
        out.extend(plan_deltas(id, &plan));
    }
    if any {
        out
    } else {
        simple_deltas(&normalize(what_changes))
    }
}
