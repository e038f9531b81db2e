//! Main specs (`openspec/specs/<id>/spec.md`): Purpose, requirements and scenarios read as
//! `MarkdownParser.parseSpec` reads them.

use crate::text::{fence_mask, js_trim, normalize, requirement_text, Outline};

/// A scenario: a child header of a requirement with a non-empty body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Header title (e.g. `Scenario: Login works`).
    pub title: String,
    /// Trimmed body, as `rawText` in JSON.
    pub raw_text: String,
    /// 1-based header line.
    pub line: usize,
}

/// A requirement: a child header of `Requirements` with its text and scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Header title as written (`Requirement: X`, or any other title).
    pub title: String,
    /// Body text (or the title when the body is empty).
    pub text: String,
    /// Scenarios with content.
    pub scenarios: Vec<Scenario>,
    /// 1-based header line.
    pub line: usize,
}

/// A parsed main spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Trimmed Purpose content.
    pub overview: String,
    /// Requirements in order.
    pub requirements: Vec<Requirement>,
}

/// Why a spec could not be read (message as the CLI throws it, line of the cause).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SpecError {
    /// The CLI's message.
    pub message: String,
    /// 1-based line the problem is at (1 when it is the whole file).
    pub line: usize,
}

/// Requirements of an outline section (its direct children) read the spec way.
pub(crate) fn requirements_of(outline: &Outline, section: usize, filter: impl Fn(&str) -> bool) -> Vec<Requirement> {
    outline
        .children(section)
        .filter(|&c| filter(&outline.sections[c].title))
        .map(|c| {
            let s = &outline.sections[c];
            let body: Vec<&str> = s.content.split('\n').collect();
            let scenarios = outline
                .children(c)
                .filter(|&k| !js_trim(&outline.sections[k].content).is_empty())
                .map(|k| Scenario {
                    title: outline.sections[k].title.clone(),
                    raw_text: outline.sections[k].content.clone(),
                    line: outline.sections[k].line,
                })
                .collect();
            Requirement { title: s.title.clone(), text: requirement_text(&s.title, &body), scenarios, line: s.line }
        })
        .collect()
}

/// Parses a main spec's text.
pub fn parse_spec(content: &str) -> Result<Spec, SpecError> {
    let norm = normalize(content);
    let lines: Vec<&str> = norm.split('\n').collect();
    let mask = fence_mask(&lines);
    let outline = Outline::parse(&lines, &mask);
    let purpose = outline.find("Purpose").map(|i| outline.sections[i].content.clone()).unwrap_or_default();
    let reqs = outline.find("Requirements");
    if purpose.is_empty() {
        let line = outline.find("Purpose").map(|i| outline.sections[i].line).unwrap_or(1);
        return Err(SpecError { message: "Spec must have a Purpose section".into(), line });
    }
    let Some(reqs) = reqs else {
        return Err(SpecError { message: "Spec must have a Requirements section".into(), line: 1 });
    };
    Ok(Spec { overview: js_trim(&purpose).to_string(), requirements: requirements_of(&outline, reqs, |_| true) })
}
