//! `.twinsync/config.toml`: what a project syncs and how.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use twinsync_core::canonical::{BigIntPolicy, CanonicalOptions, IgnoreRules, TextOptions};
use twinsync_core::{Direction, HashRules, Policy, UndoLimits};

use crate::error::Error;

/// The folder that marks a project, as `.git` marks a repository.
pub const DIR: &str = ".twinsync";
/// The config file inside [`DIR`].
pub const CONFIG_FILE: &str = "config.toml";
/// The embedded store inside [`DIR`].
pub const STATE_DB: &str = "state.db";
/// The replica spelling that means "the project's database".
pub const DB: &str = "db";

/// The whole config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version (1).
    #[serde(default = "one")]
    pub version: u32,
    /// The pair of replicas.
    pub pair: PairConfig,
    /// How content is digested.
    #[serde(default)]
    pub hashing: HashingConfig,
    /// The undo window.
    #[serde(default)]
    pub undo: UndoConfig,
    /// Locks and the agent guard.
    #[serde(default)]
    pub guard: GuardConfig,
}

fn one() -> u32 {
    1
}

/// The pair of replicas a project keeps in sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairConfig {
    /// Name of the pair (keys its base in the store).
    #[serde(default = "default_name")]
    pub name: String,
    /// Left replica: a folder (relative to the project folder) or `db`.
    pub left: String,
    /// Right replica: a folder (relative to the project folder) or `db`.
    pub right: String,
    /// Default direction: `both`, `left-to-right`, `right-to-left`.
    #[serde(default = "default_direction", with = "as_string")]
    pub direction: Direction,
    /// Conflict policy: `manual`, `prefer-left`, `prefer-right`, `newest-wins`, `merge[:side]`.
    #[serde(default, with = "as_string")]
    pub policy: Policy,
    /// Extra gitignore-style globs skipped on folder replicas.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// `skip` (default), `follow-within-root`, or `links` (synced as links, never followed).
    #[serde(default = "default_symlinks")]
    pub symlinks: String,
}

fn default_name() -> String {
    "default".into()
}
fn default_direction() -> Direction {
    Direction::Both
}
fn default_symlinks() -> String {
    "skip".into()
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
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig { protect: vec![], offline: "allow".into(), lock_ttl_minutes: 30 }
    }
}

impl Config {
    /// A config for a new pair.
    pub fn new(left: &str, right: &str) -> Self {
        Config {
            version: 1,
            pair: PairConfig {
                name: default_name(),
                left: left.into(),
                right: right.into(),
                direction: Direction::Both,
                policy: Policy::default(),
                ignore: vec![],
                symlinks: default_symlinks(),
            },
            hashing: HashingConfig::default(),
            undo: UndoConfig::default(),
            guard: GuardConfig::default(),
        }
    }

    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: Config =
            toml::from_str(&text).map_err(|e| Error::Config { path: path.to_path_buf(), message: e.to_string() })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), Error> {
        let bad = |message: String| Error::Config { path: path.to_path_buf(), message };
        if self.version != 1 {
            return Err(bad(format!("unsupported version {}; this twinsync reads version 1", self.version)));
        }
        if self.pair.left == DB && self.pair.right == DB {
            return Err(bad("left and right cannot both be the database".into()));
        }
        if !matches!(self.pair.symlinks.as_str(), "skip" | "follow-within-root" | "links") {
            return Err(bad(format!(
                "symlinks = {:?}; expected \"skip\", \"follow-within-root\" or \"links\"",
                self.pair.symlinks
            )));
        }
        if !matches!(self.guard.offline.as_str(), "allow" | "block") {
            return Err(bad(format!("guard.offline = {:?}; expected \"allow\" or \"block\"", self.guard.offline)));
        }
        IgnoreRules::new(&self.hashing.json_ignore).map_err(|e| bad(format!("hashing.json_ignore: {e}")))?;
        Ok(())
    }

    /// Writes the config to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text =
            toml::to_string_pretty(self).map_err(|e| Error::Config { path: path.into(), message: e.to_string() })?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// The digest rules both replicas use.
    pub fn hash_rules(&self) -> HashRules {
        HashRules {
            json: CanonicalOptions {
                big_integers: self.hashing.big_integers,
                ignore: IgnoreRules::new(&self.hashing.json_ignore).unwrap_or_default(),
                ..CanonicalOptions::default()
            },
            text: TextOptions { trim_trailing_whitespace: self.hashing.trim_trailing_whitespace },
        }
    }

    /// The undo limits.
    pub fn undo_limits(&self) -> UndoLimits {
        UndoLimits {
            max_operations: self.undo.max_operations,
            max_age_ms: i64::from(self.undo.max_age_hours) * 3_600_000,
        }
    }

    /// Where a replica spelled `spec` lives, resolved against the project folder.
    pub fn replica_path(project: &Path, spec: &str) -> Option<PathBuf> {
        (spec != DB).then(|| project.join(spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_typos_with_the_file_named() {
        let dir = std::env::temp_dir().join(format!("twinsync-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        let mut c = Config::new("design", "db");
        c.pair.policy = "prefer-left".parse().unwrap();
        c.hashing.json_ignore = vec!["/updatedAt".into()];
        c.save(&path).unwrap();
        assert_eq!(Config::load(&path).unwrap(), c);
        std::fs::write(&path, "[pair]\nleft = \"a\"\nright = \"b\"\npolicy = \"yolo\"\n").unwrap();
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(e.contains("config.toml") && e.contains("yolo"), "{e}");
        std::fs::write(&path, "[pair]\nleft = \"a\"\nrigth = \"b\"\n").unwrap();
        assert!(Config::load(&path).unwrap_err().to_string().contains("rigth"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
