//! `Project`: a folder with `.twinsync/` — its config, its embedded store and its two
//! replicas — and the operations a user runs on it: status, sync, undo, history, locks.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use twinsync_core::lock::{Lock, LockManager, LockRequest};
use twinsync_core::store::HistoryEntry;
use twinsync_core::{
    Clock, Direction, Directions, Drift, Engine, EngineConfig, OperationReport, Policy, Preview, Store, SyncOptions,
    SystemClock, Trigger, UndoReport,
};
use twinsync_fs::{FsOptions, FsReplica, SymlinkMode};
use twinsync_sqlite::{SqliteReplica, SqliteStore};

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::replicas::AnyReplica;

/// Store namespace of the folder replicas' stat caches.
const STAT_CACHE: &str = "stat_cache";
/// The lock `twinsync lock` and the guard use for the whole project.
pub const PROJECT_LOCK: &str = "project";

/// What a sync should do beyond the project's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncRequest {
    /// Overrides the configured policy.
    pub policy: Option<Policy>,
    /// Overrides the configured direction.
    pub direction: Option<Direction>,
    /// Lets a sync delete most of a replica.
    pub allow_mass_delete: bool,
    /// What set it off.
    pub trigger: Trigger,
}

/// An open project.
pub struct Project {
    dir: PathBuf,
    config: Config,
    store: SqliteStore,
    left: AnyReplica,
    right: AnyReplica,
    clock: Box<dyn Clock>,
    actor: String,
    progress: Option<Box<dyn Fn(usize, usize) + Send>>,
}

