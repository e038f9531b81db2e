//! `.twinsync/config.toml`: what a project syncs and how.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use twinsync_core::canonical::{BigIntPolicy, CanonicalOptions, IgnoreRules, TextOptions};
use twinsync_core::{Compare, Direction, HashRules, Policy, UndoLimits};

use crate::error::Error;

/// The folder that marks a project, as `.git` marks a repository.
pub const DIR: &str = ".twinsync";
/// The config file inside [`DIR`].
pub const CONFIG_FILE: &str = "config.toml";
/// The embedded store inside [`DIR`].
pub const STATE_DB: &str = "state.db";
/// The replica spelling that means "the project's database".
pub const DB: &str = "db";
/// The prefix of `db:NAME`: the database's documents set NAME (plain `db` names the
/// set after the pair). Folders of several projects that share one PostgreSQL store
/// and project id each have their own pair (and so their own base) over one set.
pub const DB_PREFIX: &str = "db:";

/// The whole config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version (1).
    #[serde(default = "one")]
    pub version: u32,
    /// Where the project's state lives.
    #[serde(default)]
    pub store: StoreConfig,
    /// The named pairs, by name.
    #[serde(default)]
    pub pairs: BTreeMap<String, PairConfig>,
    /// A project written before named pairs: its one pair, read into `pairs` on load.
    #[serde(default, skip_serializing)]
    pair: Option<LegacyPair>,
    /// How content is digested (a pair's own `hashing` table wins).
    #[serde(default)]
    pub hashing: HashingConfig,
    /// The undo window.
    #[serde(default)]
    pub undo: UndoConfig,
    /// Locks and the agent guard.
    #[serde(default)]
    pub guard: GuardConfig,
    /// The event outbox.
    #[serde(default)]
    pub events: EventsConfig,
    /// Where events go: webhooks.
    #[serde(default, skip_serializing_if = "NotifyConfig::is_empty")]
    pub notify: NotifyConfig,
    /// Credential reminders.
    #[serde(default, skip_serializing_if = "CredentialsConfig::is_default")]
    pub credentials: CredentialsConfig,
    /// Coverage history.
    #[serde(default, skip_serializing_if = "CoverageConfig::is_default")]
    pub coverage: CoverageConfig,
    /// How commits to git sides are made.
    #[serde(default, skip_serializing_if = "GitConfig::is_empty")]
    pub git: GitConfig,
}

/// `[coverage]`: how long coverage history is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoverageConfig {
    /// Days a coverage row is kept (default 30); each component's newest always stays.
    pub retention_days: u32,
}

impl CoverageConfig {
    fn is_default(&self) -> bool {
        *self == CoverageConfig::default()
    }
}

impl Default for CoverageConfig {
    fn default() -> Self {
        CoverageConfig { retention_days: 30 }
    }
}

/// `[credentials]`: when rotation reminders fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialsConfig {
    /// Days before a credential's rotation date that a `credential_status` reminder fires
    /// (default 14).
    pub remind_days: u32,
}

impl CredentialsConfig {
    fn is_default(&self) -> bool {
        *self == CredentialsConfig::default()
    }
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        CredentialsConfig { remind_days: 14 }
    }
}

/// `[git]`: how commits to git sides are made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitConfig {
    /// The email of commit authors (the actor is the name); default: `user.email` of
    /// the user's git config, else `twinsync@localhost`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_email: Option<String>,
}

impl GitConfig {
    fn is_empty(&self) -> bool {
        self.author_email.is_none()
    }
}

/// Where events go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// `[[notify.webhooks]]`: endpoints that receive events as they happen.
    pub webhooks: Vec<WebhookConfig>,
    /// When the daily digest goes out, `HH:MM` (default `09:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest_at: Option<String>,
    /// The IANA zone of `digest_at` (default `UTC`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl NotifyConfig {
    fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.digest_at.is_none() && self.timezone.is_none()
    }

    /// The digest schedule, `digest_at` in `timezone`.
    pub fn digest_schedule(&self) -> Result<twinsync_notify::DigestSchedule, String> {
        twinsync_notify::DigestSchedule::parse(
            self.digest_at.as_deref().unwrap_or("09:00"),
            self.timezone.as_deref().unwrap_or("UTC"),
        )
        .map_err(|e| format!("notify.{e}"))
    }
}

