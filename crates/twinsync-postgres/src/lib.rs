//! # twinsync-postgres
//!
//! The team store of twinsync: [`PgStore`] keeps a project's bases, blobs, operations,
//! undo entries, history, locks, event outbox, audit records and cached values in a
//! PostgreSQL database that several processes and machines use at once, and
//! [`PgReplica`] is the database side of a `folders` pair: a replica's items as rows of
//! the `documents` table of the same database.
//!
//! Both pass the same contracts as the SQLite versions: the store runs
//! `twinsync_core::store_conformance` and `engine_conformance`, the replica's writes are
//! compare-and-swap. [`PgSql`] is the server behind the SQL seam of
//! `twinsync_core::sql`, for tables another adapter owns: the OpenSpec tables of an
//! `openspec` pair live in the `openspec` schema of a database through it.
//!
//! ## Why the synchronous `postgres` client
//!
//! The [`Store`](twinsync_core::Store) and [`Replica`](twinsync_core::Replica) traits
//! are synchronous: the engine calls them one item at a time from plain threads (the
//! CLI, the bindings, a watcher). `tokio-postgres` or `sqlx` would need a runtime inside
//! every call (`block_on` on each method, and care never to call it from inside another
//! runtime); the `postgres` crate is exactly that wrapper, maintained with
//! `tokio-postgres`, with one small current-thread runtime per connection and blocking
//! methods. Default features are off: values cross as text, bytes and integers. TLS is
//! not built in (`sslmode=disable`/`prefer` connect in the clear); use a local socket,
//! a private network or a TLS-terminating proxy.
//!
//! ## Layout
//!
//! Every table lives in the `twinsync` schema (each connection sets
//! `search_path = twinsync`) and carries a `project` column that leads every key and
//! index; every query filters on it, so several projects share one database apart.
//! [`MIGRATIONS`] are versioned (rows of `twinsync.schema_migrations`) and applied on
//! open, in one transaction under an advisory lock, so processes opening one database
//! at once take turns and all but the first find nothing to do.
//!
//! ## Several writers
//!
//! Each mutating method is one transaction. What must not interleave across
//! connections is serialized with transaction-scoped advisory locks, released at commit:
//! - `update_lock` locks (project, lock name) before it reads, so it is a real
//!   read-modify-write, for a lock with no row yet too: of two processes acquiring at
//!   once exactly one wins;
//! - every outbox insert locks the project's outbox, so ids (an identity column, given
//!   at insert) commit in increasing order, and a reader following `events_since(id)`
//!   never skips an event that commits later with a smaller id;
//! - item commits lock the project's blobs shared and `prune` exclusive, so collection
//!   never drops a blob a commit in flight relies on.
//!
//! A lost connection fails the call in flight (its transaction rolls back on the
//! server) and the next call connects again.
//!
//! ## Secrets
//!
//! A URL's password never appears in `Debug`, in errors or in messages: they name
//! `postgres://user@host:port/database` and the project.
//!
//! ```no_run
//! use twinsync_core::{HashRules, Store};
//! use twinsync_postgres::{PgReplica, PgStore};
//!
//! let url = "postgres://ann:secret@db.example:5432/twinsync";
//! let store = PgStore::open(url, "docs-site")?;
//! let db = PgReplica::open(url, "docs-site", "default", HashRules::default())?;
//! assert!(store.events_since(0, 10)?.len() <= 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod replica;
mod schema;
mod sql;
mod store;

pub use replica::PgReplica;
pub use schema::{redact_url, MIGRATIONS, PG_SCHEMA, SCHEMA_VERSION};
pub use sql::PgSql;
pub use store::PgStore;
