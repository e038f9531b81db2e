//! `Project`: the handle on a project folder and its embedded SQLite store, shared with
//! the host through an `Arc`; each call takes the handle's mutex for its duration.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Deserialize;
use twinsync::api;
use twinsync_core as core;

use crate::error::{Result, TwinsyncError};
use crate::functions::decode;
use crate::types::{Drift, Lock, LockRelease, LockStatus, OperationReport, OperationSummary, Preview, UndoReport};

/// What a sync should do beyond the project's configured defaults; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncOptions {
    /// Overrides the configured policy (`prefer-left`, `merge:right`, `manual`, ...).
    #[uniffi(default = None)]
    pub policy: Option<String>,
    /// Overrides the configured direction (`both`, `left-to-right`, `right-to-left`).
    #[uniffi(default = None)]
    pub direction: Option<String>,
    /// Lets a sync delete most of a replica.
    #[uniffi(default = false)]
    pub allow_mass_delete: bool,
    /// The pair (default: the only pair, else the one named `default`); last, so
    /// positional calls written before named pairs keep their meaning.
    #[uniffi(default = None)]
    pub pair: Option<String>,
    /// Also makes formatting-only items byte-equal (the direction's or policy's side gives its bytes).
    #[uniffi(default = false)]
    pub formatting: bool,
}

impl SyncOptions {
    fn api(options: Option<SyncOptions>, dry_run: bool) -> (Option<String>, api::SyncOptions) {
        let o = options.unwrap_or_default();
        let opts = api::SyncOptions {
            dry_run,
            policy: o.policy,
            direction: o.direction,
            allow_mass_delete: o.allow_mass_delete,
            formatting: o.formatting,
        };
        (o.pair, opts)
    }
}

/// `{"operations": [...]}` as `twinsync::api::history` and `undo_stack` return it.
#[derive(Deserialize)]
struct Operations {
    operations: Vec<core::OperationSummary>,
}

/// `{"lock": {...}}` as the API's acquire and renew return it.
#[derive(Deserialize)]
struct Held {
    lock: Lock,
}

/// An open project: a folder holding `.twinsync/`, its store and its two replicas.
#[derive(uniffi::Object)]
pub struct Project {
    inner: Mutex<twinsync::Project>,
}

