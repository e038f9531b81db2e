//! Delta specs (`changes/<id>/specs/<cap>/spec.md`): the ADDED / MODIFIED / REMOVED /
//! RENAMED sections read as the CLI's archive and validate readers read them (1.13 rules:
//! repeated and case-variant sections merge, `*`/`+` bullets, unpaired renames reported).

use crate::text::{fence_mask, js_trim, normalize, re};

re!(req_header_re, r"(?i)^###\s*Requirement:\s*(.+)\s*$");
re!(top_header_re, r"^##\s+");
re!(h2_re, r"^(##)\s+(.+)$");
re!(h3_re, r"^###\s+(.+?)\s*$");
re!(closing_hashes_re, r"[ \t]+#+[ \t]*$");
re!(removed_bullet_re, r"^\s*[-*+]\s*`?###\s*Requirement:\s*(.+?)`?\s*$");
re!(from_re, r"^\s*[-*+]?\s*FROM:\s*`?###\s*Requirement:\s*(.+?)`?\s*$");
re!(to_re, r"^\s*[-*+]?\s*TO:\s*`?###\s*Requirement:\s*(.+?)`?\s*$");

/// The four delta operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `## ADDED Requirements`
    Added,
    /// `## MODIFIED Requirements`
    Modified,
    /// `## REMOVED Requirements`
    Removed,
    /// `## RENAMED Requirements`
    Renamed,
}

impl Operation {
    /// The upper-case name the CLI prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Added => "ADDED",
            Operation::Modified => "MODIFIED",
            Operation::Removed => "REMOVED",
            Operation::Renamed => "RENAMED",
        }
    }
}

/// Strips a closing `###` run and trims, as requirement names are compared.
pub fn normalize_requirement_name(name: &str) -> String {
    js_trim(&closing_hashes_re().replace(name, "")).to_string()
}

/// Case and white-space fold of a name, used only to spot near-miss typos.
pub fn fold_requirement_name(name: &str) -> String {
    let n = normalize_requirement_name(name).to_lowercase();
    n.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Name of a `### Requirement:` header line, if it is one.
pub fn requirement_header_name(line: &str) -> Option<String> {
    if !line.starts_with("###") {
        return None;
    }
    req_header_re().captures(line).map(|m| normalize_requirement_name(&m[1]))
}

/// One `### Requirement:` block: header line plus body up to the next requirement or `## `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementBlock {
    /// The header line as written.
    pub header_line: String,
    /// Normalised name.
    pub name: String,
    /// Header and body, trailing white space trimmed.
    pub raw: String,
    /// 1-based line of the header in its file.
    pub line: usize,
}

impl RequirementBlock {
    /// Body lines (after the header).
    pub fn body_lines(&self) -> Vec<&str> {
        self.raw.split('\n').skip(1).collect()
    }
}

/// A RENAMED pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// Old name.
    pub from: String,
    /// New name.
    pub to: String,
}

/// A FROM or TO line that never formed a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpairedRename {
    /// `FROM` or `TO`.
    pub side: &'static str,
    /// The name on that line.
    pub name: String,
    /// 1-based line.
    pub line: usize,
}

/// A `### Requirement:` header outside any delta section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanRequirement {
    /// Requirement name.
    pub name: String,
    /// Title of the `## ` section it sits under, if any.
    pub section: Option<String>,
    /// 1-based line.
    pub line: usize,
}

/// A non-requirement `###` header inside ADDED or MODIFIED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedHeader {
    /// Header text.
    pub header: String,
    /// Section title as first spelled.
    pub section: String,
    /// 1-based line.
    pub line: usize,
}

/// Everything one delta file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeltaPlan {
    /// ADDED blocks in order.
    pub added: Vec<RequirementBlock>,
    /// MODIFIED blocks in order.
    pub modified: Vec<RequirementBlock>,
    /// REMOVED names in order (header or bullet form).
    pub removed: Vec<String>,
    /// REMOVED entries written as headers.
    pub removed_blocks: Vec<RequirementBlock>,
    /// RENAMED pairs.
    pub renamed: Vec<Rename>,
    /// Unpaired FROM/TO lines, by line.
    pub unpaired_renames: Vec<UnpairedRename>,
    /// Requirements outside delta sections.
    pub orphans: Vec<OrphanRequirement>,
    /// Skipped `###` headers, by line.
    pub skipped_headers: Vec<SkippedHeader>,
    /// Which of ADDED, MODIFIED, REMOVED, RENAMED sections exist.
    pub presence: [bool; 4],
}

impl DeltaPlan {
    /// Whether any delta section header is present.
    pub fn has_sections(&self) -> bool {
        self.presence.iter().any(|p| *p)
    }
    /// Number of entries in all four sections.
    pub fn entry_count(&self) -> usize {
        self.added.len() + self.modified.len() + self.removed.len() + self.renamed.len()
    }
}

struct Body<'a> {
    lines: &'a [&'a str],
    mask: &'a [bool],
    start_line: usize,
}

