//! Markdown lexing shared by every reader: normalisation, code fences, headers and the
//! section tree, with the exact rules the OpenSpec CLI uses.

/// Lazily compiled regex (patterns are constants, so compilation cannot fail at runtime).
macro_rules! re {
    ($name:ident, $pat:expr) => {
        pub(crate) fn $name() -> &'static ::regex::Regex {
            static R: ::std::sync::OnceLock<::regex::Regex> = ::std::sync::OnceLock::new();
            R.get_or_init(|| ::regex::Regex::new($pat).expect("constant regex"))
        }
    };
}
pub(crate) use re;

re!(header_re, r"^(#{1,6})\s+(.+)$");
re!(header_start_re, r"^(#{1,6})\s+");
re!(fence_open_re, r"^\s*(`{3,}|~{3,})");
re!(fence_close_re, r"^\s*(`{3,}|~{3,})\s*$");

/// Strips one leading BOM and turns `\r\n` and lone `\r` into `\n`, as the CLI's parsers do.
pub fn normalize(content: &str) -> String {
    let s = content.strip_prefix('\u{feff}').unwrap_or(content);
    if !s.contains('\r') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\r' {
            if it.peek() == Some(&'\n') {
                it.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// JavaScript's `String.prototype.trim` (Unicode white space plus the BOM).
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Whether the first non-blank character could start a fence (a guard before the regex).
fn may_be_fence(line: &str) -> bool {
    matches!(
        line.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}').as_bytes().first(),
        Some(b'`' | b'~')
    )
}

/// One flag per line: true when the line is part of a fenced code block (fences included).
pub fn fence_mask<S: AsRef<str>>(lines: &[S]) -> Vec<bool> {
    let mut mask = vec![false; lines.len()];
    let mut active: Option<(char, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        let line = line.as_ref();
        match active {
            // Cheap guards first: most lines hold no fence run at all.
            None if !may_be_fence(line) => {}
            None => {
                if let Some(m) = fence_open_re().captures(line) {
                    let run = &m[1];
                    active = Some((run.chars().next().unwrap_or('`'), run.len()));
                    mask[i] = true;
                }
            }
            Some((ch, len)) => {
                mask[i] = true;
                if !may_be_fence(line) {
                    continue;
                }
                if let Some(m) = fence_close_re().captures(line) {
                    let run = &m[1];
                    if run.starts_with(ch) && run.len() >= len {
                        active = None;
                    }
                }
            }
        }
    }
    mask
}

/// A header and everything up to the next header of the same or a higher level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Number of `#`.
    pub level: usize,
    /// Header text, trimmed.
    pub title: String,
    /// Body (sub-headers included), trimmed.
    pub content: String,
    /// 1-based line of the header.
    pub line: usize,
    /// Index of the parent in the flat list.
    pub parent: Option<usize>,
}

/// All non-fenced headers of a document, in document order (which is also the depth-first
/// order the CLI searches in), each with its parent.
#[derive(Debug, Clone, Default)]
pub struct Outline {
    /// Flat list of sections.
    pub sections: Vec<Section>,
}

impl Outline {
    /// Builds the outline of already-normalised lines.
    pub fn parse<S: AsRef<str>>(lines: &[S], mask: &[bool]) -> Outline {
        // One pass: every `#…# ` line closes the open sections of the same or a deeper
        // level (a bare `## ` line is such a boundary without being a section itself).
        let mut sections: Vec<Section> = Vec::new();
        let mut ends: Vec<usize> = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if mask[i] {
                continue;
            }
            let line = line.as_ref();
            if !line.starts_with('#') {
                continue;
            }
            let Some(b) = header_start_re().captures(line) else { continue };
            let level = b[1].len();
            open.retain(|&k| {
                if sections[k].level >= level {
                    ends[k] = i;
                    false
                } else {
                    true
                }
            });
            let Some(m) = header_re().captures(line) else { continue };
            while let Some(&top) = stack.last() {
                if sections[top].level >= level {
                    stack.pop();
                } else {
                    break;
                }
            }
            sections.push(Section {
                level,
                title: js_trim(&m[2]).to_string(),
                content: String::new(),
                line: i + 1,
                parent: stack.last().copied(),
            });
            ends.push(lines.len());
            let k = sections.len() - 1;
            stack.push(k);
            open.push(k);
        }
        for (k, s) in sections.iter_mut().enumerate() {
            let body: Vec<&str> = lines[s.line..ends[k]].iter().map(|l| l.as_ref()).collect();
            s.content = js_trim(&body.join("\n")).to_string();
        }
        Outline { sections }
    }

    /// Outline of raw text (normalised first).
    pub fn of_text(text: &str) -> Outline {
        let norm = normalize(text);
        let lines: Vec<&str> = norm.split('\n').collect();
        let mask = fence_mask(&lines);
        Outline::parse(&lines, &mask)
    }

    /// First section, depth first, whose whole title equals `title` ignoring case.
    pub fn find(&self, title: &str) -> Option<usize> {
        let want = title.to_lowercase();
        self.sections.iter().position(|s| s.title.to_lowercase() == want)
    }

    /// Direct children of section `idx`.
    pub fn children(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        self.sections.iter().enumerate().skip(idx + 1).filter(move |(_, s)| s.parent == Some(idx)).map(|(i, _)| i)
    }
}

