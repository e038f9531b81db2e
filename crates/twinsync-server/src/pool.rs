//! Open projects kept between requests. Opening a project (reading its config, opening
//! its store, checking the schema) costs far more than what most routes then do (a
//! hook's key check and lock read are two indexed reads): about 45 times more, measured
//! on a debug build. So a finished call hands its project back, and the next call on the
//! same folder takes it instead of opening another.
//!
//! A kept project is reused only while its `.twinsync/config.toml` is the one it read
//! (same length, modification time and inode): a pair added by the CLI, or a project
//! initialised again, is seen at the next request. Everything else a call reads (locks,
//! keys, history, the sides) comes from the store and the folders at the time of the
//! call, as for a long-running `twinsync watch` or `twinsync mcp`. The actor is set by
//! each call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use twinsync::Project;

/// At most this many idle projects per folder: as many as a burst of hook calls has in
/// flight at once on one project. Fewer, and a burst keeps reopening projects: with 8,
/// 50 concurrent `GET /hook/status` clients saw a p99 of 13-18 ms, against 3 ms with 64
/// (`benches/README.md`). The price is a store connection per project kept after the
/// largest burst (mind PostgreSQL's `max_connections` with many busy projects).
const IDLE_PER_PROJECT: usize = 64;

/// What identifies the config a project was opened with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

fn stamp(dir: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(dir.join(twinsync::config::DIR).join(twinsync::config::CONFIG_FILE)).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp { len: meta.len(), modified: meta.modified().ok(), inode })
}

/// A project taken from the pool, to be handed back with [`Pool::give`].
pub(crate) struct Taken {
    pub(crate) project: Project,
    dir: PathBuf,
    stamp: Option<Stamp>,
}

/// An idle project and the config it was opened with.
type Idle = (Option<Stamp>, Project);

/// Idle projects by folder.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<PathBuf, Vec<Idle>>>,
}

impl Pool {
    /// An idle project of `dir` opened with its current config, else a newly opened one.
    pub(crate) fn take(&self, dir: &Path) -> twinsync::Result<Taken> {
        let now = stamp(dir);
        let reused = {
            let mut idle = self.idle.lock().expect("pool");
            let kept = idle.entry(dir.to_path_buf()).or_default();
            // A config that changed makes every idle project of the folder stale.
            kept.retain(|(s, _)| *s == now && now.is_some());
            kept.pop().map(|(_, p)| p)
        };
        let project = match reused {
            Some(p) => p,
            None => Project::open(dir)?,
        };
        Ok(Taken { project, dir: dir.to_path_buf(), stamp: now })
    }

    /// Hands `taken` back for the next call, unless enough are idle already.
    pub(crate) fn give(&self, taken: Taken) {
        let mut idle = self.idle.lock().expect("pool");
        let kept = idle.entry(taken.dir).or_default();
        if kept.len() < IDLE_PER_PROJECT {
            kept.push((taken.stamp, taken.project));
        }
    }

    /// Drops the idle projects of `dir` (it was unregistered).
    pub(crate) fn forget(&self, dir: &Path) {
        self.idle.lock().expect("pool").remove(dir);
    }
}
