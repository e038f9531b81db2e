//! Design files: story coverage of a components file by a Storybook `index.json`, and
//! CSF3 story scaffolds written from a components file, as records.

use serde::Deserialize;
use twinsync::api;
use twinsync_core::coverage as cov;

use crate::coverage::{ComponentCoverage, CoverageReport, CoverageTotals, CoverageWarning};
use crate::error::Result;
use crate::functions::decode;

/// A story of a known component whose name spells none of its variants (it covers nothing).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, uniffi::Record)]
pub struct UnmatchedStory {
    /// The component.
    pub component: String,
    /// The story id (`example-button--secondary`).
    pub story_id: String,
    /// Its display name.
    pub name: String,
}

/// Story coverage of a components file: the report of [`crate::coverage()`] plus what
/// only the story index tells.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DesignCoverageReport {
    /// Figures over all components.
    pub totals: CoverageTotals,
    /// Per component, worst first.
    pub components: Vec<ComponentCoverage>,
    /// Problems not tied to a known component.
    pub warnings: Vec<CoverageWarning>,
    /// Stories of known components that show no variant.
    pub unmatched_stories: Vec<UnmatchedStory>,
    /// Ids of stories whose title names no known component.
    pub orphan_stories: Vec<String>,
}

/// `design coverage --json` as the API returns it: the core report, flattened, and the extras.
#[derive(Deserialize)]
struct DesignCoverageJson {
    #[serde(flatten)]
    report: cov::CoverageReport,
    unmatched_stories: Vec<UnmatchedStory>,
    orphan_stories: Vec<String>,
}

/// Story coverage of the components in `components` (a twinsync `components.json`, a
/// Storybook components manifest or a Figma file) by the Storybook `index.json` (or
/// legacy `stories.json`) at `stories`, as `twinsync design coverage --json`.
#[uniffi::export]
pub fn design_coverage(components: String, stories: String) -> Result<DesignCoverageReport> {
    let d: DesignCoverageJson = decode("design coverage", api::design_coverage(&components, &stories)?)?;
    let r = CoverageReport::from(d.report);
    Ok(DesignCoverageReport {
        totals: r.totals,
        components: r.components,
        warnings: r.warnings,
        unmatched_stories: d.unmatched_stories,
        orphan_stories: d.orphan_stories,
    })
}

/// What a scaffold should do beyond the CLI's defaults; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct DesignScaffoldOptions {
    /// Use a pairwise covering set for components with three or more axes.
    #[uniffi(default = false)]
    pub pairwise: bool,
    /// Report what would be written; write nothing.
    #[uniffi(default = false)]
    pub dry_run: bool,
    /// Project root: relative paths and component sources are taken from it, and the last
    /// generation (the merge base for hand edits) is kept under its
    /// `.twinsync/design/generated` (default: the process's current folder).
    #[uniffi(default = None)]
    pub root: Option<String>,
}

/// What writing one story file did, or would do in a dry run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum ScaffoldOutcome {
    /// The file did not exist and was written.
    Created,
    /// The file already held this generation, or the generation did not change.
    Unchanged,
    /// The new generation was merged with hand edits, cleanly.
    Merged,
    /// The merge conflicted: the file holds conflict markers.
    Conflict,
}

/// The story file of one component.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, uniffi::Record)]
pub struct ScaffoldFile {
    /// The component.
    pub component: String,
    /// Path of the story file.
    pub path: String,
    /// What happened to it.
    pub outcome: ScaffoldOutcome,
    /// Conflict hunks written (0 unless the outcome is `Conflict`).
    pub conflicts: u64,
    /// Stories in the file.
    pub stories: u64,
    /// Every combination of the component's axes.
    pub total_variants: u64,
    /// Combinations left out by a pairwise selection.
    pub skipped: u64,
    /// Whether a pairwise set was used.
    pub pairwise: bool,
    /// The story ids Storybook will derive, in file order.
    pub story_ids: Vec<String>,
}

/// The answer of [`design_scaffold`], as `twinsync design scaffold --json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, uniffi::Record)]
pub struct ScaffoldReport {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// One story file per component.
    pub files: Vec<ScaffoldFile>,
}

/// Writes a CSF3 story file per component of `components` into `out_dir`, one story per
/// variant, merging a new generation with hand edits, as `twinsync design scaffold` run in
/// `root`. A second run over unchanged components leaves every file untouched.
#[uniffi::export(default(options = None))]
pub fn design_scaffold(
    components: String,
    out_dir: String,
    options: Option<DesignScaffoldOptions>,
) -> Result<ScaffoldReport> {
    let o = options.unwrap_or_default();
    let opts = api::DesignScaffoldOptions { pairwise: o.pairwise, dry_run: o.dry_run, root: o.root };
    decode("design scaffold", api::design_scaffold(&components, &out_dir, &opts)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TwinsyncError;

    /// The sample Button of a Storybook 7.6 project and that project's real `index.json`.
    fn button(dir: &std::path::Path) -> (String, String) {
        let components = dir.join("components.json");
        std::fs::write(
            &components,
            r#"{"components": [{"name": "Button", "source": "./src/stories/Button.vue", "title": "Example/Button",
                "props": [{"name": "primary", "kind": "boolean", "default": false},
                          {"name": "size", "kind": "variant", "options": ["small", "medium", "large"], "default": "medium"}]}]}"#,
        )
        .unwrap();
        let index = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../crates/twinsync-design/tests/fixtures/research")
            .join("crayfisher-zari_digital-agency-design-system__index.v4.json");
        (components.display().to_string(), index.display().to_string())
    }

    #[test]
    fn coverage_keeps_the_core_report_and_the_stories_only_the_index_tells() {
        let dir = tempfile::tempdir().unwrap();
        let (components, index) = button(dir.path());
        let r = design_coverage(components, index).unwrap();
        assert_eq!((r.totals.total_variants, r.totals.covered_variants, r.totals.percent), (6, 3, 50.0));
        assert_eq!(r.components[0].component, "Button");
        let unmatched: Vec<&str> = r.unmatched_stories.iter().map(|s| s.story_id.as_str()).collect();
        assert_eq!(unmatched, ["example-button--secondary"]);
        assert_eq!(r.orphan_stories.len(), 4);
    }

    #[test]
    fn scaffold_reports_each_file_and_a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let (components, _) = button(dir.path());
        let root = Some(dir.path().display().to_string());
        let out = dir.path().join("stories").display().to_string();
        let dry = DesignScaffoldOptions { dry_run: true, root: root.clone(), ..Default::default() };
        let r = design_scaffold(components.clone(), out.clone(), Some(dry)).unwrap();
        assert!(r.dry_run);
        assert_eq!(
            (r.files[0].outcome, r.files[0].stories, r.files[0].story_ids.len()),
            (ScaffoldOutcome::Created, 6, 6)
        );
        let wet = DesignScaffoldOptions { root: root.clone(), ..Default::default() };
        assert_eq!(
            design_scaffold(components.clone(), out.clone(), Some(wet.clone())).unwrap().files[0].outcome,
            ScaffoldOutcome::Created
        );
        assert_eq!(
            design_scaffold(components, out.clone(), Some(wet)).unwrap().files[0].outcome,
            ScaffoldOutcome::Unchanged
        );
        let e = design_scaffold(dir.path().join("nope.json").display().to_string(), out, None).unwrap_err();
        assert!(matches!(&e, TwinsyncError::NotFound { reason } if reason.contains("nope.json")), "{e:?}");
    }
}
