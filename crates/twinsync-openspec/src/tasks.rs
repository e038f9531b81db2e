//! Task checkboxes as OpenSpec 1.13 counts them: `-`/`*`/`+`/`1.`/`1)` bullets at any
//! indentation, `[x]`/`[X]` done, any other one-character (or empty) box open, every
//! matching line counted (fences and HTML comments included, as the CLI does).

use crate::text::re;

/// One task line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// 0-based line index in the file (split on `\n`).
    pub line: usize,
    /// Whether the box holds `x` or `X`.
    pub done: bool,
    /// Text after the box, trimmed.
    pub description: String,
    /// Byte range of the box marker character(s) between `[` and `]` in the line.
    pub box_range: (usize, usize),
}

/// Completed and total counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Tasks marked done.
    pub completed: usize,
    /// All tasks.
    pub total: usize,
}

impl Progress {
    /// `no-tasks`, `complete` or `in-progress`, as `list --json` says.
    pub fn status(&self) -> &'static str {
        if self.total == 0 {
            "no-tasks"
        } else if self.completed == self.total {
            "complete"
        } else {
            "in-progress"
        }
    }
}

/// JavaScript's `\s` (white space, line terminators and the BOM; not NEL).
pub(crate) fn js_ws(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

fn skip_ws(s: &str, mut i: usize) -> usize {
    while let Some(c) = s[i..].chars().next() {
        if js_ws(c) {
            i += c.len_utf8();
        } else {
            break;
        }
    }
    i
}

/// Parses one line as a task, if it is one.
pub fn parse_task_line(line: &str, index: usize) -> Option<Task> {
    let mut i = skip_ws(line, 0);
    let rest = &line[i..];
    let first = rest.chars().next()?;
    if matches!(first, '-' | '*' | '+') {
        i += 1;
    } else if first.is_ascii_digit() {
        let digits = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        if digits > 9 {
            return None;
        }
        match rest.as_bytes().get(digits) {
            Some(b'.') | Some(b')') => i += digits + 1,
            _ => return None,
        }
    } else {
        return None;
    }
    i = skip_ws(line, i);
    if !line[i..].starts_with('[') {
        return None;
    }
    let open = i + 1;
    let a = skip_ws(line, open);
    let (marker, after_marker) = match line[a..].chars().next() {
        Some(c) if c != ']' && !js_ws(c) => (Some(c), a + c.len_utf8()),
        _ => (None, a),
    };
    let b = skip_ws(line, after_marker);
    if !line[b..].starts_with(']') {
        return None;
    }
    let close = b;
    let next = line[close + 1..].chars().next();
    if matches!(next, Some('(') | Some('[')) && (marker.is_some() || a == open) {
        // A link such as `[A](url)`; only a whitespace-only box may be followed by one.
        return None;
    }
    let desc_start = skip_ws(line, close + 1);
    let desc: String =
        line[desc_start..].chars().take_while(|c| !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')).collect();
    Some(Task {
        line: index,
        done: matches!(marker, Some('x') | Some('X')),
        description: crate::text::js_trim(&desc).to_string(),
        box_range: (open, close),
    })
}

/// Every task line of a file, in order.
pub fn parse_tasks(content: &str) -> Vec<Task> {
    content.split('\n').enumerate().filter_map(|(i, l)| parse_task_line(l, i)).collect()
}

/// Counts of a file's tasks.
pub fn count_tasks(content: &str) -> Progress {
    let tasks = parse_tasks(content);
    Progress { completed: tasks.iter().filter(|t| t.done).count(), total: tasks.len() }
}

re!(level_two_re, r"^ {0,3}##(?:[ \t]+|[ \t]*\r?$)");
re!(numbered_group_re, r"^ {0,3}##[ \t]+(\d+)\.(?:[ \t]|\r?$)");
re!(task_id_re, r"^(\d+(?:\.\d+)+[A-Za-z]*)");

/// A task-file finding (line is 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskIssue {
    /// File path relative to the change.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// Message as the CLI words it.
    pub message: String,
}

/// Task ids out of their `## N.` group, or declared twice (spec-driven schema only).
pub fn numbering_issues(documents: &[(String, String)]) -> Vec<TaskIssue> {
    let mut issues = Vec::new();
    let mut first: std::collections::HashMap<String, (String, usize)> = std::collections::HashMap::new();
    for (path, content) in documents {
        let lines: Vec<&str> = content.split('\n').collect();
        if !lines.iter().any(|l| numbered_group_re().is_match(l)) {
            continue;
        }
        let mut group: Option<String> = None;
        for (index, line) in lines.iter().enumerate() {
            if level_two_re().is_match(line) && !line.trim_start_matches(' ').starts_with("###") {
                group = numbered_group_re().captures(line).map(|m| m[1].to_string());
            }
            let Some(current) = &group else { continue };
            let Some(task) = parse_task_line(line, index) else { continue };
            let Some(m) = task_id_re().captures(&task.description) else { continue };
            let id = m[1].to_string();
            if let Some(c) = task.description[id.len()..].chars().next() {
                if !js_ws(c) {
                    continue;
                }
            }
            let line_no = index + 1;
            let task_group = id.split('.').next().unwrap_or("").to_string();
            let norm = |g: &str| {
                let t = g.trim_start_matches('0');
                if t.is_empty() {
                    "0".to_string()
                } else {
                    t.to_string()
                }
            };
            if norm(&task_group) != norm(current) {
                issues.push(TaskIssue {
                    path: path.clone(),
                    line: line_no,
                    message: format!("Task \"{id}\" is under group {current}, but its leading number points to group {task_group}. Move it to group {task_group} or renumber it."),
                });
            }
            if let Some((fp, fl)) = first.get(&id) {
                let decl = if fp == path { format!("on line {fl}") } else { format!("in {fp} on line {fl}") };
                issues.push(TaskIssue {
                    path: path.clone(),
                    line: line_no,
                    message: format!("Task ID \"{id}\" is duplicated; it was first declared {decl}."),
                });
            } else {
                first.insert(id, (path.clone(), line_no));
            }
        }
    }
    issues
}

re!(list_item_re, r"^\s*(?:[-*+]|\d{1,9}[.)])\s+\S");
re!(task_fence_re, r"^ {0,3}(`{3,}|~{3,})(.*)");
re!(front_matter_re, r"^-{3}\s*$");

/// The zero-checkbox warning: tracked task files have list items but no checkbox at all.
pub fn missing_checkbox_issues(documents: &[(String, String)]) -> Vec<TaskIssue> {
    if documents.is_empty() || documents.iter().any(|(_, c)| !parse_tasks(c).is_empty()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (path, content) in documents {
        if let Some(line) = first_list_item_line(content) {
            out.push(TaskIssue {
                path: path.clone(),
                line,
                message: "This change counts as 0 tasks: no line in its tracked task files is a checkbox, so \"openspec list\" and \"openspec status\" report no work and \"openspec archive\" has nothing to flag as incomplete. Write each task as \"- [ ] 1.1 Description\".".to_string(),
            });
        }
    }
    out
}

fn indent_columns(line: &str) -> usize {
    let mut col = 0;
    for c in line.chars() {
        match c {
            ' ' => col += 1,
            '\t' => col += 4 - col % 4,
            _ => break,
        }
    }
    col
}

fn first_list_item_line(content: &str) -> Option<usize> {
    let lines: Vec<&str> = content.split('\n').collect();
    let mut start = 0;
    if !lines.is_empty() && front_matter_re().is_match(lines[0].trim_start_matches('\u{feff}').trim_end()) {
        if let Some(k) = (1..lines.len()).find(|&k| front_matter_re().is_match(lines[k].trim_end())) {
            start = k + 1;
        }
    }
    let mut fence: Option<(char, usize)> = None;
    let mut in_comment = false;
    for (index, line) in lines.iter().enumerate().skip(start) {
        if in_comment {
            if line.contains("-->") {
                in_comment = false;
            }
            continue;
        }
        if let Some(m) = task_fence_re().captures(line) {
            let run = &m[1];
            let ch = run.chars().next().unwrap_or('`');
            match fence {
                None => fence = Some((ch, run.len())),
                Some((c, l)) if c == ch && run.len() >= l && crate::text::js_trim(&m[2]).is_empty() => fence = None,
                _ => {}
            }
            continue;
        }
        if fence.is_some() {
            continue;
        }
        let ts = line.trim_start_matches(js_ws);
        if ts.starts_with("<!--") {
            let at = line.find("<!--").unwrap_or(0) + 4;
            if !line[at..].contains("-->") {
                in_comment = true;
            }
            continue;
        }
        if list_item_re().is_match(line) && indent_columns(line) < 4 {
            return Some(index + 1);
        }
    }
    None
}
