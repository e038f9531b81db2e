//! Coverage of code components by the stories Storybook built: which story shows which
//! variant, then the arithmetic of [`twinsync_core::coverage`], plus what core cannot
//! know (stories whose names spell no variant) and the HTML report.
//!
//! A story belongs to the component whose name matches the last segment of its title
//! (normalised: `Primary Button` ~ `primary-button`), or whose `title` or source path
//! it carries. It shows the variant its id spells ([`crate::naming::parse_story_slug`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinsync_core::coverage::{self, CoverageInput, CoverageOptions, CoverageReport, Story, TestRecord};

use crate::error::Result;
use crate::model::{normalise_name, DesignComponent};
use crate::naming::StoryReader;
use crate::storybook::{IndexEntry, StoryIndex};

/// A story that belongs to a component but whose name spells none of its variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UnmatchedStory {
    /// The component.
    pub component: String,
    /// The story id.
    pub story_id: String,
    /// Its display name.
    pub name: String,
}

/// The core report plus what only the design layer can tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DesignCoverage {
    /// Per-component coverage, worst first, with totals and warnings.
    #[serde(flatten)]
    pub report: CoverageReport,
    /// Stories of known components that show no variant (they cover nothing).
    pub unmatched_stories: Vec<UnmatchedStory>,
    /// Stories whose title names no known component, by id.
    pub orphan_stories: Vec<String>,
}

/// Which component a story entry belongs to, by index into `components`.
pub fn owner_of(
    entry: &IndexEntry,
    by_title: &HashMap<String, usize>,
    by_path: &HashMap<String, usize>,
) -> Option<usize> {
    if let Some(&i) = by_title.get(&entry.title) {
        return Some(i);
    }
    if let Some(cp) = &entry.component_path {
        if let Some(&i) = by_path.get(strip_dot(cp)) {
            return Some(i);
        }
    }
    let last = entry.title.rsplit('/').next().unwrap_or(&entry.title);
    by_title.get(&normalise_name(last)).copied()
}

fn strip_dot(p: &str) -> &str {
    p.strip_prefix("./").unwrap_or(p)
}

/// Lookup tables for [`owner_of`]: exact titles and normalised names in one map,
/// source paths in the other.
pub fn owner_tables(components: &[DesignComponent]) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let mut by_title = HashMap::with_capacity(components.len() * 2);
    let mut by_path = HashMap::new();
    for (i, c) in components.iter().enumerate() {
        by_title.entry(normalise_name(&c.name)).or_insert(i);
        if let Some(t) = &c.title {
            by_title.insert(t.clone(), i);
        }
        if let Some(s) = &c.source {
            by_path.insert(strip_dot(s).to_string(), i);
        }
    }
    (by_title, by_path)
}

/// The core coverage input for `components` and the stories of `index`, and the
/// stories that could not be placed.
pub fn coverage_input(
    components: &[DesignComponent],
    index: &StoryIndex,
    tests: &[TestRecord],
) -> (CoverageInput, Vec<UnmatchedStory>, Vec<String>) {
    let (by_title, by_path) = owner_tables(components);
    let mut stories = Vec::new();
    let mut readers: Vec<Option<StoryReader<'_>>> = (0..components.len()).map(|_| None).collect();
    let mut unmatched = Vec::new();
    let mut orphans = Vec::new();
    for e in index.stories() {
        let Some(owner) = owner_of(e, &by_title, &by_path) else {
            orphans.push(e.id.clone());
            continue;
        };
        let c = &components[owner];
        let reader = readers[owner].get_or_insert_with(|| StoryReader::new(c));
        let args = match reader.parse(&e.id) {
            Some(a) => a,
            None => {
                unmatched.push(UnmatchedStory {
                    component: c.name.clone(),
                    story_id: e.id.clone(),
                    name: e.name.clone(),
                });
                continue;
            }
        };
        stories.push(Story {
            id: e.id.clone(),
            title: e.title.clone(),
            name: e.name.clone(),
            component: c.name.clone(),
            args,
            has_play: e.tags.iter().any(|t| t == "play-fn"),
            tags: e.tags.clone(),
        });
    }
    let input = CoverageInput {
        components: components.iter().map(DesignComponent::to_coverage).collect(),
        stories,
        tests: tests.to_vec(),
    };
    (input, unmatched, orphans)
}

/// Coverage of `components` by the stories in `index` and by `tests`.
///
/// This is the function behind `twinsync design coverage` and the MCP tool
/// `design.coverageReport`.
pub fn coverage_report(
    components: &[DesignComponent],
    index: &StoryIndex,
    tests: &[TestRecord],
    opts: &CoverageOptions,
) -> Result<DesignCoverage> {
    let (input, unmatched_stories, orphan_stories) = coverage_input(components, index, tests);
    let report = coverage::compute(&input, opts)?;
    Ok(DesignCoverage { report, unmatched_stories, orphan_stories })
}

