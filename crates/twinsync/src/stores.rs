//! The project's store, chosen by URL: `sqlite:PATH` (the embedded default) or
//! `postgres://...` (the team store). Faces get it as `dyn Store`, so they never name the
//! crate that implements it. A URL never shows its password: [`StoreUrl`]'s `Debug` and
//! `Display` redact it, and so does every error that names the store.

use std::fmt;
use std::path::{Path, PathBuf};

use twinsync_core::lock::{Lock, LockManager};
use twinsync_core::replica::ReplicaError;
use twinsync_core::{HashRules, Store, StoreError, SystemClock};
use twinsync_postgres::{PgReplica, PgStore};
use twinsync_sqlite::{SqliteReplica, SqliteStore};

use crate::config::{self, Config};
use crate::error::Error;
use crate::replicas::AnyReplica;
use crate::{Result, PROJECT_LOCK};

/// The environment variable that names the store, winning over the config.
pub const STORE_URL_ENV: &str = "TWINSYNC_STORE_URL";

/// The default store of a project: the SQLite file `.twinsync/state.db`.
pub const DEFAULT_STORE_URL: &str = "sqlite:.twinsync/state.db";

/// Where a project's state lives.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite file (relative paths are resolved against the project folder).
    Sqlite(PathBuf),
    /// A PostgreSQL server; the URL as given (its password is never shown).
    Postgres(String),
}

impl StoreUrl {
    /// Parses `url`, resolving a relative SQLite path against `project`.
    pub fn parse(url: &str, project: &Path) -> Result<StoreUrl> {
        let bad = |m: String| Error::Store { url: redact(url), message: m };
        if let Some(rest) = url.strip_prefix("sqlite:") {
            // `sqlite:///abs/path` and `sqlite://rel` are accepted as well as `sqlite:path`.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(bad("no file after `sqlite:`".into()));
            }
            let path = Path::new(path);
            return Ok(StoreUrl::Sqlite(if path.is_absolute() { path.to_path_buf() } else { project.join(path) }));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url.to_string()));
        }
        Err(bad("expected `sqlite:PATH` or `postgres://user@host:port/db`".into()))
    }

    /// The URL a project uses: `TWINSYNC_STORE_URL`, else `[store] url`, else the default.
    pub fn for_project(dir: &Path, config: &Config) -> Result<StoreUrl> {
        let from_env = std::env::var(STORE_URL_ENV).ok().filter(|s| !s.trim().is_empty());
        let url = from_env.or_else(|| config.store.url.clone()).unwrap_or_else(|| DEFAULT_STORE_URL.to_string());
        StoreUrl::parse(url.trim(), dir)
    }

    /// The SQLite file, for a `sqlite:` store.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            StoreUrl::Sqlite(p) => Some(p),
            StoreUrl::Postgres(_) => None,
        }
    }

    /// Opens the store. `project` (`[store] project`) keeps this project apart from the
    /// others in a shared PostgreSQL database and is required there; an SQLite file holds
    /// one project and ignores it.
    pub fn open(&self, project: Option<&str>) -> Result<Box<dyn Store>> {
        match self {
            StoreUrl::Sqlite(path) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                }
                Ok(Box::new(SqliteStore::open(path)?))
            }
            StoreUrl::Postgres(url) => {
                let project = self.project_id(project)?;
                let store = PgStore::open(url, project).map_err(|e| {
                    let (StoreError::Backend(m) | StoreError::Corrupt(m) | StoreError::NotFound(m)) = e;
                    Error::Store { url: redact(url), message: without_location(m) }
                })?;
                Ok(Box::new(store))
            }
        }
    }

    /// Opens the database side (`db`) named `name` of project `project`: the documents
    /// table of the same database as the store.
    pub(crate) fn open_db_side(&self, project: Option<&str>, name: &str, rules: HashRules) -> Result<AnyReplica> {
        match self {
            StoreUrl::Sqlite(path) => Ok(AnyReplica::Db(SqliteReplica::open(path, name, rules)?)),
            StoreUrl::Postgres(url) => {
                let project = self.project_id(project)?;
                PgReplica::open(url, project, name, rules).map(AnyReplica::Pg).map_err(|e| match e {
                    ReplicaError::Unavailable { reason, .. } => {
                        Error::Store { url: redact(url), message: without_location(reason) }
                    }
                    other => other.into(),
                })
            }
        }
    }

    fn project_id<'a>(&self, project: Option<&'a str>) -> Result<&'a str> {
        project.filter(|p| !p.trim().is_empty()).ok_or_else(|| Error::Store {
            url: self.to_string(),
            message: "a PostgreSQL store is shared by projects and needs this one's id: set `project = \"...\"` \
                      under `[store]` in .twinsync/config.toml (the same id in every folder that shares the state)"
                .into(),
        })
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            StoreUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

/// A PostgreSQL error message without the `postgres://user@host:port/db: ` it starts
/// with (the facade's error names the store already).
fn without_location(message: String) -> String {
    match message.split_once(": ") {
        Some((head, rest)) if head.starts_with("postgres://") => rest.to_string(),
        _ => message,
    }
}

/// `url` with the password of its user-info part replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Opens the store in file `path`, creating it (not its folder) when missing: the history,
/// bases and undo of a sync that runs outside the project's pairs (`twinsync design sync`).
pub fn open_store_file(path: &Path) -> Result<Box<dyn Store>> {
    Ok(Box::new(SqliteStore::open(path)?))
}

/// The live project lock of the project in folder `root` (the folder holding
/// `.twinsync/`), read from its store alone: no replica is opened, so a hook that runs
/// before every write stays fast. `None` when nobody holds it.
pub fn read_project_lock(root: &Path) -> Result<Option<Lock>> {
    let config = Config::load(&root.join(config::DIR).join(config::CONFIG_FILE))?;
    let mut store = StoreUrl::for_project(root, &config)?.open(config.store.project.as_deref())?;
    Ok(LockManager::new(store.as_mut(), &SystemClock).status(PROJECT_LOCK)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let url = "postgres://ann:s3cr%40t@db.example:5432/twinsync?sslmode=require";
        assert_eq!(redact(url), "postgres://ann:***@db.example:5432/twinsync?sslmode=require");
        let parsed = StoreUrl::parse(url, Path::new("/p")).unwrap();
        for shown in [parsed.to_string(), format!("{parsed:?}")] {
            assert!(!shown.contains("s3cr"), "{shown}");
        }
        let e = parsed.open(Some("p")).err().unwrap().to_string();
        assert!(!e.contains("s3cr") && e.contains("ann:***@db.example"), "{e}");
        let e = parsed.open(None).err().unwrap().to_string();
        assert!(!e.contains("s3cr") && e.contains("[store]"), "{e}");
        assert_eq!(redact("postgres://ann@host/db"), "postgres://ann@host/db");
        let e = StoreUrl::parse("mysql://ann:pw@host/db", Path::new("/p")).unwrap_err().to_string();
        assert!(!e.contains("pw@") && e.contains("sqlite:PATH"), "{e}");
    }

    #[test]
    fn sqlite_paths_resolve_against_the_project() {
        let p = Path::new("/work/proj");
        assert_eq!(
            StoreUrl::parse("sqlite:.twinsync/state.db", p).unwrap().sqlite_path(),
            Some(Path::new("/work/proj/.twinsync/state.db"))
        );
        assert_eq!(StoreUrl::parse("sqlite:///var/ts.db", p).unwrap().sqlite_path(), Some(Path::new("/var/ts.db")));
        assert!(StoreUrl::parse("sqlite:", p).is_err());
    }
}
