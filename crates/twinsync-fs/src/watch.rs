//! The watcher: raw filesystem events (through `notify`) turned into debounced batches
//! of changed keys, plus a periodic full-rescan tick and a rescan request whenever
//! events may have been lost.
//!
//! Reporting a key that did not change costs a cheap stat-cache rescan; missing one
//! loses a sync. So the watcher errs on the side of reporting: a changed directory is
//! reported as its own key (rescan beneath it), and only `.twinsyncignore`,
//! `.gitignore` and `.ignore` at the root, plus the configured globs, are honoured here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::event::ModifyKind;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use twinsync_core::Key;

use crate::error::FsError;
use crate::paths::is_reserved_rel;
use crate::walk::IGNORE_FILE;

/// How a watcher batches and ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// Quiet time after the last event before a batch is sent.
    pub debounce: Duration,
    /// Longest a batch waits while events keep arriving.
    pub max_delay: Duration,
    /// Interval of [`WatchEvent::Rescan`] ticks (`None`: never).
    pub rescan_every: Option<Duration>,
    /// Extra gitignore-style globs to ignore (as in [`FsOptions::ignore`](crate::FsOptions::ignore)).
    pub ignore: Vec<String>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            rescan_every: Some(Duration::from_secs(30)),
            ignore: Vec::new(),
        }
    }
}

/// What a watcher reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// These keys (files, or directories to rescan beneath) changed, sorted and unique.
    Changed(Vec<Key>),
    /// Scan everything: the periodic tick, or events may have been lost.
    Rescan {
        /// Why (`periodic`, an overflow, a watcher error).
        reason: String,
    },
}

/// A running watch on one root; dropping it stops watching and ends its thread.
#[derive(Debug)]
pub struct Watcher {
    inner: Option<RecommendedWatcher>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching `root` recursively; events arrive on the returned receiver.
    pub fn start(root: &Path, opts: WatchOptions) -> Result<(Watcher, Receiver<WatchEvent>), FsError> {
        let werr = |message: String| FsError::Watch { path: root.to_path_buf(), message };
        if !root.is_dir() {
            return Err(werr("not a directory".into()));
        }
        let canon = std::fs::canonicalize(root).map_err(|e| FsError::io(root, e))?;
        let filter = Filter::new(root, canon, &opts.ignore)?;
        let (raw_tx, raw_rx) = mpsc::channel::<notify::Result<notify::Event>>();
        let (tx, rx) = mpsc::channel();
        let mut inner = notify::recommended_watcher(raw_tx).map_err(|e| werr(e.to_string()))?;
        inner.watch(root, RecursiveMode::Recursive).map_err(|e| werr(e.to_string()))?;
        let thread = std::thread::Builder::new()
            .name("twinsync-watch".into())
            .spawn(move || debounce_loop(raw_rx, tx, filter, opts))
            .map_err(|e| werr(e.to_string()))?;
        Ok((Watcher { inner: Some(inner), thread: Some(thread) }, rx))
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // Dropping notify's watcher drops the raw sender, which ends the loop.
        drop(self.inner.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Decides which raw paths become keys.
struct Filter {
    root: PathBuf,
    canon_root: PathBuf,
    globs: Gitignore,
}

impl Filter {
    fn new(root: &Path, canon_root: PathBuf, globs: &[String]) -> Result<Filter, FsError> {
        let mut b = GitignoreBuilder::new(root);
        for name in [IGNORE_FILE, ".gitignore", ".ignore"] {
            let p = root.join(name);
            if p.is_file() {
                // A bad line is skipped here as in the scan; the rest of the file applies.
                let _ = b.add(p);
            }
        }
        for g in globs {
            b.add_line(None, g).map_err(|e| FsError::Glob { glob: g.clone(), message: e.to_string() })?;
        }
        let globs = b.build().map_err(|e| FsError::Glob { glob: globs.join(", "), message: e.to_string() })?;
        Ok(Filter { root: root.to_path_buf(), canon_root, globs })
    }

    fn key(&self, path: &Path, kind: &EventKind) -> Option<Key> {
        let rel = path.strip_prefix(&self.root).or_else(|_| path.strip_prefix(&self.canon_root)).ok()?;
        if rel.as_os_str().is_empty() || is_reserved_rel(rel) {
            return None;
        }
        let is_dir = path.is_dir();
        // A directory's own metadata changes with every child's; the children report
        // themselves. Only a directory appearing, going or moving is news.
        if is_dir
            && !matches!(kind, EventKind::Create(_) | EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)))
        {
            return None;
        }
        if self.globs.matched_path_or_any_parents(rel, is_dir).is_ignore() {
            return None;
        }
        Key::new(rel.to_str()?.replace(std::path::MAIN_SEPARATOR, "/")).ok()
    }
}

fn debounce_loop(
    raw: Receiver<notify::Result<notify::Event>>,
    tx: Sender<WatchEvent>,
    filter: Filter,
    opts: WatchOptions,
) {
    let mut pending: BTreeSet<Key> = BTreeSet::new();
    let mut first_at: Option<Instant> = None;
    let mut last_at = Instant::now();
    let mut next_tick = opts.rescan_every.map(|d| Instant::now() + d);
    loop {
        let now = Instant::now();
        let mut deadline = next_tick;
        if let Some(first) = first_at {
            let flush = (last_at + opts.debounce).min(first + opts.max_delay);
            deadline = Some(deadline.map_or(flush, |d| d.min(flush)));
        }
        let received = match deadline {
            Some(d) => raw.recv_timeout(d.saturating_duration_since(now)),
            None => raw.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let sent = match received {
            Ok(Ok(ev)) => {
                if ev.need_rescan() {
                    tx.send(WatchEvent::Rescan { reason: "the watcher lost events (overflow)".into() })
                } else {
                    let before = pending.len();
                    if !matches!(ev.kind, EventKind::Access(_)) {
                        pending.extend(ev.paths.iter().filter_map(|p| filter.key(p, &ev.kind)));
                    }
                    if pending.len() > before || first_at.is_some() {
                        first_at.get_or_insert_with(Instant::now);
                        last_at = Instant::now();
                    }
                    Ok(())
                }
            }
            Ok(Err(e)) => tx.send(WatchEvent::Rescan { reason: format!("watcher error: {e}") }),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let mut r = Ok(());
                if let Some(first) = first_at {
                    if now >= last_at + opts.debounce || now >= first + opts.max_delay {
                        first_at = None;
                        r = tx.send(WatchEvent::Changed(std::mem::take(&mut pending).into_iter().collect()));
                    }
                }
                if let (Some(t), Some(every)) = (next_tick, opts.rescan_every) {
                    if now >= t && r.is_ok() {
                        next_tick = Some(now + every);
                        r = tx.send(WatchEvent::Rescan { reason: "periodic".into() });
                    }
                }
                r
            }
        };
        if sent.is_err() {
            // Nobody listens any more.
            break;
        }
    }
}
