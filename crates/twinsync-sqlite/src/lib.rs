//! # twinsync-sqlite
//!
//! The embedded default store of twinsync: [`SqliteStore`] keeps base snapshots, blobs,
//! operations, undo entries, history, locks, queued events, audit records and cached
//! values in one SQLite file (bundled SQLite, WAL mode, versioned migrations), and
//! [`SqliteReplica`] keeps a replica's items as rows of the same file, for artifacts
//! whose home is a database.
#![warn(missing_docs)]

mod replica;
mod schema;
mod store;

pub use replica::SqliteReplica;
pub use schema::{Durability, MIGRATIONS, SCHEMA_VERSION};
pub use store::SqliteStore;
