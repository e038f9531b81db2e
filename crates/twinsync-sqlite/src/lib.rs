//! # twinsync-sqlite
//!
//! The embedded default store of twinsync: [`SqliteStore`] keeps base snapshots, blobs,
//! operations, undo entries, history, locks, queued events, audit records and cached
//! values in one SQLite file (bundled SQLite, WAL mode, versioned migrations), and
//! [`SqliteReplica`] keeps a replica's items as rows of the same file, for artifacts
//! whose home is a database.
//!
//! Both pass the same contracts as the in-memory versions: the store runs
//! `twinsync_core::store_conformance`, the replica's writes are compare-and-swap.
//!
//! ```
//! use twinsync_core::{Content, Engine, EngineConfig, HashRules, Key, ManualClock, MemoryReplica, Replica, SyncOptions, Timestamp};
//! use twinsync_sqlite::{SqliteReplica, SqliteStore};
//!
//! // `SqliteStore::open(path)` and `SqliteReplica::open(path, name, rules)` on a file.
//! let mut store = SqliteStore::open_in_memory()?;
//! let mut db = SqliteReplica::open_in_memory("db", HashRules::default())?;
//! let mut files = MemoryReplica::new("files");
//! let key = Key::new("specs/auth.md")?;
//! files.put(&key, Content::Text("# Auth\n".into()));
//!
//! let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
//! let mut engine = Engine::new(&mut store, &clock, EngineConfig::default());
//! engine.sync(&mut files, &mut db, &SyncOptions::default())?;
//! assert_eq!(db.read(&key)?, Some(Content::Text("# Auth\n".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod checkpoint;
mod replica;
mod schema;
mod store;

pub use replica::SqliteReplica;
pub use schema::{is_busy, retry_while_busy, Durability, MIGRATIONS, SCHEMA_VERSION};
pub use store::SqliteStore;
