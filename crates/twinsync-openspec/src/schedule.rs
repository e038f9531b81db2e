//! When syncs run: a full pass on start; active changes and specs at once when the
//! watcher reports them (debounced, through [`twinsync_fs::Watcher`]); archived changes,
//! database-side edits and anything the watcher missed in the periodic full pass
//! (default every 30 s); failed rows retried with exponential backoff, their last
//! error kept on the row. Rows sync one at a time: the database has one writer.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use twinsync_core::Trigger;
use twinsync_fs::{WatchEvent, WatchOptions, Watcher};

use crate::db::Kind;
use crate::sync::{row_of_path, SyncError, SyncReport, Syncer};

/// How the scheduler batches, ticks and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleOptions {
    /// Quiet time after the last file event before the batch syncs.
    pub debounce: Duration,
    /// Interval of the full pass (archived changes, database edits, missed events).
    pub period: Duration,
    /// First retry delay of a failed row; doubled per further failure.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Extra gitignore-style globs the watcher ignores (relative to `openspec/`).
    pub watch_ignore: Vec<String>,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        ScheduleOptions {
            debounce: Duration::from_millis(200),
            period: Duration::from_secs(30),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            watch_ignore: Vec::new(),
        }
    }
}

impl ScheduleOptions {
    /// Delay before retry number `failures` (1 = after the first failure): base, 2x, 4x, … capped.
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.saturating_sub(1).min(20)).unwrap_or(u32::MAX);
        self.retry_base.saturating_mul(factor).min(self.retry_max)
    }
}

/// A row waiting to be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Retry {
    failures: u32,
    due: Instant,
}

/// Runs a [`Syncer`] from a watcher and a timer.
pub struct Scheduler<'a> {
    syncer: Syncer<'a>,
    opts: ScheduleOptions,
    _watcher: Watcher,
    events: Receiver<WatchEvent>,
    next_pass: Instant,
    retries: BTreeMap<(Kind, String), Retry>,
}

impl std::fmt::Debug for Scheduler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").field("syncer", &self.syncer).field("opts", &self.opts).finish_non_exhaustive()
    }
}

impl<'a> Scheduler<'a> {
    /// Starts watching `openspec/` and runs the full pass; returns the scheduler and that pass's report.
    pub fn start(mut syncer: Syncer<'a>, opts: ScheduleOptions) -> Result<(Scheduler<'a>, SyncReport), SyncError> {
        let dir = syncer.root().join("openspec");
        let wopts = WatchOptions {
            debounce: opts.debounce,
            max_delay: opts.debounce.saturating_mul(10).max(Duration::from_secs(1)),
            // The periodic pass is ours: it syncs, not only rescans.
            rescan_every: None,
            ignore: opts.watch_ignore.clone(),
        };
        // Watch first, so an edit made during the first pass is not missed.
        let (watcher, events) =
            Watcher::start(&dir, wopts).map_err(|e| SyncError::Folder { path: dir.clone(), message: e.to_string() })?;
        let report = syncer.sync_all(Trigger::Manual)?;
        let mut s = Scheduler {
            syncer,
            next_pass: Instant::now() + opts.period,
            opts,
            _watcher: watcher,
            events,
            retries: BTreeMap::new(),
        };
        s.note_failures(&report);
        Ok((s, report))
    }

    /// The syncer (its database, configuration).
    pub fn syncer(&mut self) -> &mut Syncer<'a> {
        &mut self.syncer
    }

    /// Rows waiting for a retry, with their failure counts.
    pub fn pending_retries(&self) -> Vec<(Kind, String, u32)> {
        self.retries.iter().map(|((k, id), r)| (*k, id.clone(), r.failures)).collect()
    }

    fn note_failures(&mut self, report: &SyncReport) {
        let now = Instant::now();
        for item in &report.items {
            let key = (item.kind, item.id.clone());
            if item.error.is_some() {
                let failures = self.retries.get(&key).map_or(1, |r| r.failures + 1);
                self.retries.insert(key, Retry { failures, due: now + self.opts.backoff(failures) });
            } else {
                self.retries.remove(&key);
            }
        }
    }

    /// Waits up to `wait` for the next thing to do (a watcher batch, the periodic pass,
    /// a retry), does it, and returns the reports of syncs that changed or failed something.
    pub fn step(&mut self, wait: Duration) -> Result<Vec<SyncReport>, SyncError> {
        let mut reports = Vec::new();
        let now = Instant::now();
        let due = self.retries.values().map(|r| r.due).min().map_or(self.next_pass, |d| d.min(self.next_pass));
        let timeout = due.saturating_duration_since(now).min(wait);
        match self.events.recv_timeout(timeout) {
            Ok(WatchEvent::Changed(keys)) => {
                let mut rows: BTreeSet<(Kind, String)> = BTreeSet::new();
                for key in keys {
                    // Archived folders wait for the periodic batch; everything else syncs now.
                    if let Some((kind, id, false)) = row_of_path(key.as_str()) {
                        rows.insert((kind, id));
                    }
                }
                if !rows.is_empty() {
                    let rows: Vec<_> = rows.into_iter().collect();
                    let r = self.syncer.sync_items(&rows, Trigger::FileWatcher)?;
                    self.note_failures(&r);
                    reports.push(r);
                }
            }
            Ok(WatchEvent::Rescan { .. }) => self.next_pass = Instant::now(),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(SyncError::Folder {
                    path: self.syncer.root().join("openspec"),
                    message: "the watcher stopped".into(),
                })
            }
        }
        let now = Instant::now();
        if now >= self.next_pass {
            self.next_pass = now + self.opts.period;
            let r = self.syncer.sync_all(Trigger::Periodic)?;
            // The full pass retried every failed row too.
            self.retries.retain(|k, _| r.items.iter().any(|i| (i.kind, &i.id) == (k.0, &k.1) && i.error.is_some()));
            self.note_failures(&r);
            reports.push(r);
        } else {
            let due: Vec<(Kind, String)> =
                self.retries.iter().filter(|(_, r)| r.due <= now).map(|(k, _)| k.clone()).collect();
            if !due.is_empty() {
                let r = self.syncer.sync_items(&due, Trigger::Periodic)?;
                for k in &due {
                    if !r.items.iter().any(|i| (i.kind, &i.id) == (k.0, &k.1)) {
                        self.retries.remove(k);
                    }
                }
                self.note_failures(&r);
                reports.push(r);
            }
        }
        reports.retain(|r| !r.items.is_empty());
        Ok(reports)
    }

    /// Runs until `stop` is set, calling `log` with every sync that changed or failed something.
    pub fn run(&mut self, stop: &AtomicBool, mut log: impl FnMut(&SyncReport)) -> Result<(), SyncError> {
        while !stop.load(Ordering::Relaxed) {
            for r in self.step(Duration::from_millis(200))? {
                log(&r);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let o = ScheduleOptions {
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(10),
            ..Default::default()
        };
        let d: Vec<u64> = (1..=6).map(|n| o.backoff(n).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 8, 10, 10]);
        assert_eq!(o.backoff(u32::MAX), Duration::from_secs(10));
    }
}