/// One `[[notify.webhooks]]` endpoint. Its secret is never in the config in clear: it
/// comes from an environment variable or a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// A name for commands and delivery records.
    pub name: String,
    /// Where messages are POSTed.
    pub url: String,
    /// The environment variable holding the `whsec_` secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// A file holding the `whsec_` secret (relative to the project folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<String>,
    /// The event types sent (`sync_completed`, `conflict_detected`, `lock:acquired`, ...).
    pub categories: Vec<String>,
    /// The event types sent once a day in one digest instead of one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<String>,
    /// `standard` (Standard Webhooks body) or `slack`.
    #[serde(default)]
    pub format: twinsync_notify::Format,
    /// Seconds one attempt may take (default 10).
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    10
}

/// Where the project's state lives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite:PATH` (relative to the project folder; the default is
    /// `sqlite:.twinsync/state.db`) or `postgres://user@host:port/db`.
    /// `TWINSYNC_STORE_URL` wins over it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Keeps this project apart from others sharing one database (set at init).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// The event outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Days an event is kept (default 30).
    pub retention_days: u32,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig { retention_days: 30 }
    }
}

/// What a pair keeps in step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PairKind {
    /// Two folders, or a folder and the database's documents table.
    #[default]
    Folders,
    /// An `openspec/` folder and the OpenSpec tables of the database.
    Openspec,
    /// Components in code (components files, a Storybook index) and in design files.
    Design,
}

impl PairKind {
    /// The name used in config files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            PairKind::Folders => "folders",
            PairKind::Openspec => "openspec",
            PairKind::Design => "design",
        }
    }
}

impl std::str::FromStr for PairKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "folders" => Ok(PairKind::Folders),
            "openspec" => Ok(PairKind::Openspec),
            "design" => Ok(PairKind::Design),
            other => Err(format!("unknown pair kind {other:?}; expected folders, openspec or design")),
        }
    }
}

impl std::fmt::Display for PairKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One named pair of sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairConfig {
    /// What the sides hold.
    #[serde(default)]
    pub kind: PairKind,
    /// Left side. `folders`: a folder (relative to the project folder), `db` (the
    /// database's documents, as a set named after the pair) or `db:NAME` (the set NAME);
    /// `openspec`: the folder holding `openspec/`; `design`: code files, comma-separated
    /// (components files, a Storybook `index.json`, a components manifest).
    pub left: String,
    /// Right side. `folders`: a folder or `db`; `openspec`: `db`; `design`: design
    /// files, comma-separated (a Figma export, tokens, `components.json`).
    pub right: String,
    /// Default direction: `both`, `left-to-right`, `right-to-left`.
    #[serde(default = "default_direction", with = "as_string")]
    pub direction: Direction,
    /// Conflict policy: `manual`, `prefer-left`, `prefer-right`, `newest-wins`, `merge[:side]`.
    #[serde(default, with = "as_string")]
    pub policy: Policy,
    /// Extra gitignore-style globs skipped on folder sides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// `skip` (default), `follow-within-root`, or `links` (synced as links, never followed).
    #[serde(default = "default_symlinks")]
    pub symlinks: String,
    /// What counts as a change: `canonical` (the default: formatting never does) or
    /// `bytes` (any byte does).
    #[serde(default, skip_serializing_if = "is_canonical", with = "as_string")]
    pub compare: Compare,
    /// This pair's hashing, instead of the project's `[hashing]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashing: Option<HashingConfig>,
    /// The name of the credential (a token) for a git left side; never the token itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_credential: Option<String>,
    /// The name of the credential for a git right side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_credential: Option<String>,
    /// The host a folder left side belongs to (set by `init` and `pair add`); a process
    /// on another host refuses to run the pair. Unset: the side runs on any host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_host: Option<String>,
    /// The host a folder right side belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_host: Option<String>,
}

