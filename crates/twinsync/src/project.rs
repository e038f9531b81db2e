//! `Project`: a folder with `.twinsync/`: its config, its one store, and its named pairs.
//! Every operation a user runs goes through here: status, sync, resolve and undo of a
//! pair, history, locks and the event outbox.
//!
//! A sync of a pair takes the pair's lease (one sync of a pair at a time, across
//! processes), refuses to write under another owner's project lock, runs the engine,
//! and gives the lease back.
//!
//! What a killed sync left half done (open intents, a report still `running`) is
//! finished by the next writer of the pair — sync, resolve or undo — while it holds the
//! lease, before anything else (`Engine::recover`). Status and dry runs never recover:
//! they may run beside a sync, so they only read, and see the pair as the recovery will
//! leave it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use twinsync_core::event::Event;
use twinsync_core::lock::{Lock, LockManager, LockRequest};
use twinsync_core::store::HistoryEntry;
use twinsync_core::{
    Clock, Content, Direction, Directions, Drift, Engine, EngineConfig, Key, OperationReport, Policy, Preview,
    Resolution, Side, Store, SyncOptions, SystemClock, Trigger, UndoReport,
};
use twinsync_fs::{FsOptions, FsReplica, ScanProgress};

use crate::config::{self, Config, PairConfig, PairKind, DEFAULT_PAIR};
use crate::design_pair;
use crate::error::{Error, Result};
use crate::kinds;
use crate::lease;
use crate::openspec_pair::{self, OpenspecDb};
use crate::replicas::AnyReplica;
use crate::stores::StoreUrl;

/// Store namespace where earlier releases kept the folder sides' stat caches; an entry
/// found there is removed when the side's cache file is first written.
const OLD_STAT_CACHE: &str = "stat_cache";
/// Folder inside `.twinsync/` of the folder sides' stat caches, a file per pair side
/// (`PAIR.left`, `PAIR.right`). A stat cache describes this host's copy of a folder, so
/// it stays beside it whatever the store, even a PostgreSQL one other hosts share.
pub const STAT_CACHE_DIR: &str = "stat-cache";
/// The lock `twinsync lock` and the guard use for the whole project.
pub const PROJECT_LOCK: &str = "project";
/// How long a sync waits for another sync of the same pair by default.
pub const DEFAULT_LEASE_WAIT: Duration = Duration::from_secs(60);

/// What a sync should do beyond the pair's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncRequest {
    /// Overrides the configured policy.
    pub policy: Option<Policy>,
    /// Overrides the configured direction.
    pub direction: Option<Direction>,
    /// Lets a sync delete most of a side.
    pub allow_mass_delete: bool,
    /// Also makes formatting-only items byte-equal (`sync --formatting`): the side the
    /// direction or policy picks gives its bytes.
    pub formatting: bool,
    /// What set it off.
    pub trigger: Trigger,
    /// Only items whose key starts with one of these (every item when empty).
    pub only: Vec<String>,
    /// Directions of single items (by key, or by folder prefix ending in `/`), over the
    /// pair's direction: `twinsync design sync --component NAME=DIRECTION`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub item_directions: std::collections::BTreeMap<String, Direction>,
}

/// How [`Project::resolve`] settles a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// That side's version wins.
    Side(Side),
    /// This content is written to both sides.
    Content(Content),
    /// A file's bytes, read as a folder side reads an item at that key, written to both sides.
    Bytes(Vec<u8>),
}

/// The state of one pair, whatever its kind: what `twinsync status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PairStatus {
    /// The pair.
    pub pair: String,
    /// Its kind.
    pub kind: PairKind,
    /// Items not in sync: key and class (a drift class, or what the OpenSpec or design
    /// side would do with the row or component).
    pub items: Vec<StatusItem>,
    /// Items in sync.
    pub in_sync: usize,
    /// Items left for a person.
    pub conflicts: usize,
    /// Items a side could not read, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<twinsync_core::ItemError>,
    /// Renames among `items`: an item deleted and its content added under another key
    /// on one side, which a sync applies as a rename on the other.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<twinsync_core::Move>,
}

/// One item of a [`PairStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StatusItem {
    /// The item.
    pub key: String,
    /// How it differs.
    pub class: String,
    /// Whether a person has to settle it.
    pub conflict: bool,
}

/// What a sync of one pair came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PairSync {
    /// The pair.
    pub pair: String,
    /// Its kind.
    pub kind: PairKind,
    /// The operation report (`None` when the pair was skipped).
    pub report: Option<OperationReport>,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Told the pair and the holder when a sync starts waiting for another sync's lease.
pub type OnWait = Box<dyn Fn(&str, &str) + Send>;

