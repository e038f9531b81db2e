//! `watch` through uniffi: a callback interface the host implements hears every note of
//! the facade's watch, on the watch's own thread, until `WatchHandle.stop()`.

use std::sync::{Arc, Mutex};

use twinsync::api;
use twinsync::WatchNote as FacadeNote;

use crate::error::Result;
use crate::project::Project;
use crate::types::OperationReport;

/// A note of a running watch, as a line of `twinsync watch --json`.
// uniffi lifts an enum into the host by value and has no boxed variants; a note is
// built once per sync, so its size costs nothing that matters.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum WatchNote {
    /// A sync of a pair changed something (or left conflicts or failures).
    Synced {
        /// The pair.
        pair: String,
        /// Why it ran: `start`, `change`, `periodic` or `retry`.
        reason: String,
        /// Its report.
        report: OperationReport,
    },
    /// A sync could not run; it is retried after `retry_in_ms`.
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

impl From<&FacadeNote> for WatchNote {
    fn from(n: &FacadeNote) -> Self {
        match n {
            FacadeNote::Synced { pair, reason, report } => {
                WatchNote::Synced { pair: pair.clone(), reason: reason.clone(), report: (**report).clone().into() }
            }
            FacadeNote::Failed { pair, error, retry_in_ms } => {
                WatchNote::Failed { pair: pair.clone(), error: error.clone(), retry_in_ms: *retry_in_ms }
            }
            FacadeNote::Warning { pair, message } => {
                WatchNote::Warning { pair: pair.clone(), message: message.clone() }
            }
        }
    }
}

/// What the host implements to hear a watch: called on the watch's thread, one note at
/// a time; return quickly (hand the note to your own thread or queue).
#[uniffi::export(callback_interface)]
pub trait WatchListener: Send + Sync {
    /// One note.
    fn on_note(&self, note: WatchNote);
}

/// How a watch runs; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct WatchOptions {
    /// The pairs to watch (every pair when empty).
    #[uniffi(default = [])]
    pub pairs: Vec<String>,
    /// Quiet time after a file event before the pair syncs, in ms (default 100).
    #[uniffi(default = None)]
    pub debounce_ms: Option<u64>,
    /// Interval of the periodic pass, in ms (default 30 000).
    #[uniffi(default = None)]
    pub period_ms: Option<u64>,
}

/// What a watch did, when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
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

impl From<twinsync::WatchSummary> for WatchSummary {
    fn from(s: twinsync::WatchSummary) -> Self {
        WatchSummary { syncs: s.syncs, applied: s.applied, conflicts: s.conflicts, failed: s.failed }
    }
}

/// A running watch.
#[derive(uniffi::Object)]
pub struct WatchHandle {
    inner: Mutex<Option<twinsync::WatchHandle>>,
}

#[uniffi::export]
impl WatchHandle {
    /// Stops the watch after the sync in flight and returns what it did (zeros when it
    /// was stopped already). No note arrives after it returns.
    pub fn stop(&self) -> Result<WatchSummary> {
        let handle = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        Ok(match handle {
            Some(h) => h.stop()?.into(),
            None => WatchSummary::default(),
        })
    }
}

#[uniffi::export]
impl Project {
    /// Watches the pairs (every pair, or `options.pairs`) on a thread of its own, as
    /// `twinsync watch`: `listener` hears each note until the handle stops the watch.
    #[uniffi::method(default(options = None))]
    pub fn watch(&self, listener: Box<dyn WatchListener>, options: Option<WatchOptions>) -> Result<Arc<WatchHandle>> {
        let o = options.unwrap_or_default();
        let opts = api::WatchOptions { pairs: o.pairs, debounce_ms: o.debounce_ms, period_ms: o.period_ms };
        let handle = api::watch(&self.lock(), &opts, Box::new(move |n| listener.on_note(WatchNote::from(n))))?;
        Ok(Arc::new(WatchHandle { inner: Mutex::new(Some(handle)) }))
    }
}