/// The single `[pair]` table of a project written before named pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegacyPair {
    #[serde(default = "default_name")]
    name: String,
    left: String,
    right: String,
    #[serde(default = "default_direction", with = "as_string")]
    direction: Direction,
    #[serde(default, with = "as_string")]
    policy: Policy,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default = "default_symlinks")]
    symlinks: String,
}

fn one() -> u32 {
    1
}

/// The name of the pair `init` makes, and of a `[pair]` without a name.
pub const DEFAULT_PAIR: &str = "default";

fn default_name() -> String {
    DEFAULT_PAIR.into()
}
fn default_direction() -> Direction {
    Direction::Both
}
fn default_symlinks() -> String {
    "skip".into()
}
fn is_canonical(c: &Compare) -> bool {
    *c == Compare::Canonical
}

mod as_string {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
    pub fn deserialize<'de, T: FromStr<Err = E>, E: Display, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// How content is digested: formatting-only differences are never drift.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HashingConfig {
    /// JSON Pointer patterns of volatile fields (`/updatedAt`, `/**/id`).
    pub json_ignore: Vec<String>,
    /// Strip trailing blanks of text lines before hashing.
    pub trim_trailing_whitespace: bool,
    /// Integers beyond 2^53: `error` or `keep_as_string`.
    pub big_integers: BigIntPolicy,
    /// Files larger than this many MiB (default 8) are opaque bytes: streamed, never
    /// parsed, so formatting counts as a change in them (see `HashRules::bytes_above`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub large_file_mb: Option<u64>,
}

/// The undo window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UndoConfig {
    /// Most operations kept undoable.
    pub max_operations: usize,
    /// Hours an operation stays undoable.
    pub max_age_hours: u32,
}

impl Default for UndoConfig {
    fn default() -> Self {
        UndoConfig { max_operations: 50, max_age_hours: 24 }
    }
}

/// What the agent guard protects and how it behaves offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Globs of paths agents may not write (`docs/**`).
    pub protect: Vec<String>,
    /// When the store cannot be reached: `allow` (with a warning) or `block`.
    pub offline: String,
    /// Default lock lifetime in minutes.
    pub lock_ttl_minutes: u32,
    /// A `twinsync serve` server to ask for the lock instead of the store
    /// (`http://host:7878`), with the API key in `TWINSYNC_API_KEY` (never in this file,
    /// which gets committed). Unreachable, its last answer (cached in `.twinsync/`) is
    /// used, else `offline` decides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The project's id on that server (`GET /projects` lists them); required with `server`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_project: Option<String>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            protect: vec![],
            offline: "allow".into(),
            lock_ttl_minutes: 30,
            server: None,
            server_project: None,
        }
    }
}

impl PairConfig {
    /// A pair of `kind` between `left` and `right` with default options.
    pub fn new(kind: PairKind, left: &str, right: &str) -> Self {
        PairConfig {
            kind,
            left: left.into(),
            right: right.into(),
            direction: Direction::Both,
            policy: Policy::default(),
            ignore: vec![],
            symlinks: default_symlinks(),
            compare: Compare::Canonical,
            hashing: None,
            left_credential: None,
            right_credential: None,
            left_host: None,
            right_host: None,
        }
    }

    /// The sides that are folders of this machine, as (`left`|`right`, side): a
    /// `folders` pair's folder sides and an `openspec` pair's folder.
    pub fn folder_sides(&self) -> Vec<(&'static str, &str)> {
        let local = |spec: &str| Config::db_side(spec).is_none() && !Config::git_side(spec);
        match self.kind {
            PairKind::Folders => [("left", self.left.as_str()), ("right", self.right.as_str())]
                .into_iter()
                .filter(|(_, spec)| local(spec))
                .collect(),
            PairKind::Openspec => vec![("left", self.left.as_str())],
            PairKind::Design => vec![],
        }
    }