re!(metadata_re, r"^\*\*[^*]+\*\*:");
re!(any_header_re, r"^#{1,6}\s");
re!(scenario_header_re, r"^####\s+");
re!(scenario_end_re, r"^#{1,4}\s");
re!(shall_must_re, r"\b(SHALL|MUST)\b");

/// The requirement body: non-blank, non-fenced lines before the first header, trimmed;
/// `**Key**:` lines only when nothing else is there.
pub fn requirement_body<S: AsRef<str>>(body: &[S]) -> String {
    let mask = fence_mask(body);
    let mut captured: Vec<&str> = Vec::new();
    let mut metadata: Vec<&str> = Vec::new();
    for (i, line) in body.iter().enumerate() {
        if mask[i] {
            continue;
        }
        let line = line.as_ref();
        if any_header_re().is_match(line) {
            break;
        }
        let t = js_trim(line);
        if t.is_empty() {
            continue;
        }
        if metadata_re().is_match(t) {
            metadata.push(t);
        } else {
            captured.push(t);
        }
    }
    if captured.is_empty() {
        metadata.join("\n")
    } else {
        captured.join("\n")
    }
}

/// Requirement text for display: the body, or the header title when the body is empty.
pub fn requirement_text<S: AsRef<str>>(title: &str, body: &[S]) -> String {
    let b = requirement_body(body);
    if b.is_empty() {
        js_trim(title).to_string()
    } else {
        b
    }
}

/// Whether text carries `SHALL` or `MUST` as a whole word.
pub fn has_shall_or_must(text: &str) -> bool {
    shall_must_re().is_match(text)
}

/// Bodies of the `####` scenarios in requirement body lines (fence aware).
pub fn scenario_bodies<S: AsRef<str>>(body: &[S]) -> Vec<String> {
    let mask = fence_mask(body);
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if mask[i] || !scenario_header_re().is_match(body[i].as_ref()) {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < body.len() && (mask[end] || !scenario_end_re().is_match(body[end].as_ref())) {
            end += 1;
        }
        out.push(body[i + 1..end].iter().map(|s| s.as_ref()).collect::<Vec<_>>().join("\n"));
        i += 1;
    }
    out
}

/// Scenarios with a non-empty body.
pub fn count_scenarios<S: AsRef<str>>(body: &[S]) -> usize {
    scenario_bodies(body).iter().filter(|b| !js_trim(b).is_empty()).count()
}

/// Scenario headers with nothing under them.
pub fn count_empty_scenarios<S: AsRef<str>>(body: &[S]) -> usize {
    scenario_bodies(body).iter().filter(|b| js_trim(b).is_empty()).count()
}

/// Whether a character is a combining mark (the common `\p{M}` blocks).
pub(crate) fn general_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F)
}

/// Ordering close to JavaScript's `localeCompare` (ICU root collation) for ids:
/// punctuation before digits before letters, letters case-insensitive first, then
/// lower case before upper case, then code point.
pub fn locale_compare(a: &str, b: &str) -> std::cmp::Ordering {
    const PUNCT: &str = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
    fn primary(c: char) -> (u8, u32) {
        if c.is_whitespace() {
            (0, c as u32)
        } else if let Some(i) = PUNCT.find(c) {
            (1, i as u32)
        } else if c.is_ascii_digit() {
            (3, c as u32)
        } else if c.is_alphabetic() {
            (4, c.to_lowercase().next().unwrap_or(c) as u32)
        } else {
            (2, c as u32)
        }
    }
    let pa: Vec<(u8, u32)> = a.chars().map(primary).collect();
    let pb: Vec<(u8, u32)> = b.chars().map(primary).collect();
    pa.cmp(&pb)
        .then_with(|| {
            let ta: Vec<bool> = a.chars().map(|c| c.is_uppercase()).collect();
            let tb: Vec<bool> = b.chars().map(|c| c.is_uppercase()).collect();
            ta.cmp(&tb)
        })
        .then_with(|| a.cmp(b))
}
