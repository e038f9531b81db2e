//! `Project::watch`: keeps pairs in sync as they change. A full pass on start; then a
//! sync of a pair as soon as its file watcher reports a change (debounced); a periodic
//! pass for what no watcher sees (database-side edits, missed events); retries with
//! exponential backoff whose schedule lives in the store, so a restart keeps it.
//!
//! Nothing here decides drift or applies anything: each sync is [`Project::sync_pair`],
//! with its lease, the project lock and the events it writes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use twinsync_core::OperationReport;
use twinsync_fs::{WatchEvent, Watcher};

use crate::config::{Config, PairConfig, PairKind};
use crate::error::{Error, Result};
use crate::project::{Project, SyncRequest};

/// Store namespace of the retry schedule, keyed by pair.
const RETRY_NAMESPACE: &str = "watch_retry";
/// How often the loop looks at watchers, the clock and the stop flag.
const TICK: Duration = Duration::from_millis(25);
/// First retry delay; it doubles per failure up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(1);
/// Longest retry delay.
const RETRY_MAX: Duration = Duration::from_secs(300);
/// How soon a sync refused by another owner's lock is tried again.
const LOCKED_RETRY: Duration = Duration::from_secs(2);

/// How a watch runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// The pairs to watch (every pair when empty).
    pub pairs: Vec<String>,
    /// Quiet time after a file event before the pair syncs (default 100 ms).
    pub debounce: Duration,
    /// Interval of the periodic pass (default 30 s).
    pub period: Duration,
    /// A watcher silent this long while the periodic pass finds changes is restarted
    /// (default 5 min).
    pub heartbeat: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            pairs: Vec::new(),
            debounce: Duration::from_millis(100),
            period: Duration::from_secs(30),
            heartbeat: Duration::from_secs(300),
        }
    }
}

/// What a watch tells as it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum WatchNote {
    /// A sync of a pair changed something (or left conflicts or failures).
    Synced {
        /// The pair.
        pair: String,
        /// Why it ran: `start`, `change`, `periodic` or `retry`.
        reason: String,
        /// Its report.
        report: Box<OperationReport>,
    },
    /// A sync could not run; it is retried at `retry_in_ms`.
    Failed {
        /// The pair.
        pair: String,
        /// What went wrong.
        error: String,
        /// When it is tried again, from now.
        retry_in_ms: u64,
    },
    /// Something to know that needs no action (a missing root, a restarted watcher).
    Warning {
        /// The pair.
        pair: String,
        /// What happened.
        message: String,
    },
}

/// What a watch did, when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WatchSummary {
    /// Syncs run.
    pub syncs: u64,
    /// Items applied over all syncs.
    pub applied: u64,
    /// Conflicts left.
    pub conflicts: u64,
    /// Items that failed, and syncs that could not run.
    pub failed: u64,
}

/// A running watch; [`WatchHandle::stop`] ends it after the sync in flight.
pub struct WatchHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<WatchSummary>>>,
}

impl WatchHandle {
    /// The flag that stops the watch when set (for signal handlers).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Stops after the sync in flight and returns what the watch did.
    pub fn stop(mut self) -> Result<WatchSummary> {
        self.stop.store(true, Ordering::SeqCst);
        self.join()
    }

    /// Waits until the watch stops (its stop flag is set) and returns what it did.
    pub fn join(&mut self) -> Result<WatchSummary> {
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            None => Ok(WatchSummary::default()),
        }
    }
}

/// A retry scheduled for a pair, as the store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (milliseconds since the epoch, by the project clock).
    pub due_ms: i64,
}

fn backoff(attempts: u32) -> Duration {
    RETRY_FIRST.saturating_mul(1 << attempts.saturating_sub(1).min(16)).min(RETRY_MAX)
}

/// One folder a pair watches.
struct Root {
    pair: String,
    path: PathBuf,
    watcher: Option<(Watcher, Receiver<WatchEvent>)>,
    restart_at: Instant,
    restarts: u32,
    last_event: Instant,
}