impl Project {
    fn wrap(p: twinsync::Project) -> Arc<Self> {
        Arc::new(Project { inner: Mutex::new(p) })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, twinsync::Project> {
        // A panic inside a call leaves the project as the store's transactions left it,
        // so the handle stays usable rather than poisoned for good.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One of the project's pairs, as `twinsync pair list --json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, uniffi::Record)]
pub struct PairInfo {
    /// The pair's name.
    pub name: String,
    /// `folders`, `openspec` or `design`.
    pub kind: String,
    /// Left side (a folder, `db`, files).
    pub left: String,
    /// Right side.
    pub right: String,
    /// Conflict policy.
    pub policy: String,
    /// Default direction.
    pub direction: String,
}

#[derive(Deserialize)]
struct PairsJson {
    pairs: Vec<PairInfo>,
}

pub(crate) fn operations(v: serde_json::Value) -> Result<Vec<OperationSummary>> {
    Ok(decode::<Operations>("operations", v)?.operations.into_iter().map(Into::into).collect())
}

#[uniffi::export]
impl Project {
    /// Opens the project containing `dir` (it or its nearest parent with `.twinsync/`),
    /// acting as `actor` (default: `TWINSYNC_OWNER`, else the OS user).
    #[uniffi::constructor(default(actor = None))]
    pub fn open(dir: String, actor: Option<String>) -> Result<Arc<Self>> {
        Ok(Project::wrap(api::open(&dir, actor.as_deref())?))
    }

    /// Makes `dir` a project syncing `left` and `right` (folders relative to `dir`, or
    /// `db` for the embedded database replica), as `twinsync init` does, and opens it,
    /// acting as `actor`. Named `create` because `init` is reserved in Swift.
    #[uniffi::constructor(default(actor = None))]
    pub fn create(dir: String, left: String, right: String, actor: Option<String>) -> Result<Arc<Self>> {
        let mut p = twinsync::Project::init(Path::new(&dir), &left, &right)?;
        if let Some(a) = actor {
            p.set_actor(a);
        }
        Ok(Project::wrap(p))
    }

    /// The project folder (the one holding `.twinsync/`).
    pub fn dir(&self) -> String {
        self.lock().dir().display().to_string()
    }

    /// Who acts in history, audit and locks.
    pub fn actor(&self) -> String {
        self.lock().actor().to_string()
    }

    /// Acts as `actor` from now on.
    pub fn set_actor(&self, actor: String) -> Result<()> {
        if actor.trim().is_empty() {
            return Err(TwinsyncError::invalid("actor: must not be empty"));
        }
        self.lock().set_actor(actor);
        Ok(())
    }

    /// The project's pairs, by name.
    pub fn pairs(&self) -> Result<Vec<PairInfo>> {
        Ok(decode::<PairsJson>("pairs", api::pairs(&self.lock()))?.pairs)
    }

    /// The drift of pair `pair` (default: the only pair, else the one named `default`).
    #[uniffi::method(default(pair = None))]
    pub fn status(&self, pair: Option<String>) -> Result<Drift> {
        Drift::from_api(api::status_in(&mut self.lock(), pair.as_deref())?)
    }

    /// A dry run (`sync` with `dryRun` in Node and Python): the plan and the diffs of
    /// its changes. Changes nothing.
    #[uniffi::method(default(options = None))]
    pub fn preview(&self, options: Option<SyncOptions>) -> Result<Preview> {
        let (pair, opts) = SyncOptions::api(options, true);
        let v = api::sync_in(&mut self.lock(), pair.as_deref(), &opts)?;
        Ok(decode::<core::Preview>("preview", v)?.into())
    }

    /// Syncs the pair and returns the operation report.
    #[uniffi::method(default(options = None))]
    pub fn sync(&self, options: Option<SyncOptions>) -> Result<OperationReport> {
        let (pair, opts) = SyncOptions::api(options, false);
        let v = api::sync_in(&mut self.lock(), pair.as_deref(), &opts)?;
        Ok(decode::<core::OperationReport>("sync", v)?.into())
    }

    /// Undoes an operation (the newest undoable one, of `pair` when given, when
    /// `operation_id` is absent).
    #[uniffi::method(default(operation_id = None, pair = None))]
    pub fn undo(&self, operation_id: Option<String>, pair: Option<String>) -> Result<UndoReport> {
        let v = api::undo_in(&mut self.lock(), pair.as_deref(), operation_id.as_deref())?;
        Ok(decode::<core::UndoReport>("undo", v)?.into())
    }

    /// Recent operations (of `pair` when given), newest first, at most `limit`.
    #[uniffi::method(default(limit = 20, pair = None))]
    pub fn history(&self, limit: u32, pair: Option<String>) -> Result<Vec<OperationSummary>> {
        operations(api::history_in(&self.lock(), pair.as_deref(), limit as usize)?)
    }

    /// Operations (of `pair` when given) that can still be undone, newest (the next
    /// `undo()`) first, at most `limit`.
    #[uniffi::method(default(limit = 50, pair = None))]
    pub fn undo_stack(&self, limit: u32, pair: Option<String>) -> Result<Vec<OperationSummary>> {
        operations(api::undo_stack_in(&self.lock(), pair.as_deref(), limit as usize)?)
    }

    /// Acquires the project lock for the actor, for `ttl_ms` (default: the configured
    /// TTL); the returned lock carries the token, shown only here.
    #[uniffi::method(default(ttl_ms = None, reason = None))]
    pub fn lock_acquire(&self, ttl_ms: Option<i64>, reason: Option<String>) -> Result<Lock> {
        let v = api::lock_acquire(&mut self.lock(), ttl_ms, reason.as_deref())?;
        Ok(decode::<Held>("lock", v)?.lock)
    }

    /// Renews the project lock; `caller` is the owner name or the token.
    #[uniffi::method(default(ttl_ms = None))]
    pub fn lock_renew(&self, caller: String, ttl_ms: Option<i64>) -> Result<Lock> {
        let v = api::lock_renew(&mut self.lock(), &caller, ttl_ms)?;
        Ok(decode::<Held>("lock", v)?.lock)
    }

    /// Releases the project lock; `caller` is the owner name or the token. With `force`,
    /// releases it whoever holds it, recorded in the audit log with `reason`.
    #[uniffi::method(default(force = false, reason = None))]
    pub fn lock_release(&self, caller: String, force: bool, reason: Option<String>) -> Result<LockRelease> {
        decode("lock", api::lock_release(&mut self.lock(), &caller, force, reason.as_deref())?)
    }

    /// Whether the project lock is held, and by whom.
    pub fn lock_status(&self) -> Result<LockStatus> {
        decode("lock", api::lock_status(&mut self.lock())?)
    }
}