const TITLES: [&str; 4] =
    ["added requirements", "modified requirements", "removed requirements", "renamed requirements"];

/// Parses a delta spec file's text.
pub fn parse_delta_spec(content: &str) -> DeltaPlan {
    let norm = normalize(content);
    let lines: Vec<&str> = norm.split('\n').collect();
    let mask = fence_mask(&lines);
    let mut heads: Vec<(String, usize)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if mask[i] {
            continue;
        }
        if !l.starts_with("##") {
            continue;
        }
        if let Some(m) = h2_re().captures(l) {
            heads.push((js_trim(&m[2]).to_string(), i));
        }
    }
    let mut bodies: [Vec<Body>; 4] = Default::default();
    let mut first_title: [Option<String>; 4] = Default::default();
    for (k, (title, idx)) in heads.iter().enumerate() {
        let end = heads.get(k + 1).map(|h| h.1).unwrap_or(lines.len());
        let low = title.to_lowercase();
        if let Some(op) = TITLES.iter().position(|t| *t == low) {
            first_title[op].get_or_insert_with(|| title.clone());
            bodies[op].push(Body { lines: &lines[idx + 1..end], mask: &mask[idx + 1..end], start_line: idx + 2 });
        }
    }
    let canonical = ["ADDED Requirements", "MODIFIED Requirements", "REMOVED Requirements", "RENAMED Requirements"];
    let title_of = |op: usize| first_title[op].clone().unwrap_or_else(|| canonical[op].to_string());
    let mut plan = DeltaPlan::default();
    for (present, b) in plan.presence.iter_mut().zip(&bodies) {
        *present = !b.is_empty();
    }
    for b in &bodies[0] {
        plan.added.extend(requirement_blocks(b, Some((&title_of(0), &mut plan.skipped_headers))));
    }
    for b in &bodies[1] {
        plan.modified.extend(requirement_blocks(b, Some((&title_of(1), &mut plan.skipped_headers))));
    }
    for b in &bodies[2] {
        plan.removed.extend(removed_names(b));
        plan.removed_blocks.extend(requirement_blocks(b, None));
    }
    for b in &bodies[3] {
        plan.renamed.extend(renamed_pairs(b, &mut plan.unpaired_renames));
    }
    plan.unpaired_renames.sort_by_key(|u| u.line);
    plan.skipped_headers.sort_by_key(|s| s.line);
    plan.orphans = orphans(&lines, &mask);
    plan
}

fn requirement_blocks(b: &Body, mut skipped: Option<(&String, &mut Vec<SkippedHeader>)>) -> Vec<RequirementBlock> {
    let (lines, mask) = (b.lines, b.mask);
    let is_req = |i: usize| !mask[i] && lines[i].starts_with("###") && req_header_re().is_match(lines[i]);
    let is_top = |i: usize| !mask[i] && lines[i].starts_with("##") && top_header_re().is_match(lines[i]);
    let mut record = |i: usize| {
        if let Some((section, sink)) = skipped.as_mut() {
            if mask[i] || !lines[i].starts_with("###") {
                return;
            }
            if let Some(m) = h3_re().captures(lines[i]) {
                if !req_header_re().is_match(lines[i]) {
                    sink.push(SkippedHeader {
                        header: js_trim(&m[1]).to_string(),
                        section: (*section).clone(),
                        line: b.start_line + i,
                    });
                }
            }
        }
    };
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        while i < lines.len() && !is_req(i) {
            record(i);
            i += 1;
        }
        if i >= lines.len() {
            break;
        }
        let header_line = lines[i];
        let name = requirement_header_name(header_line).unwrap_or_default();
        let line = b.start_line + i;
        let mut buf = vec![header_line];
        i += 1;
        while i < lines.len() && !is_req(i) && !is_top(i) {
            record(i);
            buf.push(lines[i]);
            i += 1;
        }
        blocks.push(RequirementBlock {
            header_line: header_line.to_string(),
            name,
            raw: buf.join("\n").trim_end_matches(|c: char| c.is_whitespace() || c == '\u{feff}').to_string(),
            line,
        });
    }
    blocks
}

fn removed_names(b: &Body) -> Vec<String> {
    let mut names = Vec::new();
    for (i, line) in b.lines.iter().enumerate() {
        if b.mask[i] {
            continue;
        }
        if let Some(n) = requirement_header_name(line) {
            names.push(n);
        } else if !line.contains("Requirement:") {
            continue;
        } else if let Some(m) = removed_bullet_re().captures(line) {
            names.push(normalize_requirement_name(&m[1]));
        }
    }
    names
}

