//! # twinsync-design
//!
//! Design <-> code for twinsync: components and their variants read from what
//! Storybook built (`index.json`, `manifests/components.json`), from twinsync's plain
//! `components.json`, from Figma REST file JSON and from design token files (W3C and
//! Tokens Studio); three-way drift between code and design against the last synced
//! base; variant coverage by stories and tests (the arithmetic lives in
//! [`twinsync_core::coverage`]); and CSF3 story scaffolds that keep hand edits when
//! regenerated.
#![warn(missing_docs)]

pub mod coverage;
pub mod drift;
pub mod error;
pub mod figma;
pub mod inputs;
mod json;
pub mod model;
pub mod naming;
pub mod pairwise;
pub mod scaffold;
pub mod storybook;
pub mod sync;
pub mod testfiles;
pub mod tokens;

pub use coverage::{coverage_report, coverage_report_files, html_report, DesignCoverage};
pub use error::{DesignError, Result};
pub use inputs::{load, parse_input, Input};
pub use model::{normalise_name, DesignComponent, Prop, PropKind};