impl Project {
    /// The retry scheduled for pair `name` by a watch, if any.
    pub fn watch_retry(&self, name: &str) -> Result<Option<Retry>> {
        let bytes = self.store_ref().kv_get(RETRY_NAMESPACE, name)?;
        Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    fn set_watch_retry(&mut self, name: &str, retry: Option<Retry>) -> Result<()> {
        match retry {
            Some(r) => {
                let bytes = serde_json::to_vec(&r).expect("a retry serialises");
                self.store().kv_put(RETRY_NAMESPACE, name, &bytes)?;
            }
            None => self.store().kv_delete(RETRY_NAMESPACE, name)?,
        }
        Ok(())
    }

    /// Watches the pairs in `opts` on a thread of its own until the handle stops it;
    /// `notes` hears of every sync that changed something, every failure and warning.
    pub fn watch(mut self, opts: WatchOptions, mut notes: Box<dyn FnMut(&WatchNote) + Send>) -> Result<WatchHandle> {
        let pairs = self.select_pairs(&opts.pairs)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("twinsync-watch".into())
            .spawn(move || self.watch_loop(&pairs, &opts, &flag, notes.as_mut()))
            .map_err(|e| Error::io(std::path::Path::new("(watch thread)"), e))?;
        Ok(WatchHandle { stop, thread: Some(thread) })
    }

    fn watched_roots(&self, pairs: &[String]) -> Vec<Root> {
        let mut roots = Vec::new();
        for name in pairs {
            let Ok(pair) = self.pair(name) else { continue };
            let folders: Vec<String> = match pair.kind {
                PairKind::Folders => vec![pair.left.clone(), pair.right.clone()],
                PairKind::Openspec => vec![pair.left.clone()],
                // A design side is a list of files: watch the folders holding them.
                PairKind::Design => {
                    let mut dirs: Vec<String> = [&pair.left, &pair.right]
                        .into_iter()
                        .flat_map(|side| PairConfig::files(side))
                        .map(|f| {
                            let parent = std::path::Path::new(&f).parent().map(|p| p.to_string_lossy().into_owned());
                            parent.filter(|p| !p.is_empty()).unwrap_or_else(|| ".".into())
                        })
                        .collect();
                    dirs.sort();
                    dirs.dedup();
                    dirs
                }
            };
            for spec in &folders {
                if let Some(path) = Config::replica_path(self.dir(), spec) {
                    roots.push(Root {
                        pair: name.clone(),
                        path,
                        watcher: None,
                        restart_at: Instant::now(),
                        restarts: 0,
                        last_event: Instant::now(),
                    });
                }
            }
        }
        roots
    }

    fn watch_loop(
        &mut self,
        pairs: &[String],
        opts: &WatchOptions,
        stop: &Arc<AtomicBool>,
        notes: &mut dyn FnMut(&WatchNote),
    ) -> Result<WatchSummary> {
        let mut summary = WatchSummary::default();
        let mut roots = self.watched_roots(pairs);
        // Due syncs: pair -> (when, why).
        let mut due: BTreeMap<String, (Instant, &'static str)> = BTreeMap::new();
        // The start pass also runs whatever retry a previous watch left scheduled; its
        // attempt count carries on from the store.
        for p in pairs {
            due.insert(p.clone(), (Instant::now(), "start"));
        }
        let mut next_period = Instant::now() + opts.period;
        // Webhooks go out while the pairs sync, from a worker of their own: a slow
        // endpoint never holds up a sync.
        let (delivery, problems) = self.start_delivery(stop);
        while !stop.load(Ordering::SeqCst) {
            while let Ok(message) = problems.try_recv() {
                notes(&WatchNote::Warning { pair: "notify".into(), message });
            }
            let now = Instant::now();
            for root in roots.iter_mut() {
                self.poll_root(root, opts, now, &mut due, notes);
            }
            if now >= next_period {
                next_period = now + opts.period;
                for p in pairs {
                    due.entry(p.clone()).or_insert((now, "periodic"));
                }
            }
            let ready: Vec<(String, &'static str)> =
                due.iter().filter(|(_, (at, _))| *at <= now).map(|(p, (_, why))| (p.clone(), *why)).collect();
            if ready.is_empty() {
                std::thread::sleep(TICK);
                continue;
            }
            for (pair, why) in ready {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                due.remove(&pair);
                let (retry, applied) = self.watch_sync(&pair, why, &mut summary, notes)?;
                if let Some(next) = retry {
                    due.insert(pair.clone(), (Instant::now() + next, "retry"));
                }
                // The heartbeat: a periodic pass that finds work the watcher never
                // reported means the watcher went deaf; start it again.
                if why == "periodic" && applied > 0 {
                    for root in roots.iter_mut().filter(|r| r.pair == pair) {
                        if root.last_event.elapsed() >= opts.heartbeat && root.watcher.is_some() {
                            root.watcher = None;
                            root.restart_at = Instant::now();
                            notes(&WatchNote::Warning {
                                pair: pair.clone(),
                                message: format!(
                                    "{}: watcher silent while changes were found; restarted",
                                    root.path.display()
                                ),
                            });
                        }
                    }
                }
            }
        }
        if let Some(worker) = delivery {
            // The stop flag is set: the worker finishes its round and ends.
            let _ = worker.join();
        }
        Ok(summary)
    }

    /// Starts the webhook delivery worker when the project has endpoints: a thread with a
    /// project of its own that runs a delivery round every second until `stop`. What goes
    /// wrong in a round comes back on the channel, for the watch to tell.
    fn start_delivery(&self, stop: &Arc<AtomicBool>) -> (Option<JoinHandle<()>>, Receiver<String>) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.notify_endpoints().map_or(true, |e| e.is_empty()) {
            return (None, rx);
        }
        let dir = self.dir().to_path_buf();
        let stop = stop.clone();
        let worker = std::thread::Builder::new().name("twinsync-notify".into()).spawn(move || {
            let mut project = match Project::open(&dir) {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(format!("webhook delivery cannot start: {e}"));
                    return;
                }
            };
            let mut last_error = String::new();
            while !stop.load(Ordering::SeqCst) {
                match project.notify_run_once() {
                    Ok(_) => last_error.clear(),
                    Err(e) => {
                        // Told once until it changes, not every second.
                        let message = format!("webhook delivery: {e}");
                        if message != last_error {
                            let _ = tx.send(message.clone());
                            last_error = message;
                        }
                    }
                }
                for _ in 0..40 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(TICK);
                }
            }
        });
        (worker.ok(), rx)
    }

