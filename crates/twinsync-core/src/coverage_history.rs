//! Coverage history: one row per component per coverage run, so a component's trend can
//! be shown. A row holds the whole result (percentage, missing variants and test kinds,
//! warnings) under the variant hash it was computed from, which lets the next run reuse
//! it when the hash is unchanged instead of computing again.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::coverage::ComponentCoverage;
use crate::digest::Digest;

/// One component's coverage at one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageRecord {
    /// What the run covered (the components manifest it read).
    pub scope: String,
    /// The component.
    pub component: String,
    /// When the run was.
    pub computed_at: Timestamp,
    /// The digest of the component's inputs the result was computed from.
    pub variant_hash: Digest,
    /// Variants covered, in percent.
    pub percentage: f64,
    /// The whole result.
    pub coverage: ComponentCoverage,
}
