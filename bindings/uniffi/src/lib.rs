//! # twinsync-uniffi
//!
//! uniffi bindings (Kotlin, Swift, Python) for mobile hosts: canonical hashing, drift,
//! merge, plan, coverage, the project handle on the embedded SQLite store, OpenSpec
//! folders and design files (story coverage, scaffolds), named pairs, events, watch,
//! design pairs, credentials (metadata only) and test sessions. The crate owns conversion and
//! error mapping only; every decision is made by `twinsync` and `twinsync-core`. The API
//! is synchronous: hosts call it off their UI thread.
#![warn(missing_docs)]

uniffi::setup_scaffolding!();

mod coverage;
mod credentials;
mod design;
mod design_pairs;
mod error;
mod events;
mod functions;
mod openspec;
mod project;
mod test_sessions;
mod types;
mod watch;

pub use coverage::*;
pub use credentials::Credential;
pub use design::*;
pub use design_pairs::DesignSyncOptions;
pub use error::{Result, TwinsyncError};
pub use events::Event;
pub use functions::*;
pub use openspec::*;
pub use project::{PairInfo, Project, SyncOptions};
pub use test_sessions::TestSession;
pub use types::*;
pub use watch::{WatchHandle, WatchListener, WatchNote, WatchOptions, WatchSummary};
