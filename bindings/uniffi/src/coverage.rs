//! Coverage of component variants by stories and tests, from the JSON input the CLI's
//! `design coverage` reads (`components`, `stories`, `tests`).

use twinsync_core::coverage as cov;

use twinsync::api;

use crate::error::Result;
use crate::functions::{decode, parse_json};

/// A kind of test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum TestKind {
    /// Drives the component (a play function or an interaction test).
    Interaction,
    /// Compares screenshots.
    Visual,
    /// Checks accessibility.
    A11y,
    /// Tests logic without rendering.
    Unit,
}

impl From<cov::TestKind> for TestKind {
    fn from(k: cov::TestKind) -> Self {
        match k {
            cov::TestKind::Interaction => TestKind::Interaction,
            cov::TestKind::Visual => TestKind::Visual,
            cov::TestKind::A11y => TestKind::A11y,
            cov::TestKind::Unit => TestKind::Unit,
        }
    }
}

impl From<TestKind> for cov::TestKind {
    fn from(k: TestKind) -> Self {
        match k {
            TestKind::Interaction => cov::TestKind::Interaction,
            TestKind::Visual => cov::TestKind::Visual,
            TestKind::A11y => cov::TestKind::A11y,
            TestKind::Unit => cov::TestKind::Unit,
        }
    }
}

/// Knobs of a coverage run; every field may be left out.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CoverageOptions {
    /// Most missing variants listed per component (default 20); the total is always given.
    #[uniffi(default = None)]
    pub missing_limit: Option<u32>,
    /// Test kinds every component should have (default interaction, visual, a11y).
    #[uniffi(default = None)]
    pub required_kinds: Option<Vec<TestKind>>,
}

/// Something in the input that does not add up; coverage is still computed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CoverageWarning {
    /// What kind (`unknown_axis`, `duplicate_stories`, ...), as in the CLI's JSON.
    pub kind: String,
    /// The warning in words, naming the story or component.
    pub message: String,
}

impl From<&cov::CoverageWarning> for CoverageWarning {
    fn from(w: &cov::CoverageWarning) -> Self {
        let json = serde_json::to_value(w).unwrap_or_default();
        let kind = json.get("kind").and_then(|k| k.as_str()).unwrap_or_default().to_string();
        CoverageWarning { kind, message: w.to_string() }
    }
}

/// Coverage of one component.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ComponentCoverage {
    /// The component's name.
    pub component: String,
    /// Where it is defined.
    pub source: Option<String>,
    /// Number of variants.
    pub total_variants: u64,
    /// Variants shown by at least one story.
    pub covered_variants: u64,
    /// `covered / total` in percent, floored to hundredths.
    pub percent: f64,
    /// Stories of this component.
    pub stories: u64,
    /// Variants no story shows, each a JSON object from axis to value, at most `missing_limit`.
    pub missing_variants: Vec<String>,
    /// How many variants are missing in all.
    pub missing_variants_total: u64,
    /// Test kinds present.
    pub test_kinds: Vec<TestKind>,
    /// Required test kinds not present.
    pub missing_test_kinds: Vec<TestKind>,
    /// Problems in this component's stories and tests.
    pub warnings: Vec<CoverageWarning>,
}

/// Figures over all components.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CoverageTotals {
    /// Components.
    pub components: u64,
    /// Variants over all components.
    pub total_variants: u64,
    /// Covered variants over all components.
    pub covered_variants: u64,
    /// `covered / total` in percent, floored to hundredths (100 with no components).
    pub percent: f64,
    /// Stories matched to a known component.
    pub stories: u64,
    /// Components with every variant covered.
    pub fully_covered_components: u64,
    /// Components missing at least one required test kind.
    pub components_missing_test_kinds: u64,
    /// Warnings, component ones included.
    pub warnings: u64,
}

/// The coverage of a set of components.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CoverageReport {
    /// Figures over all components.
    pub totals: CoverageTotals,
    /// Per component, worst first.
    pub components: Vec<ComponentCoverage>,
    /// Problems not tied to a known component.
    pub warnings: Vec<CoverageWarning>,
}

impl From<cov::CoverageReport> for CoverageReport {
    fn from(r: cov::CoverageReport) -> Self {
        let t = r.totals;
        CoverageReport {
            totals: CoverageTotals {
                components: t.components as u64,
                total_variants: t.total_variants,
                covered_variants: t.covered_variants,
                percent: t.percent,
                stories: t.stories as u64,
                fully_covered_components: t.fully_covered_components as u64,
                components_missing_test_kinds: t.components_missing_test_kinds as u64,
                warnings: t.warnings as u64,
            },
            components: r
                .components
                .into_iter()
                .map(|c| ComponentCoverage {
                    missing_variants: c
                        .missing_variants
                        .iter()
                        .map(|v| serde_json::Value::Object(v.to_map()).to_string())
                        .collect(),
                    component: c.component,
                    source: c.source,
                    total_variants: c.total_variants,
                    covered_variants: c.covered_variants,
                    percent: c.percent,
                    stories: c.stories as u64,
                    missing_variants_total: c.missing_variants_total,
                    test_kinds: kinds(c.test_kinds),
                    missing_test_kinds: kinds(c.missing_test_kinds),
                    warnings: c.warnings.iter().map(Into::into).collect(),
                })
                .collect(),
            warnings: r.warnings.iter().map(Into::into).collect(),
        }
    }
}

fn kinds(k: cov::TestKinds) -> Vec<TestKind> {
    k.iter().map(Into::into).collect()
}

/// Coverage of every component in `input_json` (`{"components": [...], "stories":
/// [...], "tests": [...]}`, as `design coverage` reads it).
#[uniffi::export(default(options = None))]
pub fn coverage(input_json: String, options: Option<CoverageOptions>) -> Result<CoverageReport> {
    let input = parse_json("coverage input", &input_json)?;
    let mut o = serde_json::Map::new();
    if let Some(opts) = options {
        if let Some(n) = opts.missing_limit {
            o.insert("missing_limit".into(), n.into());
        }
        if let Some(k) = opts.required_kinds {
            let names = k.into_iter().map(|k| cov::TestKind::from(k).as_str().into()).collect();
            o.insert("required_kinds".into(), serde_json::Value::Array(names));
        }
    }
    let r: cov::CoverageReport = decode("coverage", api::coverage(&input, &serde_json::Value::Object(o))?)?;
    Ok(r.into())
}
