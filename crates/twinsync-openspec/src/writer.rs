//! Writing back: a lossless line model of a markdown file (BOM and each line's ending kept,
//! so parse → write is byte-identical) with targeted edits — one task's checkbox, one
//! requirement block, one section body — that touch only the lines concerned.

use crate::delta::requirement_header_name;
use crate::tasks::parse_task_line;
use crate::text::{fence_mask, header_re, header_start_re, js_trim};

/// Edits that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// There is no task with that index.
    #[error("no task #{index} (the file has {count} tasks)")]
    NoSuchTask {
        /// Requested index.
        index: usize,
        /// Tasks in the file.
        count: usize,
    },
    /// No `### Requirement: <name>` outside code fences.
    #[error("no requirement named '{0}'")]
    NoSuchRequirement(String),
    /// No header with that title outside code fences.
    #[error("no section titled '{0}'")]
    NoSuchSection(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    text: String,
    ending: &'static str,
}

/// A markdown (or any text) file held line by line, exactly as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownDoc {
    bom: bool,
    lines: Vec<Line>,
}

impl MarkdownDoc {
    /// Splits text into lines, remembering a BOM and every line ending (`\n` or `\r\n`).
    pub fn parse(text: &str) -> MarkdownDoc {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        // Lines end at `\n` only (a lone `\r` stays inside its line), the way the CLI splits
        // task files, so task indices here are the CLI's.
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, _) in body.match_indices('\n') {
            let seg = &body[start..i];
            match seg.strip_suffix('\r') {
                Some(t) => lines.push(Line { text: t.to_string(), ending: "\r\n" }),
                None => lines.push(Line { text: seg.to_string(), ending: "\n" }),
            }
            start = i + 1;
        }
        lines.push(Line { text: body[start..].to_string(), ending: "" });
        MarkdownDoc { bom, lines }
    }

    /// The text, byte for byte as parsed plus any edits.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.lines.iter().map(|l| l.text.len() + 2).sum::<usize>() + 3);
        if self.bom {
            out.push('\u{feff}');
        }
        for l in &self.lines {
            out.push_str(&l.text);
            out.push_str(l.ending);
        }
        out
    }

    /// The ending most lines use (for inserted lines).
    fn newline(&self) -> &'static str {
        let crlf = self.lines.iter().filter(|l| l.ending == "\r\n").count();
        let lf = self.lines.iter().filter(|l| l.ending == "\n").count();
        if crlf > lf {
            "\r\n"
        } else {
            "\n"
        }
    }

    fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|l| l.text.as_str()).collect()
    }

    /// Number of task lines (as the CLI counts them).
    pub fn task_count(&self) -> usize {
        self.lines.iter().enumerate().filter(|(i, l)| parse_task_line(&l.text, *i).is_some()).count()
    }

    /// Marks the `index`-th task (0-based, document order) done (`[x]`) or open (`[ ]`),
    /// changing only the box of that line.
    pub fn set_task(&mut self, index: usize, done: bool) -> Result<(), EditError> {
        let count = self.task_count();
        let (li, task) = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| parse_task_line(&l.text, i).map(|t| (i, t)))
            .nth(index)
            .ok_or(EditError::NoSuchTask { index, count })?;
        if task.done == done {
            return Ok(());
        }
        let (a, b) = task.box_range;
        let text = &mut self.lines[li].text;
        // `[x](…)` reads as a link, not a task: keep a ticked `[ ](…)` a task with a space.
        if done && matches!(text[b + 1..].chars().next(), Some('(') | Some('[')) {
            text.insert(b + 1, ' ');
        }
        text.replace_range(a..b, if done { "x" } else { " " });
        Ok(())
    }

    /// Line range `[start, end)` of a `### Requirement: <name>` block: the header through
    /// the line before the next header of level 1–3, trailing blank lines excluded.
    pub fn requirement_range(&self, name: &str) -> Option<(usize, usize)> {
        let texts = self.texts();
        let mask = fence_mask(&texts);
        let start =
            (0..texts.len()).find(|&i| !mask[i] && requirement_header_name(texts[i]).as_deref() == Some(name))?;
        let mut end = texts.len();
        for (i, t) in texts.iter().enumerate().skip(start + 1) {
            if !mask[i] {
                if let Some(h) = header_start_re().captures(t) {
                    if h[1].len() <= 3 {
                        end = i;
                        break;
                    }
                }
            }
        }
        while end > start + 1 && js_trim(texts[end - 1]).is_empty() {
            end -= 1;
        }
        Some((start, end))
    }

    /// Replaces a requirement block (header included) with `block` (its own header first).
    pub fn replace_requirement(&mut self, name: &str, block: &str) -> Result<(), EditError> {
        let (s, e) = self.requirement_range(name).ok_or_else(|| EditError::NoSuchRequirement(name.into()))?;
        self.splice(s, e, block);
        Ok(())
    }

    /// Replaces the body of the first section titled `title` (CLI lookup: any level, whole
    /// title, case-insensitive), keeping its header and the blank lines before the next one.
    pub fn replace_section(&mut self, title: &str, body: &str) -> Result<(), EditError> {
        let texts = self.texts();
        let mask = fence_mask(&texts);
        let want = title.to_lowercase();
        let (h, level) = (0..texts.len())
            .find_map(|i| {
                if mask[i] {
                    return None;
                }
                let m = header_re().captures(texts[i])?;
                (js_trim(&m[2]).to_lowercase() == want).then(|| (i, m[1].len()))
            })
            .ok_or_else(|| EditError::NoSuchSection(title.into()))?;
        let mut end = texts.len();
        for (i, t) in texts.iter().enumerate().skip(h + 1) {
            if !mask[i] {
                if let Some(m) = header_start_re().captures(t) {
                    if m[1].len() <= level {
                        end = i;
                        break;
                    }
                }
            }
        }
        let mut start = h + 1;
        while start < end && js_trim(texts[start]).is_empty() {
            start += 1;
        }
        while end > start && js_trim(texts[end - 1]).is_empty() {
            end -= 1;
        }
        self.splice(start, end, body);
        Ok(())
    }

    fn splice(&mut self, start: usize, end: usize, text: &str) {
        let nl = self.newline();
        let mut new: Vec<Line> = MarkdownDoc::parse(text.trim_end_matches(['\n', '\r'])).lines;
        for l in new.iter_mut() {
            l.ending = nl;
        }
        // The last replaced line keeps the ending the old last line had (end of file stays as is).
        if let Some(last) = new.last_mut() {
            last.ending = if end > start { self.lines[end - 1].ending } else { nl };
        }
        self.lines.splice(start..end, new);
    }
}

/// Markdown for a new requirement block in the canonical layout.
pub fn render_requirement(name: &str, text: &str, scenarios: &[(&str, &str)]) -> String {
    let mut out = format!("### Requirement: {name}\n{text}\n");
    for (title, body) in scenarios {
        out.push_str(&format!("\n#### Scenario: {title}\n{body}\n"));
    }
    out
}