/// The identity of the caller: `TWINSYNC_OWNER`, else the OS user.
pub fn default_actor() -> String {
    ["TWINSYNC_OWNER", "USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

impl Project {
    /// Makes `dir` a project syncing `left` and `right` (folders relative to `dir`, or `db`).
    pub fn init(dir: &Path, left: &str, right: &str) -> Result<Project> {
        Project::init_with(dir, Config::new(left, right))
    }

    /// Makes `dir` a project with `config`.
    pub fn init_with(dir: &Path, config: Config) -> Result<Project> {
        let state = dir.join(config::DIR);
        if state.join(config::CONFIG_FILE).exists() {
            return Err(Error::AlreadyInitialized(dir.to_path_buf()));
        }
        for spec in [&config.pair.left, &config.pair.right] {
            if let Some(p) = Config::replica_path(dir, spec) {
                if !p.is_dir() {
                    return Err(Error::Config {
                        path: p.clone(),
                        message: "not a folder; create it first (a missing root is never synced)".into(),
                    });
                }
            }
        }
        std::fs::create_dir_all(&state).map_err(|e| Error::io(&state, e))?;
        config.save(&state.join(config::CONFIG_FILE))?;
        Project::open_at(dir)
    }

    /// Opens the project containing `start` (it or its nearest parent with `.twinsync/`).
    pub fn open(start: &Path) -> Result<Project> {
        Project::open_at(&Project::find(start)?)
    }

    /// The folder holding `.twinsync/`, searching from `start` upwards, as git finds `.git`.
    pub fn find(start: &Path) -> Result<PathBuf> {
        let start = start.canonicalize().map_err(|e| Error::io(start, e))?;
        start
            .ancestors()
            .find(|d| d.join(config::DIR).join(config::CONFIG_FILE).is_file())
            .map(Path::to_path_buf)
            .ok_or(Error::NotAProject { start })
    }

    fn open_at(dir: &Path) -> Result<Project> {
        let state = dir.join(config::DIR);
        let config = Config::load(&state.join(config::CONFIG_FILE))?;
        let db = state.join(config::STATE_DB);
        let store = SqliteStore::open(&db)?;
        let rules = config.hash_rules();
        let open = |spec: &str| -> Result<AnyReplica> {
            Ok(match Config::replica_path(dir, spec) {
                None => AnyReplica::Db(SqliteReplica::open(&db, &config.pair.name, rules.clone())?),
                Some(root) => AnyReplica::Fs(FsReplica::open(
                    &root,
                    FsOptions {
                        name: spec.to_string(),
                        rules: rules.clone(),
                        ignore: config.pair.ignore.clone(),
                        symlinks: match config.pair.symlinks.as_str() {
                            "follow-within-root" => SymlinkMode::FollowWithinRoot,
                            "links" => SymlinkMode::Links,
                            _ => SymlinkMode::Skip,
                        },
                        backup_dir: Some(state.join("backups")),
                    },
                )?),
            })
        };
        let (left, right) = (open(&config.pair.left)?, open(&config.pair.right)?);
        let mut project = Project {
            dir: dir.to_path_buf(),
            config,
            store,
            left,
            right,
            clock: Box::new(SystemClock),
            actor: default_actor(),
            progress: None,
        };
        project.load_stat_caches()?;
        Ok(project)
    }

    /// The project folder (the one holding `.twinsync/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Reads time from `clock` instead of the system clock (tests, simulations).
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
    }

    /// Acts as `actor` in history, audit and locks.
    pub fn set_actor(&mut self, actor: impl Into<String>) {
        self.actor = actor.into();
    }

    /// Calls `progress(done, total)` as a sync applies items.
    pub fn set_progress(&mut self, progress: Box<dyn Fn(usize, usize) + Send>) {
        self.progress = Some(progress);
    }

    /// Now, by the project's clock (what undo windows and locks are measured against).
    pub fn now(&self) -> twinsync_core::Timestamp {
        self.clock.now()
    }

    /// Who acts.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The project's store.
    pub fn store(&mut self) -> &mut SqliteStore {
        &mut self.store
    }

    /// The left and right replicas.
    pub fn replicas(&mut self) -> (&mut AnyReplica, &mut AnyReplica) {
        (&mut self.left, &mut self.right)
    }

    fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            scope: self.config.pair.name.clone(),
            actor: self.actor.clone(),
            undo: self.config.undo_limits(),
            ..EngineConfig::default()
        }
    }

    fn sync_options(&self, req: &SyncRequest) -> SyncOptions {
        SyncOptions {
            policy: req.policy.unwrap_or(self.config.pair.policy),
            directions: Directions::all(req.direction.unwrap_or(self.config.pair.direction)),
            trigger: req.trigger,
            allow_mass_delete: req.allow_mass_delete,
        }
    }

    /// Runs `f` with an engine over the two replicas, then persists the stat caches.
    fn with_engine<T>(&mut self, f: impl FnOnce(&mut Engine<'_>, &mut AnyReplica, &mut AnyReplica) -> T) -> Result<T> {
        let cfg = self.engine_config();
        let out = {
            let mut engine = Engine::new(&mut self.store, self.clock.as_ref(), cfg);
            if let Some(p) = &self.progress {
                engine = engine.with_progress(p.as_ref());
            }
            f(&mut engine, &mut self.left, &mut self.right)
        };
        self.save_stat_caches()?;
        Ok(out)
    }

    fn load_stat_caches(&mut self) -> Result<()> {
        for (side, r) in [("left", &mut self.left), ("right", &mut self.right)] {
            if let AnyReplica::Fs(fs) = r {
                if let Some(bytes) = self.store.kv_get(STAT_CACHE, side)? {
                    fs.import_stat_cache(&bytes);
                }
            }
        }
        Ok(())
    }

    fn save_stat_caches(&mut self) -> Result<()> {
        for (side, r) in [("left", &mut self.left), ("right", &mut self.right)] {
            if let AnyReplica::Fs(fs) = r {
                if fs.stat_cache_dirty() {
                    self.store.kv_put(STAT_CACHE, side, &fs.export_stat_cache())?;
                    fs.mark_stat_cache_saved();
                }
            }
        }
        Ok(())
    }

    /// The drift of every item.
    pub fn status(&mut self) -> Result<Drift> {
        Ok(self.with_engine(|e, l, r| e.status(l, r))??)
    }

    /// A dry run: the plan with unified diffs. Changes nothing.
    pub fn preview(&mut self, req: &SyncRequest) -> Result<Preview> {
        let opts = self.sync_options(req);
        Ok(self.with_engine(|e, l, r| e.preview(l, r, &opts))??)
    }

    /// Syncs the pair and returns the operation report.
    pub fn sync(&mut self, req: &SyncRequest) -> Result<OperationReport> {
        let opts = self.sync_options(req);
        let report = self.with_engine(|e, l, r| e.sync(l, r, &opts))??;
        self.prune_backups();
        Ok(report)
    }

    /// Backups older than the undo window go; a failure to prune never fails a sync.
    fn prune_backups(&self) {
        let max_age = Duration::from_millis(self.config.undo_limits().max_age_ms.max(0) as u64);
        if let Some(cutoff) = SystemTime::now().checked_sub(max_age) {
            let _ = twinsync_fs::prune_backups(&self.dir.join(config::DIR).join("backups"), cutoff);
        }
    }

    /// Undoes an operation (the newest undoable one for `None`).
    pub fn undo(&mut self, operation_id: Option<&str>) -> Result<UndoReport> {
        Ok(self.with_engine(|e, l, r| e.undo(l, r, operation_id))??)
    }

    /// Recorded operations, newest first.
    pub fn operations(&self, limit: usize) -> Result<Vec<OperationReport>> {
        Ok(self.store.operations(Some(&self.config.pair.name), limit)?)
    }

    /// Item history, newest first.
    pub fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>> {
        Ok(self.store.history(Some(&self.config.pair.name), limit)?)
    }

    fn locks(&mut self) -> LockManager<'_> {
        LockManager::new(&mut self.store, self.clock.as_ref())
    }

    /// Acquires the project lock for the current actor.
    pub fn lock_acquire(&mut self, ttl_ms: Option<i64>, reason: Option<&str>) -> Result<Lock> {
        let ttl = ttl_ms.unwrap_or(i64::from(self.config.guard.lock_ttl_minutes) * 60_000);
        let mut req = LockRequest::new(PROJECT_LOCK, self.actor.clone()).ttl_ms(ttl);
        if let Some(r) = reason {
            req = req.reason(r);
        }
        Ok(self.locks().acquire(&req)?)
    }

    /// Renews the project lock; `caller` is the owner name or the token.
    pub fn lock_renew(&mut self, caller: &str, ttl_ms: Option<i64>) -> Result<Lock> {
        let ttl = ttl_ms.unwrap_or(i64::from(self.config.guard.lock_ttl_minutes) * 60_000);
        Ok(self.locks().renew(PROJECT_LOCK, caller, ttl)?)
    }

    /// Releases the project lock; `caller` is the owner name or the token.
    pub fn lock_release(&mut self, caller: &str) -> Result<Lock> {
        Ok(self.locks().release(PROJECT_LOCK, caller)?)
    }

    /// Releases the project lock whoever holds it; recorded in the audit log.
    pub fn lock_force_release(&mut self, reason: Option<&str>) -> Result<Option<Lock>> {
        let actor = self.actor.clone();
        Ok(self.locks().force_release(PROJECT_LOCK, &actor, reason)?)
    }

    /// The live project lock, if any.
    pub fn lock_status(&mut self) -> Result<Option<Lock>> {
        Ok(self.locks().status(PROJECT_LOCK)?)
    }
}