/// Called with a folder side's name (as the pair names it) and its scan's progress.
pub type OnScanProgress = Arc<dyn Fn(&str, ScanProgress) + Send + Sync>;

/// An open project.
pub struct Project {
    dir: PathBuf,
    config: Config,
    store_url: StoreUrl,
    store: Box<dyn Store>,
    clock: Arc<dyn Clock>,
    actor: String,
    progress: Option<Box<dyn Fn(usize, usize) + Send>>,
    scan_progress: Option<(OnScanProgress, Duration)>,
    lease_wait: Duration,
    on_wait: Option<OnWait>,
    /// The OpenSpec database of `openspec` pairs the shortcuts opened with `--db` or
    /// `--project` (see `Project::for_openspec`); other pairs use the default one.
    pub(crate) openspec_dbs: BTreeMap<String, OpenspecDb>,
}

/// The identity of the caller: `TWINSYNC_OWNER`, else the OS user.
pub fn default_actor() -> String {
    ["TWINSYNC_OWNER", "USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

impl Project {
    /// Makes `dir` a project with one `folders` pair, `default`, syncing `left` and
    /// `right` (folders relative to `dir`, or `db`).
    pub fn init(dir: &Path, left: &str, right: &str) -> Result<Project> {
        Project::init_with(dir, Config::new(left, right))
    }

    /// Makes `dir` a project with `config`; the project id is derived when not set.
    pub fn init_with(dir: &Path, mut config: Config) -> Result<Project> {
        let state = dir.join(config::DIR);
        if state.join(config::CONFIG_FILE).exists() {
            return Err(Error::AlreadyInitialized(dir.to_path_buf()));
        }
        for (name, pair) in &config.pairs {
            // Checked before anything is written: a bad side (a git URL without a branch,
            // say) is refused with the pair and side named, and leaves no project behind.
            let path = state.join(config::CONFIG_FILE);
            pair.validate(name).map_err(|message| Error::Config { path, message })?;
            check_sides_exist(dir, pair)?;
        }
        if config.store.project.is_none() {
            config.store.project = Some(derive_project_id(dir));
        }
        if let Some(host) = crate::host::current_host() {
            config.pairs.values_mut().for_each(|p| p.bind_hosts(&host));
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
    /// A folder with only the design state of earlier releases counts (see `design_pair`),
    /// and so does one the OpenSpec shortcuts synced (see `openspec_pair`).
    pub fn find(start: &Path) -> Result<PathBuf> {
        let start = start.canonicalize().map_err(|e| Error::io(start, e))?;
        // A config anywhere up the tree wins over state without one nearer: a project's
        // subfolder where a shortcut once ran stays part of the project.
        let configured = start.ancestors().find(|d| d.join(config::DIR).join(config::CONFIG_FILE).is_file());
        configured
            .or_else(|| {
                start.ancestors().find(|d| design_pair::has_old_design_state(d) || openspec_pair::has_openspec_state(d))
            })
            .map(Path::to_path_buf)
            .ok_or(Error::NotAProject { start })
    }

    fn open_at(dir: &Path) -> Result<Project> {
        design_pair::write_config_for_old_state(dir)?;
        let path = dir.join(config::DIR).join(config::CONFIG_FILE);
        let config = if path.is_file() {
            Config::load(&path)?
        } else {
            // A folder only the OpenSpec shortcuts used: no config is written for it.
            let mut config = Config::empty();
            config.store.project = Some(derive_project_id(dir));
            config
        };
        let mut project = Project::with_config(dir, config)?;
        // State an older twinsync kept beside an openspec pair's database moves into the
        // store now, so history shows it; a failure here surfaces when the pair is used.
        for (name, pair) in project.config.pairs.clone() {
            if pair.kind == PairKind::Openspec {
                let _ = project.openspec_migrate(&name);
            }
        }
        // The shortcuts' implicit pair for an `openspec/` folder here that they synced, so
        // `status`, `history` and `undo` see it.
        if openspec_pair::has_openspec_state(dir) {
            let _ = project.openspec_pair_for(dir, None, None);
        }
        Ok(project)
    }

    /// A project over `config` as given (not read from, nor written to, a file).
    pub(crate) fn with_config(dir: &Path, config: Config) -> Result<Project> {
        let store_url = StoreUrl::for_project(dir, &config)?;
        let store = store_url.open(config.store.project.as_deref())?;
        let mut project = Project {
            dir: dir.to_path_buf(),
            config,
            store_url,
            store,
            clock: Arc::new(SystemClock),
            actor: default_actor(),
            progress: None,
            scan_progress: None,
            lease_wait: DEFAULT_LEASE_WAIT,
            on_wait: None,
            openspec_dbs: BTreeMap::new(),
        };
        design_pair::migrate_old_design_state(&mut project)?;
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

    /// Where the state lives (its password, if any, never shows).
    pub fn store_url(&self) -> &StoreUrl {
        &self.store_url
    }

    /// Reads time from `clock` instead of the system clock (tests, simulations).
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = Arc::from(clock);
    }

    /// Acts as `actor` in history, audit and locks.
    pub fn set_actor(&mut self, actor: impl Into<String>) {
        self.actor = actor.into();
    }

    /// Compares pairs `pairs` (every pair when empty) by `compare` in this project handle
    /// only, not in the config: a `status --compare bytes` or a `sync --compare bytes`
    /// that makes both sides byte-equal once. A pair named that does not exist is an error.
    pub fn set_compare(&mut self, pairs: &[String], compare: twinsync_core::Compare) -> Result<()> {
        for name in pairs {
            self.pair_config(name)?;
        }
        for (name, pair) in self.config.pairs.iter_mut() {
            if pairs.is_empty() || pairs.contains(name) {
                pair.compare = compare;
            }
        }
        Ok(())
    }

    /// Calls `progress(done, total)` as a sync applies items.
    pub fn set_progress(&mut self, progress: Box<dyn Fn(usize, usize) + Send>) {
        self.progress = Some(progress);
    }

    /// Calls `progress(side, how far)` from the scanning threads, about ten times a
    /// second, while a folder side's scan runs for longer than `after`; `side` is the
    /// side as the pair names it.
    pub fn set_scan_progress(&mut self, after: Duration, progress: OnScanProgress) {
        self.scan_progress = Some((progress, after));
    }

    /// How long a sync waits for another sync of the same pair (default 60 s), and what
    /// to call, with the pair and the holder, when it starts waiting.
    pub fn set_lease_wait(&mut self, wait: Duration, on_wait: Option<OnWait>) {
        self.lease_wait = wait;
        self.on_wait = on_wait;
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
    pub fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }

    pub(crate) fn store_ref(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The store and the clock at once, for a worker that needs both.
    pub(crate) fn store_and_clock(&mut self) -> (&mut dyn Store, &dyn Clock) {
        (self.store.as_mut(), self.clock.as_ref())
    }

    /// The id that keeps this project apart in a shared store and in message ids.
    pub fn project_id(&self) -> String {
        self.config.store.project.clone().unwrap_or_else(|| derive_project_id(&self.dir))
    }

    // ---- pairs -------------------------------------------------------------------

    /// The pairs' names, sorted.
    pub fn pair_names(&self) -> Vec<String> {
        self.config.pairs.keys().cloned().collect()
    }

    /// Pair `name`'s config.
    pub fn pair(&self, name: &str) -> Result<&PairConfig> {
        self.config
            .pairs
            .get(name)
            .ok_or_else(|| Error::UnknownPair { name: name.to_string(), known: self.pair_names() })
    }

    /// The pair the single-pair calls ([`Project::status`], [`Project::sync`]) act on:
    /// the only pair, else the one named `default`.
    pub fn default_pair(&self) -> Result<String> {
        match self.config.pairs.len() {
            1 => Ok(self.pair_names().remove(0)),
            _ if self.config.pairs.contains_key(DEFAULT_PAIR) => Ok(DEFAULT_PAIR.to_string()),
            _ => Err(Error::Core(twinsync_core::Error::InvalidInput(format!(
                "this project has {} pairs ({}); name one",
                self.config.pairs.len(),
                self.pair_names().join(", ")
            )))),
        }
    }

    /// `names`, checked, or every pair when `names` is empty.
    pub fn select_pairs(&self, names: &[String]) -> Result<Vec<String>> {
        if names.is_empty() {
            return Ok(self.pair_names());
        }
        for n in names {
            self.pair_config(n)?;
        }
        Ok(names.to_vec())
    }

    /// Adds pair `name` and saves the config. Neither side is touched.
    pub fn pair_add(&mut self, name: &str, mut pair: PairConfig) -> Result<()> {
        let path = self.config_path();
        let bad = |message: String| Error::Config { path: path.clone(), message };
        pair.validate(name).map_err(bad)?;
        if self.config.pairs.contains_key(name) {
            return Err(bad(format!("pair {name} already exists; remove it first or pick another name")));
        }
        check_sides_exist(&self.dir, &pair)?;
        if let Some(host) = crate::host::current_host() {
            pair.bind_hosts(&host);
        }
        let mut next = self.config.clone();
        next.pairs.insert(name.to_string(), pair);
        next.save(&path)?;
        self.config = next;
        Ok(())
    }

    /// Removes pair `name` from the config. Neither side's data is touched, and its
    /// history stays in the store.
    pub fn pair_remove(&mut self, name: &str) -> Result<PairConfig> {
        self.pair(name)?;
        let mut next = self.config.clone();
        let removed = next.pairs.remove(name).expect("checked above");
        next.save(&self.config_path())?;
        self.config = next;
        // The stat caches describe the pair's folders for this pair only; a pair added
        // later under the name checks its own folders anyway, so a failure here is harmless.
        for side in ["left", "right"] {
            let _ = std::fs::remove_file(self.stat_cache_path(name, side));
        }
        Ok(removed)
    }

    /// Changes pair `name`'s policy for this process only (a shortcut's `--policy`).
    pub fn set_pair_policy(&mut self, name: &str, policy: Policy) -> Result<()> {
        self.pair(name)?;
        if let Some(p) = self.config.pairs.get_mut(name) {
            p.policy = policy;
        }
        Ok(())
    }

    /// Adds pair `name` for this process only (the OpenSpec shortcuts' implicit pair).
    pub(crate) fn insert_pair_in_memory(&mut self, name: &str, pair: PairConfig) {
        self.config.pairs.insert(name.to_string(), pair);
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join(config::DIR).join(config::CONFIG_FILE)
    }

    /// Opens the two sides of pair `name` that runs on the engine: folders, or the
    /// documents table of the store's database (SQLite, or PostgreSQL shared under the
    /// project id); for a `design` pair, its code and design components files.
    pub fn sides(&self, name: &str) -> Result<(AnyReplica, AnyReplica)> {
        let pair = self.pair_config(name)?;
        crate::host::check_pair_host(name, &pair, &self.config_path())?;
        match pair.kind {
            PairKind::Design => return design_pair::open_design_sides(&self.dir, name, &pair),
            PairKind::Openspec => return self.openspec_sides(name),
            PairKind::Folders => {}
        }
        let pair = &pair;
        let rules = self.config.hash_rules(pair);
        let state = self.dir.join(config::DIR);
        let open = |spec: &str| -> Result<AnyReplica> {
            if Config::git_side(spec) {
                let credential = if spec == pair.left { &pair.left_credential } else { &pair.right_credential };
                return self.open_git_side(name, spec, credential.as_deref(), rules.clone(), &pair.ignore);
            }
            Ok(match Config::replica_path(&self.dir, spec) {
                // The documents table of the store's own database, SQLite or PostgreSQL:
                // the set named after the pair, or the one `db:NAME` names.
                None => {
                    let set = Config::db_side(spec).flatten().unwrap_or(name);
                    self.store_url.open_db_side(self.config.store.project.as_deref(), set, rules.clone())?
                }
                Some(root) => AnyReplica::Fs(FsReplica::open(
                    &root,
                    FsOptions {
                        name: spec.to_string(),
                        rules: rules.clone(),
                        ignore: pair.ignore.clone(),
                        symlinks: pair.symlink_mode(),
                        backup_dir: Some(state.join("backups")),
                    },
                )?),
            })
        };
        let (mut left, mut right) = (open(&pair.left)?, open(&pair.right)?);
        for (side, r) in [("left", &mut left), ("right", &mut right)] {
            if let AnyReplica::Fs(fs) = r {
                if let Some((progress, after)) = &self.scan_progress {
                    let (progress, spec) = (progress.clone(), if side == "left" { &pair.left } else { &pair.right });
                    let spec = spec.clone();
                    fs.observe_scans(Arc::new(move |p| progress(&spec, p)), *after);
                }
            }
        }
        // Each cache is a read, a checksum and a parse of megabytes (8 MB a side at 100k
        // files): the two sides load theirs at once.
        let (left_cache, right_cache) = (self.stat_cache_path(name, "left"), self.stat_cache_path(name, "right"));
        std::thread::scope(|s| {
            let l = match &mut left {
                AnyReplica::Fs(fs) => Some(s.spawn(|| fs.load_stat_cache(&left_cache))),
                _ => None,
            };
            if let AnyReplica::Fs(fs) = &mut right {
                fs.load_stat_cache(&right_cache);
            }
            if let Some(l) = l {
                l.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        });
        Ok((left, right))
    }

    /// The `openspec` pair's sides: its `openspec/` folder and the rows of the OpenSpec
    /// database beside it (`.twinsync/openspec.db` in the folder holding `openspec/`),
    /// under the project name the OpenSpec commands give it.
    fn openspec_sides(&self, name: &str) -> Result<(AnyReplica, AnyReplica)> {
        let unsupported =
            |message: String| Error::Unsupported { pair: name.to_string(), kind: "openspec".into(), message };
        let side = self.openspec_db_side(name)?;
        let files = twinsync_openspec::OpenSpecFiles::open(
            &side.root.join("openspec"),
            Some(side.root.join(twinsync_openspec::sync::DEFAULT_BACKUPS)),
        )?;
        let db = side.open().map_err(|e| unsupported(e.to_string()))?;
        let db = twinsync_openspec::OpenSpecDb::new(db, side.project, self.clock.clone());
        Ok((AnyReplica::OpenSpecFiles(files), AnyReplica::OpenSpecDb(db)))
    }

    /// The stat cache file of side `side` (`left` or `right`) of pair `name`; pair names
    /// are file names already (letters, digits, `-`, `_`, `.`).
    fn stat_cache_path(&self, name: &str, side: &str) -> PathBuf {
        self.dir.join(config::DIR).join(STAT_CACHE_DIR).join(format!("{name}.{side}"))
    }

    pub(crate) fn save_stat_caches(&mut self, name: &str, left: &mut AnyReplica, right: &mut AnyReplica) -> Result<()> {
        for (side, r) in [("left", left), ("right", right)] {
            if let AnyReplica::Fs(fs) = r {
                if !fs.stat_cache_dirty() {
                    continue;
                }
                let path = self.stat_cache_path(name, side);
                let first = !path.exists();
                fs.save_stat_cache(&path).map_err(|e| Error::io(&path, e))?;
                if first {
                    // What an earlier release kept in the store is stale from now on, and
                    // up to megabytes a side: it goes, once.
                    self.store.kv_delete(OLD_STAT_CACHE, &format!("{name}/{side}"))?;
                }
            }
        }
        Ok(())
    }

    fn engine_config(&self, pair: &str) -> EngineConfig {
        let mut config = EngineConfig {
            scope: pair.to_string(),
            actor: self.actor.clone(),
            undo: self.config.undo_limits(),
            ..EngineConfig::default()
        };
        // A git side makes one commit per batch: batches of a pair with one are cut by
        // size only, not by time, so an operation is one commit (up to `batch_items`).
        let has_git =
            self.config.pairs.get(pair).is_some_and(|p| Config::git_side(&p.left) || Config::git_side(&p.right));
        if has_git {
            config.batch_ms = i64::MAX;
        }
        config
    }

    /// A build without the `git` feature refuses git sides, by name.
    #[cfg(not(feature = "git"))]
    fn open_git_side(
        &self,
        pair: &str,
        spec: &str,
        _credential: Option<&str>,
        _rules: twinsync_core::HashRules,
        _ignore: &[String],
    ) -> Result<AnyReplica> {
        Err(Error::Config {
            path: self.dir.join(config::DIR).join(config::CONFIG_FILE),
            message: format!("pair {pair}: {spec} is a git side, and this build of twinsync has no git support"),
        })
    }

    /// Opens the git side `spec` of pair `pair`: its mirror under `.twinsync/git`, the
    /// token of its named credential (the credential store, else the environment: see
    /// [`crate::git_tokens`]), the actor as
    /// commit author with `[git] author_email`.
    #[cfg(feature = "git")]
    fn open_git_side(
        &self,
        pair: &str,
        spec: &str,
        credential: Option<&str>,
        rules: twinsync_core::HashRules,
        ignore: &[String],
    ) -> Result<AnyReplica> {
        use crate::git_tokens::TokenSource;
        let config_path = self.dir.join(config::DIR).join(config::CONFIG_FILE);
        let parsed = twinsync_git::GitSpec::parse(spec)
            .map_err(|e| Error::Config { path: config_path.clone(), message: format!("pair {pair}: {e}") })?;
        let token = match credential {
            None => None,
            Some(c) => Some(self.token_for(c)?.ok_or_else(|| Error::Config {
                path: config_path.clone(),
                message: format!(
                    "pair {pair}: credential {c} of {parsed} has no token; add it with `twinsync credentials add {c} \
                     --provider documentation --secret-env VAR` (or set {})",
                    crate::git_tokens::EnvTokens::variable(c)
                ),
            })?),
        };
        let opts = twinsync_git::GitOptions {
            name: parsed.to_string(),
            rules,
            cache_dir: self.dir.join(config::DIR).join("git"),
            token,
            credential: credential.map(str::to_string),
            author_name: self.actor.clone(),
            author_email: self.config.git.author_email.clone().unwrap_or_else(twinsync_git::default_author_email),
            ignore: ignore.to_vec(),
        };
        Ok(AnyReplica::Git(twinsync_git::GitReplica::open(&parsed, opts)?))
    }

    fn sync_options(&self, pair: &PairConfig, req: &SyncRequest) -> SyncOptions {
        SyncOptions {
            policy: req.policy.unwrap_or(pair.policy),
            directions: Directions {
                default: req.direction.unwrap_or(pair.direction),
                overrides: req.item_directions.clone(),
            },
            trigger: req.trigger,
            allow_mass_delete: req.allow_mass_delete,
            only: req.only.clone(),
            formatting: req.formatting,
        }
    }

    /// Runs `f` with an engine over `folders` pair `name`'s sides, then keeps their stat caches.
    fn with_engine<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Engine<'_>, &mut AnyReplica, &mut AnyReplica) -> twinsync_core::Result<T>,
    ) -> Result<T> {
        if self.pair_config(name)?.kind == PairKind::Openspec {
            self.openspec_migrate(name)?;
        }
        let (mut left, mut right) = self.sides(name)?;
        let cfg = self.engine_config(name);
        let out = {
            let mut engine = Engine::new(self.store.as_mut(), self.clock.as_ref(), cfg);
            if let Some(p) = &self.progress {
                engine = engine.with_progress(p.as_ref());
            }
            f(&mut engine, &mut left, &mut right)
        };
        self.save_stat_caches(name, &mut left, &mut right)?;
        Ok(out?)
    }

    /// Runs `f` holding pair `name`'s sync lease, refusing under another owner's project lock.
    pub(crate) fn writing<T>(
        &mut self,
        name: &str,
        what: &str,
        f: impl FnOnce(&mut Project) -> Result<T>,
    ) -> Result<T> {
        let wait = self.lease_wait;
        let on_wait = self.on_wait.take();
        let acquired =
            lease::acquire(self.store.as_mut(), self.clock.as_ref(), name, &self.actor, wait, &mut |holder| {
                if let Some(w) = &on_wait {
                    w(name, holder);
                }
            });
        self.on_wait = on_wait;
        let lease = acquired?;
        let out = self.ensure_unlocked(what).and_then(|()| f(self));
        let released = lease::release(self.store.as_mut(), &lease);
        let out = out?;
        released?;
        Ok(out)
    }

    /// Refuses `what` (a write) while another owner holds the project lock: every
    /// writer calls this, so the lock binds the CLI, the MCP tools and the bindings alike.
    pub fn ensure_unlocked(&mut self, what: &str) -> Result<()> {
        match self.lock_status()? {
            Some(l) if l.owner != self.actor => Err(Error::Locked {
                what: what.to_string(),
                holder: l.owner,
                until: l.expires_at,
                reason: l.reason,
                actor: self.actor.clone(),
            }),
            _ => Ok(()),
        }
    }

    // ---- status, sync, resolve, undo ---------------------------------------------

    /// The drift of every item of `folders` pair `name`.
    pub fn status_of(&mut self, name: &str) -> Result<Drift> {
        self.with_engine(name, |e, l, r| e.status(l, r))
    }

    /// The state of each pair in `names` (every pair when empty), whatever its kind.
    pub fn status_pairs(&mut self, names: &[String]) -> Result<Vec<PairStatus>> {
        let mut out = Vec::new();
        for name in self.select_pairs(names)? {
            let kind = self.pair_config(&name)?.kind;
            out.push(match kind {
                PairKind::Folders | PairKind::Openspec => kinds::engine_status(&name, kind, &self.status_of(&name)?),
                PairKind::Design => self.design_status(&name)?,
            });
        }
        Ok(out)
    }

    /// A dry run of pair `name` (`folders` or `design`): the plan with unified diffs.
    /// Changes nothing.
    pub fn preview_of(&mut self, name: &str, req: &SyncRequest) -> Result<Preview> {
        let opts = self.sync_options(&self.pair_config(name)?, req);
        self.with_engine(name, |e, l, r| e.preview(l, r, &opts))
    }

    /// Syncs pair `name` and returns the operation report. Waits for another sync of the
    /// pair, refuses under another owner's project lock, and records a `sync_failed`
    /// event when the sync cannot run at all.
    pub fn sync_pair(&mut self, name: &str, req: &SyncRequest) -> Result<OperationReport> {
        let pair = self.pair_config(name)?;
        let what = format!("sync of pair {name}");
        let result = self.writing(name, &what, |p| match pair.kind {
            PairKind::Folders | PairKind::Design => {
                let opts = p.sync_options(&pair, req);
                let report = p.with_engine(name, |e, l, r| e.sync(l, r, &opts))?;
                // A git side whose branch moved under the push and changed some of its
                // items failed them with nothing written and no base recorded: one more
                // run, from a fresh fetch, applies what it can and reports what both
                // sides changed as conflicts (never overwritten). The first run stays in
                // history.
                #[cfg(feature = "git")]
                let moved = report.items.iter().any(|i| {
                    i.outcome == twinsync_core::Outcome::Failed
                        && i.error.as_deref().is_some_and(|e| e.contains(twinsync_git::REMOTE_MOVED))
                });
                #[cfg(not(feature = "git"))]
                let moved = false;
                if moved {
                    return p.with_engine(name, |e, l, r| e.sync(l, r, &opts));
                }
                Ok(report)
            }
            PairKind::Openspec => {
                let opts = p.sync_options(&pair, req);
                let op = p.with_engine(name, |e, l, r| e.sync(l, r, &opts))?;
                p.openspec_mark_conflicts(name, &op)?;
                Ok(op)
            }
        });
        match &result {
            Err(e @ (Error::Core(_) | Error::Io { .. } | Error::Store { .. })) => {
                crate::logging::failed("sync", name, &self.actor, e);
                let event = Event::sync_failed(self.clock.now(), name, "", &e.to_string());
                let _ = self.store.append_events(&[event]);
            }
            Ok(report) => {
                crate::logging::sync_done(report);
                self.after_sync()
            }
            Err(e) => crate::logging::failed("sync", name, &self.actor, e),
        }
        result
    }

    /// Syncs each pair in `names` (every pair when empty). A pair that cannot run is an
    /// error for the whole call.
    pub fn sync_pairs(&mut self, names: &[String], req: &SyncRequest) -> Result<Vec<PairSync>> {
        let mut out = Vec::new();
        for name in self.select_pairs(names)? {
            let kind = self.pair_config(&name)?.kind;
            let report = self.sync_pair(&name, req)?;
            out.push(PairSync { pair: name, kind, report: Some(report), skipped: None });
        }
        Ok(out)
    }

    /// Settles one drifted item of pair `name` (`folders` or `design`, where an item is
    /// `components/<name>`) by hand, as an undoable operation: `take` a side's version,
    /// or given content for both sides.
    pub fn resolve(&mut self, name: &str, key: &str, take: Take) -> Result<OperationReport> {
        let rules = self.config.hash_rules(&self.pair_config(name)?);
        let key = Key::new(key).map_err(twinsync_core::Error::from)?;
        let resolution = match take {
            Take::Side(s) => Resolution::Take(s),
            Take::Content(c) => Resolution::Content(c),
            Take::Bytes(b) => Resolution::Content(twinsync_fs::content_of(&rules, &key, b)?),
        };
        let what = format!("resolve of {key} in pair {name}");
        self.writing(name, &what, |p| {
            p.with_engine(name, |e, l, r| e.resolve(l, r, &key, &resolution, Trigger::Manual))
        })
    }

    /// Undoes an operation (the newest undoable one of `pair`, or of the project when
    /// `None`). An operation id names its own pair.
    pub fn undo_in(&mut self, pair: Option<&str>, operation_id: Option<&str>) -> Result<UndoReport> {
        let name = match (operation_id, pair) {
            (Some(id), _) => self.operation_pair(id)?,
            (None, Some(p)) => p.to_string(),
            (None, None) => self.newest_undoable_pair()?,
        };
        self.pair_config(&name)?;
        let started = std::time::Instant::now();
        let result = self.writing(&name, "undo", |p| p.with_engine(&name, |e, l, r| e.undo(l, r, operation_id)));
        match &result {
            Ok(u) => crate::logging::done(
                "undo",
                &name,
                &self.actor,
                &u.operation_id,
                started.elapsed().as_millis() as i64,
                u.restored.len(),
            ),
            Err(e) => crate::logging::failed("undo", &name, &self.actor, e),
        }
        result
    }

    fn operation_pair(&self, id: &str) -> Result<String> {
        if let Some(op) = self.store.operation(id)? {
            return Ok(op.scope);
        }
        let matches: Vec<OperationReport> =
            self.store.operations(None, usize::MAX)?.into_iter().filter(|o| o.operation_id.starts_with(id)).collect();
        match matches.as_slice() {
            [one] => Ok(one.scope.clone()),
            [] => Err(Error::Core(twinsync_core::Error::NotFound(format!("no operation {id}")))),
            many => Err(Error::Core(twinsync_core::Error::InvalidInput(format!(
                "operation id {id} is ambiguous ({} matches)",
                many.len()
            )))),
        }
    }

    fn newest_undoable_pair(&self) -> Result<String> {
        let now = self.clock.now();
        self.store
            .operations(None, self.config.undo_limits().max_operations)?
            .into_iter()
            .find(|o| o.undone_at.is_none() && o.reversible_until.is_some_and(|u| u > now))
            .map(|o| o.scope)
            .ok_or_else(|| {
                Error::Core(twinsync_core::Error::NotFound("no operation of this project can be undone".into()))
            })
    }

    /// Old events and old backups go after each sync; a failure to prune never fails one.
    fn after_sync(&mut self) {
        let days = i64::from(self.config.events.retention_days);
        let cutoff = self.clock.now().plus_millis(-days * 24 * 3_600_000);
        let _ = self.store.prune_events(cutoff);
        let _ = self.store.prune_deliveries(cutoff);
        let max_age = Duration::from_millis(self.config.undo_limits().max_age_ms.max(0) as u64);
        if let Some(cutoff) = SystemTime::now().checked_sub(max_age) {
            let _ = twinsync_fs::prune_backups(&self.dir.join(config::DIR).join("backups"), cutoff);
        }
    }

    /// The drift of the default pair (see [`Project::default_pair`]).
    pub fn status(&mut self) -> Result<Drift> {
        let name = self.default_pair()?;
        self.status_of(&name)
    }

    /// A dry run of the default pair.
    pub fn preview(&mut self, req: &SyncRequest) -> Result<Preview> {
        let name = self.default_pair()?;
        self.preview_of(&name, req)
    }

    /// Syncs the default pair.
    pub fn sync(&mut self, req: &SyncRequest) -> Result<OperationReport> {
        let name = self.default_pair()?;
        self.sync_pair(&name, req)
    }

    /// Undoes an operation of any pair (the newest undoable one for `None`).
    pub fn undo(&mut self, operation_id: Option<&str>) -> Result<UndoReport> {
        self.undo_in(None, operation_id)
    }

    // ---- history and events -------------------------------------------------------

    /// Recorded operations of every pair, newest first.
    pub fn operations(&self, limit: usize) -> Result<Vec<OperationReport>> {
        Ok(self.store.operations(None, limit)?)
    }

    /// Recorded operations of the pairs in `names` (every pair when empty), newest first.
    pub fn operations_of(&self, names: &[String], limit: usize) -> Result<Vec<OperationReport>> {
        if names.is_empty() {
            return self.operations(limit);
        }
        let mut all = Vec::new();
        for n in names {
            all.extend(self.store.operations(Some(n), limit)?);
        }
        all.sort_by_key(|o| std::cmp::Reverse(o.started_at));
        all.truncate(limit);
        Ok(all)
    }

    /// Item history of every pair, newest first.
    pub fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>> {
        Ok(self.store.history(None, limit)?)
    }

    /// Outbox events with an id above `since`, oldest first, at most `limit`.
    pub fn events(&self, since: u64, limit: usize) -> Result<Vec<Event>> {
        Ok(self.store.events_since(since, limit)?)
    }

    /// The newest outbox id (0 when there is none): where a reader that wants only new
    /// events starts.
    pub fn newest_event_id(&mut self) -> Result<u64> {
        // Appending nothing answers the newest id, without reading any event.
        Ok(self.store.append_events(&[])?)
    }

    /// Writes a `coverage_summary` event with the totals of a coverage report of `scope`
    /// (a pair name, or the components file it was computed from).
    pub fn record_coverage(&mut self, scope: &str, totals: &twinsync_core::coverage::CoverageTotals) -> Result<u64> {
        let event = Event::coverage_summary(self.clock.now(), scope, "", totals);
        Ok(self.store.append_events(&[event])?)
    }

    // ---- the project lock ---------------------------------------------------------

    fn locks(&mut self) -> LockManager<'_> {
        LockManager::new(self.store.as_mut(), self.clock.as_ref())
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

/// Refuses a pair whose folder sides are missing: a missing root is never synced.
fn check_sides_exist(dir: &Path, pair: &PairConfig) -> Result<()> {
    let folders: Vec<&str> = match pair.kind {
        PairKind::Folders => vec![pair.left.as_str(), pair.right.as_str()],
        PairKind::Openspec => vec![pair.left.as_str()],
        PairKind::Design => vec![],
    };
    for spec in folders {
        if let Some(p) = Config::replica_path(dir, spec) {
            if !p.is_dir() {
                return Err(Error::Config {
                    path: p.clone(),
                    message: "not a folder; create it first (a missing root is never synced)".into(),
                });
            }
        }
    }
    Ok(())
}

/// A project id for a shared store: the folder's name and a short digest of its path.
pub(crate) fn derive_project_id(dir: &Path) -> String {
    let abs = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let name: String = abs
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("project")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let digest = twinsync_core::Digest::of_bytes(abs.to_string_lossy().as_bytes()).to_hex();
    format!("{name}-{}", &digest[..8])
}
