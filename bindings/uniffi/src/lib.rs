//! # twinsync-uniffi
//!
//! uniffi bindings (Kotlin, Swift, Python) for mobile hosts: canonical hashing, drift,
//! merge, plan, coverage, the project handle on the embedded SQLite store, OpenSpec
//! folders and design files (story coverage, scaffolds). The crate owns conversion and
//! error mapping only; every decision is made by `twinsync` and `twinsync-core`. The API
//! is synchronous: hosts call it off their UI thread.
#![warn(missing_docs)]

uniffi::setup_scaffolding!();

mod coverage;
mod design;
mod error;
mod functions;
mod openspec;
mod project;
mod types;

pub use coverage::*;
pub use design::*;
pub use error::{Result, TwinsyncError};
pub use functions::*;
pub use openspec::*;
pub use project::{Project, SyncOptions};
pub use types::*;