    /// Records `host` as the host of each folder side that has none.
    pub fn bind_hosts(&mut self, host: &str) {
        let sides: Vec<&'static str> = self.folder_sides().into_iter().map(|(side, _)| side).collect();
        for side in sides {
            let slot = if side == "left" { &mut self.left_host } else { &mut self.right_host };
            slot.get_or_insert_with(|| host.to_string());
        }
    }

    /// The first folder side bound to another host than `host`: (side, its spec, its host).
    pub fn foreign_side(&self, host: &str) -> Option<(&'static str, &str, &str)> {
        self.folder_sides().into_iter().find_map(|(side, spec)| {
            let bound = if side == "left" { &self.left_host } else { &self.right_host };
            bound.as_deref().filter(|b| !b.eq_ignore_ascii_case(host)).map(|b| (side, spec, b))
        })
    }

    /// The symlink mode as the folder side reads it.
    pub(crate) fn symlink_mode(&self) -> twinsync_fs::SymlinkMode {
        match self.symlinks.as_str() {
            "follow-within-root" => twinsync_fs::SymlinkMode::FollowWithinRoot,
            "links" => twinsync_fs::SymlinkMode::Links,
            _ => twinsync_fs::SymlinkMode::Skip,
        }
    }

    /// The files of a `design` side, in the order given.
    pub fn files(side: &str) -> Vec<&str> {
        side.split(',').map(str::trim).filter(|s| !s.is_empty()).collect()
    }

    /// Checks the pair named `name` makes sense for its kind.
    pub fn validate(&self, name: &str) -> Result<(), String> {
        check_pair_name(name)?;
        let at = |m: String| format!("pair {name}: {m}");
        match self.kind {
            PairKind::Folders if Config::db_side(&self.left).is_some() && Config::db_side(&self.right).is_some() => {
                return Err(at("left and right cannot both be the database".into()))
            }
            PairKind::Openspec if self.right != DB && crate::openspec_pair::openspec_db_url(&self.right).is_none() => {
                return Err(at(format!(
                    "an openspec pair's right side is `db`, `sqlite:PATH` or `postgres://user@host:port/db`, not {:?}",
                    self.right
                )))
            }
            PairKind::Openspec if self.left == DB => {
                return Err(at("an openspec pair's left side is the folder holding openspec/".into()))
            }
            PairKind::Design
                if PairConfig::files(&self.left).is_empty() || PairConfig::files(&self.right).is_empty() =>
            {
                return Err(at("a design pair names code files on the left and design files on the right".into()))
            }
            _ => {}
        }
        for side in [&self.left, &self.right] {
            if let Some(Some(set)) = Config::db_side(side) {
                check_pair_name(set).map_err(|_| {
                    at(format!("{side:?}: the documents set after `db:` is 1-64 letters, digits, '-', '_' or '.'"))
                })?;
            }
        }
        self.validate_git_sides(name)?;
        if !matches!(self.symlinks.as_str(), "skip" | "follow-within-root" | "links") {
            return Err(at(format!(
                "symlinks = {:?}; expected \"skip\", \"follow-within-root\" or \"links\"",
                self.symlinks
            )));
        }
        if let Some(h) = &self.hashing {
            IgnoreRules::new(&h.json_ignore).map_err(|e| at(format!("hashing.json_ignore: {e}")))?;
        }
        Ok(())
    }
}

impl PairConfig {
    /// Git sides parse (`git+URL#BRANCH[:PATH]`), only a `folders` pair has them, and a
    /// credential is named only for a git side, with a name an environment variable can
    /// carry. Errors name the pair and the side.
    fn validate_git_sides(&self, name: &str) -> Result<(), String> {
        for (side, spec, credential) in
            [("left", &self.left, &self.left_credential), ("right", &self.right, &self.right_credential)]
        {
            let at = |m: String| format!("pair {name}: {side}: {m}");
            if Config::git_side(spec) && self.kind != PairKind::Folders {
                return Err(at(format!("a git side belongs to a folders pair, not {}", self.kind)));
            }
            #[cfg(feature = "git")]
            if Config::git_side(spec) {
                twinsync_git::GitSpec::parse(spec).map_err(|e| at(e.to_string()))?;
            }
            if let Some(c) = credential {
                if !Config::git_side(spec) {
                    return Err(at(format!("{side}_credential is for a git side")));
                }
                if c.is_empty() || !c.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
                    return Err(at(format!("{side}_credential {c:?}: use letters, digits, '.', '-' or '_'")));
                }
            }
        }
        Ok(())
    }
}

