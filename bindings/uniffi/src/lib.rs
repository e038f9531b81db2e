//! # twinsync-uniffi
//!
//! uniffi bindings (Kotlin, Swift, Python) for mobile hosts: canonical hashing, drift,
//! merge, plan, coverage and the project handle on the embedded SQLite store. The crate
//! owns conversion and error mapping only; every decision is made by `twinsync` and
//! `twinsync-core`. The API is synchronous: hosts call it off their UI thread.
#![warn(missing_docs)]

uniffi::setup_scaffolding!();

mod coverage;
mod error;
mod functions;
mod project;
mod types;

pub use coverage::*;
pub use error::{Result, TwinsyncError};
pub use functions::*;
pub use project::{Project, SyncOptions};
pub use types::*;
