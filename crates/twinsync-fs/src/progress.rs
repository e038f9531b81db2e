//! Scan progress: how many files a running scan has found and hashed, told to an
//! observer a few times a second once the scan has run for a while, so a long scan is
//! not a silent wait and a short one prints nothing.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How far a scan has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanProgress {
    /// Files the walk has found so far.
    pub found: usize,
    /// Files read and hashed so far (those the stat cache could not vouch for).
    pub hashed: usize,
    /// Files to hash in all, once the walk is over (0 while it runs).
    pub to_hash: usize,
}

/// Called with a scan's progress; see [`crate::FsReplica::observe_scans`].
pub type ScanObserver = Arc<dyn Fn(ScanProgress) + Send + Sync>;

/// An observer and how long a scan runs before it hears of it.
#[derive(Clone)]
pub(crate) struct Observer {
    pub call: ScanObserver,
    pub after: Duration,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer").field("after", &self.after).finish_non_exhaustive()
    }
}

/// Time between two reports.
const EVERY: Duration = Duration::from_millis(100);

/// One scan's counters, shared by its threads; reports through the observer.
pub(crate) struct Reporter {
    observer: Option<ScanObserver>,
    started: Instant,
    after: Duration,
    /// Milliseconds since `started` of the last report.
    last_ms: AtomicU64,
    found: AtomicUsize,
    hashed: AtomicUsize,
    to_hash: AtomicUsize,
}

impl Reporter {
    pub(crate) fn new(observer: Option<&Observer>) -> Reporter {
        Reporter {
            observer: observer.map(|o| o.call.clone()),
            started: Instant::now(),
            after: observer.map_or(Duration::MAX, |o| o.after),
            last_ms: AtomicU64::new(0),
            found: AtomicUsize::new(0),
            hashed: AtomicUsize::new(0),
            to_hash: AtomicUsize::new(0),
        }
    }

    /// The walk found `n` more files.
    pub(crate) fn found(&self, n: usize) {
        self.found.fetch_add(n, Ordering::Relaxed);
        self.maybe_report();
    }

    /// The walk is over and `n` files are to be hashed: the next report comes at once,
    /// so the line says so without waiting out the interval.
    pub(crate) fn to_hash(&self, n: usize) {
        self.to_hash.store(n, Ordering::Relaxed);
        self.last_ms.store(0, Ordering::Relaxed);
    }

    /// One more file hashed.
    pub(crate) fn hashed(&self) {
        self.hashed.fetch_add(1, Ordering::Relaxed);
        self.maybe_report();
    }

    fn maybe_report(&self) {
        let Some(observer) = &self.observer else { return };
        let elapsed = self.started.elapsed();
        if elapsed < self.after {
            return;
        }
        let now_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let last = self.last_ms.load(Ordering::Relaxed);
        // The first report comes as soon as `after` has passed, later ones every `EVERY`;
        // of two threads due at once, the one that moves `last_ms` reports.
        let due = last == 0 || now_ms.saturating_sub(last) >= EVERY.as_millis() as u64;
        if due && self.last_ms.compare_exchange(last, now_ms.max(1), Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            observer(ScanProgress {
                found: self.found.load(Ordering::Relaxed),
                hashed: self.hashed.load(Ordering::Relaxed),
                to_hash: self.to_hash.load(Ordering::Relaxed),
            });
        }
    }
}