fn renamed_pairs(b: &Body, unpaired: &mut Vec<UnpairedRename>) -> Vec<Rename> {
    let mut pairs = Vec::new();
    let mut pending: Option<(String, usize)> = None;
    for (i, line) in b.lines.iter().enumerate() {
        if b.mask[i] || !line.contains("Requirement:") {
            continue;
        }
        if let Some(m) = from_re().captures(line) {
            if let Some((name, l)) = pending.take() {
                unpaired.push(UnpairedRename { side: "FROM", name, line: l });
            }
            pending = Some((normalize_requirement_name(&m[1]), b.start_line + i));
        } else if let Some(m) = to_re().captures(line) {
            let to = normalize_requirement_name(&m[1]);
            match pending.take() {
                Some((from, _)) => pairs.push(Rename { from, to }),
                None => unpaired.push(UnpairedRename { side: "TO", name: to, line: b.start_line + i }),
            }
        }
    }
    if let Some((name, l)) = pending {
        unpaired.push(UnpairedRename { side: "FROM", name, line: l });
    }
    pairs
}

fn orphans(lines: &[&str], mask: &[bool]) -> Vec<OrphanRequirement> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        if mask[i] {
            continue;
        }
        if !line.starts_with('#') {
            continue;
        }
        if let Some(m) = h2_re().captures(line) {
            section = Some(js_trim(&m[2]).to_string());
            continue;
        }
        if let Some(s) = &section {
            if TITLES.contains(&s.to_lowercase().as_str()) {
                continue;
            }
        }
        if let Some(name) = requirement_header_name(line) {
            out.push(OrphanRequirement { name, section: section.clone(), line: i + 1 });
        }
    }
    out
}

/// The `## Requirements` section of a main spec split into requirement blocks
/// (what archive and the scenario-loss check see).
pub fn main_spec_blocks(content: &str) -> Vec<RequirementBlock> {
    let norm = normalize(content);
    let lines: Vec<&str> = norm.split('\n').collect();
    let mask = fence_mask(&lines);
    let reqs = regex_requirements_header();
    let Some(h) = (0..lines.len()).find(|&i| !mask[i] && reqs.is_match(lines[i])) else {
        return Vec::new();
    };
    let end = (h + 1..lines.len()).find(|&i| !mask[i] && top_header_re().is_match(lines[i])).unwrap_or(lines.len());
    let body = Body { lines: &lines[h + 1..end], mask: &mask[h + 1..end], start_line: h + 2 };
    requirement_blocks(&body, None)
}

re!(regex_requirements_header, r"(?i)^##\s+Requirements\s*$");
re!(scenario_header_re, r"^####\s+");
re!(scenario_prefix_re, r"(?i)^Scenario:\s*");

/// Scenario names of a requirement block (any non-fenced `####`, `Scenario:` and a closing
/// `#` run stripped).
pub fn scenario_names(raw: &str) -> Vec<String> {
    let norm = normalize(raw);
    let lines: Vec<&str> = norm.split('\n').collect();
    let mask = fence_mask(&lines);
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if mask[i] || !scenario_header_re().is_match(l) {
            continue;
        }
        let s = scenario_header_re().replace(l, "");
        let s = closing_hashes_re().replace(&s, "");
        let s = scenario_prefix_re().replace(&s, "");
        out.push(js_trim(&s).to_string());
    }
    out
}

/// Scenario-name comparison of a current block and a MODIFIED one (multiset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioDiff {
    /// Names the current block has and the incoming one lacks.
    pub missing: Vec<String>,
    /// Names the incoming block adds.
    pub added: Vec<String>,
    /// Scenario count of the current block.
    pub current_count: usize,
    /// Scenario count of the incoming block.
    pub incoming_count: usize,
}

/// Compares scenario names of two blocks.
pub fn diff_scenarios(current: &str, incoming: &str) -> ScenarioDiff {
    let c = scenario_names(current);
    let n = scenario_names(incoming);
    fn unmatched(names: &[String], against: &[String]) -> Vec<String> {
        let mut remaining: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for a in against {
            *remaining.entry(a).or_default() += 1;
        }
        let mut out = Vec::new();
        for n in names {
            match remaining.get_mut(n.as_str()) {
                Some(k) if *k > 0 => *k -= 1,
                _ => out.push(n.clone()),
            }
        }
        out
    }
    ScenarioDiff {
        missing: unmatched(&c, &n),
        added: unmatched(&n, &c),
        current_count: c.len(),
        incoming_count: n.len(),
    }
}

/// The sentence the CLI appends about scenario counts.
pub fn describe_balance(d: &ScenarioDiff) -> String {
    let count = |v: usize| format!("{v} {}", if v == 1 { "scenario" } else { "scenarios" });
    let scale =
        format!("The modified block has {}; the current spec has {}.", count(d.incoming_count), count(d.current_count));
    if d.added.is_empty() {
        return format!("{scale} It adds none.");
    }
    let listed: Vec<String> = d.added.iter().take(3).map(|n| format!("\"{n}\"")).collect();
    let mut names = listed.join(", ");
    if d.added.len() > 3 {
        names = format!("{names} and {} more", d.added.len() - 3);
    }
    format!("{scale} It adds {} not in the current spec: {names}.", count(d.added.len()))
}