    /// Starts (or restarts) a root's watcher when due, and turns its events into due syncs.
    fn poll_root(
        &mut self,
        root: &mut Root,
        opts: &WatchOptions,
        now: Instant,
        due: &mut BTreeMap<String, (Instant, &'static str)>,
        notes: &mut dyn FnMut(&WatchNote),
    ) {
        if root.watcher.is_none() {
            if now < root.restart_at {
                return;
            }
            let wopts = twinsync_fs::WatchOptions {
                debounce: opts.debounce,
                rescan_every: None,
                ignore: self.pair(&root.pair).map(|p| p.ignore.clone()).unwrap_or_default(),
                ..Default::default()
            };
            match Watcher::start(&root.path, wopts) {
                Ok(w) => {
                    if root.restarts > 0 {
                        // Events may have been missed while it was down.
                        due.entry(root.pair.clone()).or_insert((now, "change"));
                    }
                    root.watcher = Some(w);
                    root.restarts = 0;
                    root.last_event = now;
                }
                Err(e) => {
                    root.restarts += 1;
                    let wait = backoff(root.restarts).min(Duration::from_secs(30));
                    root.restart_at = now + wait;
                    if root.restarts == 1 {
                        notes(&WatchNote::Warning {
                            pair: root.pair.clone(),
                            message: format!("{e}; watching again every {} s until it is back", wait.as_secs().max(1)),
                        });
                    }
                }
            }
            return;
        }
        let Some((_, rx)) = &root.watcher else { return };
        loop {
            match rx.try_recv() {
                Ok(_) => {
                    root.last_event = now;
                    due.entry(root.pair.clone()).or_insert((now, "change"));
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    // The watcher thread ended (its root vanished, or the OS dropped it).
                    root.watcher = None;
                    root.restarts = 1;
                    root.restart_at = now + backoff(1);
                    notes(&WatchNote::Warning {
                        pair: root.pair.clone(),
                        message: format!("{}: watcher stopped; restarting", root.path.display()),
                    });
                    break;
                }
            }
        }
        if !root.path.is_dir() {
            root.watcher = None;
            root.restarts = 1;
            root.restart_at = now + backoff(1);
        }
    }

    /// Syncs one pair for the watch; returns when to retry, if it must be.
    fn watch_sync(
        &mut self,
        pair: &str,
        why: &'static str,
        summary: &mut WatchSummary,
        notes: &mut dyn FnMut(&WatchNote),
    ) -> Result<(Option<Duration>, u64)> {
        let req = SyncRequest { trigger: trigger_of(why), ..Default::default() };
        let outcome = self.sync_pair(pair, &req);
        let previous = self.watch_retry(pair)?;
        let mut applied = 0;
        let retry_after = match outcome {
            Ok(report) => {
                applied = report.counts.applied as u64;
                summary.syncs += 1;
                summary.applied += report.counts.applied as u64;
                summary.conflicts += report.counts.conflicts as u64;
                summary.failed += report.counts.failed as u64;
                let failed = report.counts.failed > 0;
                if report.counts.planned > 0 || failed {
                    notes(&WatchNote::Synced {
                        pair: pair.to_string(),
                        reason: why.to_string(),
                        report: Box::new(report),
                    });
                }
                failed.then(|| backoff(previous.map_or(1, |r| r.attempts + 1)))
            }
            Err(e) => {
                summary.failed += 1;
                let wait = match e {
                    Error::Locked { .. } | Error::Busy { .. } => LOCKED_RETRY,
                    _ => backoff(previous.map_or(1, |r| r.attempts + 1)),
                };
                notes(&WatchNote::Failed {
                    pair: pair.to_string(),
                    error: e.to_string(),
                    retry_in_ms: wait.as_millis() as u64,
                });
                Some(wait)
            }
        };
        let retry = retry_after.map(|wait| Retry {
            attempts: previous.map_or(1, |r| r.attempts + 1),
            due_ms: self.now().millis() + wait.as_millis() as i64,
        });
        if retry.is_some() || previous.is_some() {
            self.set_watch_retry(pair, retry)?;
        }
        Ok((retry_after, applied))
    }
}

fn trigger_of(why: &str) -> twinsync_core::Trigger {
    match why {
        "change" => twinsync_core::Trigger::FileWatcher,
        "periodic" | "retry" | "start" => twinsync_core::Trigger::Periodic,
        _ => twinsync_core::Trigger::Manual,
    }
}
