//! # twinsync-fs
//!
//! A folder on disk as a twinsync [`Replica`](twinsync_core::Replica): [`FsReplica`]
//! scans it into digests (skipping unchanged files through a stat cache), reads items,
//! and writes or deletes them atomically with compare-and-swap on the expected digest,
//! keeping a backup of every file it overwrites or deletes. [`watch::Watcher`] reports
//! changed keys in debounced batches.
//!
//! ```
//! use twinsync_core::{Content, Key, Replica, replica::WriteContext};
//! use twinsync_fs::{FsOptions, FsReplica};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut fs = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
//! let key = Key::new("docs/intro.md").unwrap();
//! let d = fs.write(&key, &Content::Text("# Intro\n".into()), None, &WriteContext::default()).unwrap();
//! assert_eq!(fs.scan().unwrap()[&key].digest, d);
//! ```
#![warn(missing_docs)]

mod cache;
mod cache_file;
mod error;
mod options;
mod paths;
mod progress;
mod replica;
mod scan;
mod walk;
pub mod watch;

pub use error::FsError;
pub use options::{FsOptions, SymlinkMode};
pub use paths::content_of;
pub use progress::{ScanObserver, ScanProgress};
pub use replica::{prune_backups, FsReplica, ScanStats};
pub use watch::{WatchEvent, WatchOptions, Watcher};
