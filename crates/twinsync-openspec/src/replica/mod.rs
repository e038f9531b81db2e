//! The two sides of an `openspec` pair as twinsync-core [`Replica`]s, so an OpenSpec
//! sync runs through the one engine (its drift, plan, apply, record, undo and history)
//! like every other pair:
//! - [`OpenSpecFiles`]: the `openspec/` folder;
//! - [`OpenSpecDb`]: the rows of the OpenSpec database.
//!
//! Both speak the same item keys ([`item`]), which name a change by its id wherever its
//! folder is, so archiving a change (moving its folder under `changes/archive/`) changes
//! one item, the change's `.location`, and is a move on the database side, not a delete
//! and an add. What makes OpenSpec special lives in the database replica: the
//! database's version of a document that a sync replaces stays recoverable in
//! `versions`, a change whose folder is gone is soft-deleted, and each write refreshes
//! the derived fields (title, task progress, requirement count, lifecycle status).
//!
//! [`Replica`]: twinsync_core::Replica

mod database;
mod files;
pub mod item;

pub use database::OpenSpecDb;
pub use files::OpenSpecFiles;
