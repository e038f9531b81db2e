//! # twinsync
//!
//! Open a project folder and keep its two replicas in sync. The facade wires the pure
//! engine (`twinsync-core`) to real parts: folders (`twinsync-fs`) and the embedded
//! SQLite store and database replica (`twinsync-sqlite`), as `.twinsync/config.toml`
//! describes them. The CLI and every binding call this crate.
//!
//! ```no_run
//! use twinsync::{Project, SyncRequest};
//!
//! let mut project = Project::open(std::path::Path::new(".")).unwrap();
//! let drift = project.status().unwrap();
//! println!("{} items drifted", drift.counts.drifted());
//! let report = project.sync(&SyncRequest::default()).unwrap();
//! println!("{}: {} applied", report.status.as_str(), report.counts.applied);
//! ```
#![warn(missing_docs)]

pub mod api;
mod api_keys;
pub mod config;
mod coverage_history;
mod credentials;
mod design_pair;
mod docs;
mod error;
#[cfg(feature = "git")]
pub mod git_tokens;
pub mod guard_hook;
mod host;
pub use design_pair::{design_drift, IMPLICIT_DESIGN_PAIR};
mod kinds;
mod lease;
mod legacy;
mod logging;
pub mod mcp;
mod metrics;
mod notify;
mod openspec_pair;
mod project;
mod replicas;
mod stores;
mod test_sessions;
mod watch;

pub use api_keys::{looks_like_api_key, ApiKeyInfo, KeyCheck, NewApiKey, API_KEY_PREFIX, LAST_USE_RESOLUTION_MS};
pub use config::{Config, PairConfig, PairKind, DEFAULT_PAIR};
pub use credentials::{key_file_path, NewCredential, MASTER_KEY_ENV};
pub use docs::{Doc, DocEntry, DocPrecondition, DocWrite};
pub use error::{Error, Result};
pub use host::{current_host, HOST_ENV};
pub use logging::{init_logging, LogFormat, LOG_ENV, LOG_FORMAT_ENV};
pub use openspec_pair::OpenspecSync;
pub use project::{
    default_actor, OnScanProgress, PairStatus, PairSync, Project, StatusItem, SyncRequest, Take, DEFAULT_LEASE_WAIT,
    PROJECT_LOCK,
};
pub use replicas::AnyReplica;
pub use stores::{open_store_file, read_project_lock, StoreUrl, DEFAULT_STORE_URL, STORE_URL_ENV};
pub use test_sessions::MAX_PERFORMANCE_BYTES;
pub use twinsync_core as core;
pub use twinsync_design as design;
pub use twinsync_fs::ScanProgress;
pub use twinsync_notify::{new_secret, DigestSchedule, RunReport as NotifyReport, TOP_ITEMS as TOP_DIGEST_ITEMS};
pub use twinsync_openspec as openspec;
pub use watch::{Retry, WatchHandle, WatchNote, WatchOptions, WatchSummary};
