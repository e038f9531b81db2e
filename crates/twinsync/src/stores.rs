//! Stores opened without opening a project's replicas: a store file of its own, and a
//! project's lock read straight from the project's store. Faces get the store as
//! `dyn Store`, so they never name the crate that implements it.

use std::path::Path;

use twinsync_core::lock::{Lock, LockManager};
use twinsync_core::{Store, SystemClock};
use twinsync_sqlite::SqliteStore;

use crate::config;
use crate::{Result, PROJECT_LOCK};

/// Opens the store in file `path`, creating it (not its folder) when missing: the history,
/// bases and undo of a sync that runs outside the project's pair (`twinsync design sync`).
pub fn open_store_file(path: &Path) -> Result<Box<dyn Store>> {
    Ok(Box::new(SqliteStore::open(path)?))
}

/// The live project lock of the project in folder `root` (the folder holding
/// `.twinsync/`), read from its store alone: no config parsed, no replica opened, so a
/// hook that runs before every write stays fast. `None` when nobody holds it.
pub fn read_project_lock(root: &Path) -> Result<Option<Lock>> {
    let mut store = SqliteStore::open(&root.join(config::DIR).join(config::STATE_DB))?;
    Ok(LockManager::new(&mut store, &SystemClock).status(PROJECT_LOCK)?)
}