/// A pair name: letters, digits, `-`, `_` and `.`, as it appears in the store and on
/// the command line.
pub fn check_pair_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!("pair name {name:?}: use 1-64 letters, digits, '-', '_' or '.'"))
    }
}

impl Config {
    /// A config with one `folders` pair named `default` (what `init LEFT RIGHT` writes).
    pub fn new(left: &str, right: &str) -> Self {
        let mut config = Config::empty();
        config.pairs.insert(DEFAULT_PAIR.to_string(), PairConfig::new(PairKind::Folders, left, right));
        config
    }

    /// A config with no pairs and every default.
    pub fn empty() -> Self {
        Config {
            version: 1,
            store: StoreConfig::default(),
            pairs: BTreeMap::new(),
            pair: None,
            hashing: HashingConfig::default(),
            undo: UndoConfig::default(),
            guard: GuardConfig::default(),
            events: EventsConfig::default(),
            notify: NotifyConfig::default(),
            credentials: CredentialsConfig::default(),
            coverage: CoverageConfig::default(),
            git: GitConfig::default(),
        }
    }

    /// Reads and checks `path`. A `[pair]` table (a project from before named pairs)
    /// becomes the pair it names (`default` unless it says otherwise).
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Config::parse(&text, path)
    }

    /// Parses and checks the text of a config file; `path` names it in errors. The same
    /// reading as [`Config::load`], without the file, so it can be fuzzed.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| Error::Config { path: path.to_path_buf(), message: e.to_string() })?;
        if let Some(old) = config.pair.take() {
            if config.pairs.contains_key(&old.name) {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!("[pair] and [pairs.{}] both define pair {:?}; keep one", old.name, old.name),
                });
            }
            let pair = PairConfig {
                kind: PairKind::Folders,
                left: old.left,
                right: old.right,
                direction: old.direction,
                policy: old.policy,
                ignore: old.ignore,
                symlinks: old.symlinks,
                compare: Compare::Canonical,
                hashing: None,
                left_credential: None,
                right_credential: None,
                left_host: None,
                right_host: None,
            };
            config.pairs.insert(old.name, pair);
        }
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), Error> {
        let bad = |message: String| Error::Config { path: path.to_path_buf(), message };
        if self.version != 1 {
            return Err(bad(format!("unsupported version {}; this twinsync reads version 1", self.version)));
        }
        for (name, pair) in &self.pairs {
            pair.validate(name).map_err(bad)?;
        }
        if !matches!(self.guard.offline.as_str(), "allow" | "block") {
            return Err(bad(format!("guard.offline = {:?}; expected \"allow\" or \"block\"", self.guard.offline)));
        }
        if let Some(url) = &self.guard.server {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(bad(format!("guard.server = {url:?}: must start with https:// (or http://)")));
            }
            if self.guard.server_project.as_deref().is_none_or(|p| p.trim().is_empty()) {
                return Err(bad(format!(
                    "guard.server = {url:?} needs guard.server_project, this project's id on that server \
                     (`GET /projects` lists them)"
                )));
            }
        }
        IgnoreRules::new(&self.hashing.json_ignore).map_err(|e| bad(format!("hashing.json_ignore: {e}")))?;
        let mut names = std::collections::BTreeSet::new();
        for w in &self.notify.webhooks {
            let at = |m: String| bad(format!("webhook {}: {m}", w.name));
            if w.name.is_empty() || !names.insert(&w.name) {
                return Err(at("every webhook needs a name of its own".into()));
            }
            if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
                return Err(at("url must start with https:// (or http:// for a receiver on this machine)".into()));
            }
            if w.secret_env.is_some() == w.secret_file.is_some() {
                return Err(at("give the secret with exactly one of secret_env or secret_file".into()));
            }
            for c in w.categories.iter().chain(&w.digest) {
                c.parse::<twinsync_core::event::EventType>().map_err(|e| at(e.to_string()))?;
            }
            if let Some(both) = w.digest.iter().find(|d| w.categories.contains(d)) {
                return Err(at(format!("{both} is in both categories and digest; list it in one of them")));
            }
        }
        self.notify.digest_schedule().map_err(bad)?;
        Ok(())
    }

    /// Writes the config to `path` atomically (pairs as `[pairs.NAME]` tables).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text = self.to_toml(path)?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// The text [`Config::save`] writes (pairs as `[pairs.NAME]` tables); `path` names the
    /// file in errors.
    pub fn to_toml(&self, path: &Path) -> Result<String, Error> {
        toml::to_string_pretty(self).map_err(|e| Error::Config { path: path.into(), message: e.to_string() })
    }

    /// The digest rules of pair `pair` (its own hashing, else the project's).
    pub fn hash_rules(&self, pair: &PairConfig) -> HashRules {
        let hashing = pair.hashing.as_ref().unwrap_or(&self.hashing);
        HashRules {
            json: CanonicalOptions {
                big_integers: hashing.big_integers,
                ignore: IgnoreRules::new(&hashing.json_ignore).unwrap_or_default(),
                ..CanonicalOptions::default()
            },
            text: TextOptions { trim_trailing_whitespace: hashing.trim_trailing_whitespace },
            compare: pair.compare,
            bytes_above: hashing
                .large_file_mb
                .map_or(twinsync_core::content::DEFAULT_BYTES_ABOVE, |mb| mb.saturating_mul(1 << 20)),
        }
    }

    /// The undo limits.
    pub fn undo_limits(&self) -> UndoLimits {
        UndoLimits {
            max_operations: self.undo.max_operations,
            max_age_ms: i64::from(self.undo.max_age_hours) * 3_600_000,
        }
    }

    /// Where a side spelled `spec` lives, resolved against the project folder (`None`:
    /// not a folder: the database, or a git side).
    pub fn replica_path(project: &Path, spec: &str) -> Option<PathBuf> {
        (Config::db_side(spec).is_none() && !Config::git_side(spec)).then(|| project.join(spec))
    }

    /// Whether `spec` names a folder of a git branch: `git+URL#BRANCH[:PATH]`.
    pub fn git_side(spec: &str) -> bool {
        // Spelled here, not asked of twinsync-git, so a build without git still knows
        // a git side when it sees one and can refuse it by name.
        spec.starts_with("git+")
    }

    /// Whether `spec` names the database: `Some(None)` for `db` (the set named after the
    /// pair), `Some(Some(NAME))` for `db:NAME`, `None` for a folder.
    pub fn db_side(spec: &str) -> Option<Option<&str>> {
        if spec == DB {
            return Some(None);
        }
        spec.strip_prefix(DB_PREFIX).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("twinsync-config-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("config.toml")
    }

    #[test]
    fn round_trips_and_rejects_typos_with_the_file_named() {
        let path = scratch("typos");
        let mut c = Config::new("design", "db");
        c.pairs.get_mut(DEFAULT_PAIR).unwrap().policy = "prefer-left".parse().unwrap();
        c.hashing.json_ignore = vec!["/updatedAt".into()];
        c.pairs.insert("specs".into(), PairConfig::new(PairKind::Openspec, ".", "db"));
        c.save(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), c);
        std::fs::write(&path, "[pairs.a]\nleft = \"a\"\nright = \"b\"\npolicy = \"yolo\"\n").unwrap();
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(e.contains("config.toml") && e.contains("yolo"), "{e}");
        std::fs::write(&path, "[pairs.a]\nleft = \"a\"\nrigth = \"b\"\n").unwrap();
        assert!(Config::load(&path).unwrap_err().to_string().contains("rigth"));
        std::fs::write(&path, "[pairs.s]\nkind = \"openspec\"\nleft = \".\"\nright = \"docs\"\n").unwrap();
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(e.contains("pair s") && e.contains("`db`"), "{e}");
    }

    #[test]
    fn a_single_pair_table_is_read_as_the_pair_it_names() {
        let path = scratch("legacy");
        std::fs::write(&path, "[pair]\nleft = \"design\"\nright = \"db\"\npolicy = \"prefer-right\"\n").unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.pairs.keys().collect::<Vec<_>>(), ["default"]);
        let p = &c.pairs["default"];
        assert_eq!((p.kind, p.left.as_str(), p.right.as_str()), (PairKind::Folders, "design", "db"));
        assert_eq!(p.policy.to_string(), "prefer-right");
        std::fs::write(&path, "[pair]\nname = \"docs\"\nleft = \"a\"\nright = \"b\"\n").unwrap();
        assert_eq!(Config::load(&path).unwrap().pairs.keys().collect::<Vec<_>>(), ["docs"]);
        let saved = scratch("legacy-saved");
        Config::load(&path).unwrap().save(&saved).unwrap();
        let text = std::fs::read_to_string(&saved).unwrap();
        assert!(text.contains("[pairs.docs]") && !text.contains("[pair]"), "{text}");
    }

    #[test]
    fn git_sides_and_their_credentials_round_trip_and_bad_ones_name_the_side() {
        let path = scratch("git");
        let mut c = Config::new("docs", "git+https://example.com/o/r.git#main:docs");
        c.pairs.get_mut(DEFAULT_PAIR).unwrap().right_credential = Some("DOCS".into());
        c.git.author_email = Some("bot@example.com".into());
        c.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("right_credential = \"DOCS\"") && text.contains("[git]"), "{text}");
        assert_eq!(Config::load(&path).unwrap(), c);
        assert_eq!(Config::replica_path(Path::new("/p"), "git+file:///r.git#main"), None, "a git side is no folder");

        let bad = |toml: &str| {
            std::fs::write(&path, toml).unwrap();
            Config::load(&path).unwrap_err().to_string()
        };
        let e = bad("[pairs.a]\nleft = \"docs\"\nright = \"git+https://example.com/r.git\"\n");
        assert!(e.contains("pair a: right") && e.contains("branch"), "{e}");
        let e = bad("[pairs.a]\nleft = \"docs\"\nright = \"db\"\nright_credential = \"X\"\n");
        assert!(e.contains("pair a: right") && e.contains("for a git side"), "{e}");
        let e = bad("[pairs.a]\nleft = \"git+file:///r.git#main\"\nright = \"db\"\nleft_credential = \"a b\"\n");
        assert!(e.contains("pair a: left") && e.contains("letters, digits"), "{e}");
        let e = bad("[pairs.a]\nkind = \"design\"\nleft = \"git+file:///r.git#main\"\nright = \"d.json\"\n");
        assert!(e.contains("folders pair"), "{e}");
    }

    #[test]
    fn pair_names_are_plain() {
        for ok in ["default", "docs", "ui-kit_2", "v1.2"] {
            assert!(check_pair_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "../x", ".hidden", "a/b", &"x".repeat(65)] {
            assert!(check_pair_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn db_sides_name_a_documents_set() {
        assert_eq!(Config::db_side("db"), Some(None));
        assert_eq!(Config::db_side("db:docs"), Some(Some("docs")));
        assert_eq!(Config::db_side("docs"), None);
        assert_eq!(Config::replica_path(Path::new("/p"), "db:docs"), None, "not a folder");
        assert!(PairConfig::new(PairKind::Folders, "docs", "db:docs").validate("a").is_ok());
        for bad in ["db:", "db:../x", "db:a b"] {
            let e = PairConfig::new(PairKind::Folders, "docs", bad).validate("a").unwrap_err();
            assert!(e.contains("after `db:`"), "{bad}: {e}");
        }
        assert!(PairConfig::new(PairKind::Folders, "db", "db:docs").validate("a").is_err(), "both the database");
    }
}