/// As [`coverage_report`], taking each component's result from `cache` when its variant
/// hash is there (and storing those it computes): what a history of runs uses so an
/// unchanged component is not computed again.
pub fn coverage_report_cached(
    components: &[DesignComponent],
    index: &StoryIndex,
    tests: &[TestRecord],
    opts: &CoverageOptions,
    cache: &mut dyn coverage::CoverageCache,
) -> Result<(DesignCoverage, coverage::CacheStats)> {
    let (input, unmatched_stories, orphan_stories) = coverage_input(components, index, tests);
    let (report, stats) = coverage::compute_cached(&input, opts, cache)?;
    Ok((DesignCoverage { report, unmatched_stories, orphan_stories }, stats))
}

/// Coverage from two files: a components manifest (twinsync or Storybook) and a
/// Storybook index, as JSON for callers that speak JSON (the MCP tool).
pub fn coverage_report_files(components: &std::path::Path, stories: &std::path::Path) -> Result<Value> {
    let (comps, tests) = crate::inputs::load_components(components)?;
    let index = crate::inputs::load_index(stories)?;
    let report = coverage_report(&comps, &index, &tests, &CoverageOptions::default())?;
    Ok(serde_json::to_value(report).expect("a report always serialises"))
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// One self-contained HTML page: totals, a bar per component (worst first), missing
/// variants and test kinds listed, warnings. No scripts, no external resources.
pub fn html_report(c: &DesignCoverage) -> String {
    let t = &c.report.totals;
    let mut h = String::with_capacity(4096 + c.report.components.len() * 512);
    h.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Story coverage</title>\n<style>\n",
    );
    h.push_str(
        "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse;width:100%}td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
         .bar{width:200px;height:12px;background:#eee;border-radius:3px;overflow:hidden}.bar>span{display:block;height:100%}\
         .ok{background:#2da44e}.mid{background:#d4a72c}.low{background:#cf222e}ul{margin:0;padding-left:1.2em}\
         code{font-size:12px}.warn{color:#9a6700}\n",
    );
    h.push_str("</style></head><body>\n<h1>Story coverage</h1>\n");
    h.push_str(&format!(
        "<p>{} components, {} of {} variants have a story ({:.2}%); {} fully covered; {} miss a test kind.</p>\n",
        t.components,
        t.covered_variants,
        t.total_variants,
        t.percent,
        t.fully_covered_components,
        t.components_missing_test_kinds
    ));
    h.push_str("<table><thead><tr><th>Component</th><th>Coverage</th><th>Variants</th><th>Missing variants</th><th>Missing test kinds</th></tr></thead><tbody>\n");
    for comp in &c.report.components {
        let class = if comp.percent >= 100.0 {
            "ok"
        } else if comp.percent >= 50.0 {
            "mid"
        } else {
            "low"
        };
        h.push_str(&format!(
            "<tr><td><strong>{}</strong>{}</td><td><div class=\"bar\" title=\"{:.2}%\"><span class=\"{class}\" style=\"width:{:.2}%\"></span></div>{:.2}%</td><td>{} / {}</td><td>",
            esc(&comp.component),
            comp.source.as_deref().map(|s| format!("<br><code>{}</code>", esc(s))).unwrap_or_default(),
            comp.percent,
            comp.percent,
            comp.percent,
            comp.covered_variants,
            comp.total_variants
        ));
        if comp.missing_variants_total > 0 {
            h.push_str("<ul>");
            for v in comp.missing_variants.iter() {
                h.push_str(&format!("<li><code>{}</code></li>", esc(&v.to_string())));
            }
            let listed = comp.missing_variants.len() as u64;
            if comp.missing_variants_total > listed {
                h.push_str(&format!("<li>and {} more</li>", comp.missing_variants_total - listed));
            }
            h.push_str("</ul>");
        }
        h.push_str("</td><td>");
        let kinds: Vec<String> = comp.missing_test_kinds.iter().map(|k| k.to_string()).collect();
        h.push_str(&esc(&kinds.join(", ")));
        for w in &comp.warnings {
            h.push_str(&format!("<div class=\"warn\">{}</div>", esc(&w.to_string())));
        }
        h.push_str("</td></tr>\n");
    }
    h.push_str("</tbody></table>\n");
    if !c.unmatched_stories.is_empty() || !c.report.warnings.is_empty() || !c.orphan_stories.is_empty() {
        h.push_str("<h2>Warnings</h2><ul>\n");
        for u in &c.unmatched_stories {
            h.push_str(&format!(
                "<li class=\"warn\">story <code>{}</code> ({}) of {} matches no variant</li>\n",
                esc(&u.story_id),
                esc(&u.name),
                esc(&u.component)
            ));
        }
        for o in &c.orphan_stories {
            h.push_str(&format!(
                "<li class=\"warn\">story <code>{}</code> belongs to no known component</li>\n",
                esc(o)
            ));
        }
        for w in &c.report.warnings {
            h.push_str(&format!("<li class=\"warn\">{}</li>\n", esc(&w.to_string())));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</body></html>\n");
    h
}
