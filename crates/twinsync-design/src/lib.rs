//! # twinsync-design
//!
//! Design <-> code for twinsync: components and their variants read from what
//! Storybook built (`index.json`, `manifests/components.json`), from twinsync's plain
//! `components.json`, from Figma REST file JSON and from design token files (W3C and
//! Tokens Studio); three-way drift between code and design against the last synced
//! base; variant coverage by stories and tests (the arithmetic lives in
//! [`twinsync_core::coverage`]); and CSF3 story scaffolds that keep hand edits when
//! regenerated.
//!
//! ```
//! use serde_json::json;
//! use twinsync_design::drift::{detect, Base, Sides};
//! use twinsync_design::{parse_input, Input};
//!
//! // Code says `showIcon`, Figma says `Show icon#12:3`: the same prop, no drift.
//! let code = json!({"components": [{"name": "Button", "props": [
//!     {"name": "size", "kind": "variant", "options": ["sm", "lg"]},
//!     {"name": "showIcon", "kind": "boolean"}]}]});
//! let figma = json!({"document": {"type": "DOCUMENT", "children": [{"type": "COMPONENT_SET",
//!     "id": "1:2", "name": "Button", "componentPropertyDefinitions": {
//!         "Size": {"type": "VARIANT", "defaultValue": "sm", "variantOptions": ["sm", "lg", "xl"]},
//!         "Show icon#12:3": {"type": "BOOLEAN", "defaultValue": false}}}]}});
//! let (Input::Components(code), Input::Figma(design)) =
//!     (parse_input("components.json", &code).unwrap(), parse_input("figma.json", &figma).unwrap())
//! else { unreachable!() };
//! let report = detect(&Sides { code: &code.components, design: &design, ..Default::default() }, &Base::default()).unwrap();
//! assert_eq!(report.components[0].findings[0].message, "option xl of \"Size\" is in design but not in code");
//! ```
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

pub use coverage::{coverage_report, coverage_report_cached, coverage_report_files, html_report, DesignCoverage};
pub use error::{DesignError, Result};
pub use inputs::{load, parse_input, Input};
pub use model::{normalise_name, DesignComponent, Prop, PropKind};
