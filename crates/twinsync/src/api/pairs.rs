//! Named pairs for the bindings: the list as `twinsync pair list --json`, and status,
//! sync, undo and history of one pair (`None`: the project's default pair, as the
//! unnamed calls always did); the event outbox as `twinsync events --json`; and
//! `watch`, whose notes reach the host as the JSON lines `twinsync watch --json` prints.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{direction, drift_json, invalid, policy, to_json, SyncOptions};
use crate::error::Result;
use crate::project::{Project, SyncRequest};
use crate::watch::{WatchHandle, WatchNote, WatchOptions as FacadeWatchOptions};

/// The project's pairs, by name: `{"pairs": [{name, kind, left, right, policy, direction, ...}]}`.
pub fn pairs(p: &Project) -> Value {
    let list: Vec<Value> = p
        .config()
        .pairs
        .iter()
        .map(|(name, pair)| {
            let mut v = serde_json::to_value(pair).unwrap_or_default();
            v["name"] = name.clone().into();
            v
        })
        .collect();
    json!({ "pairs": list })
}

/// The pair a call acts on: the one named (checked), else the project's default pair.
fn pair_name(p: &Project, pair: Option<&str>) -> Result<String> {
    match pair {
        Some(name) => Ok(p.pair(name).map(|_| name.to_string())?),
        None => p.default_pair(),
    }
}

/// Drift of pair `pair` (the default pair for `None`), shaped as [`drift_json`].
pub fn status_in(p: &mut Project, pair: Option<&str>) -> Result<Value> {
    let name = pair_name(p, pair)?;
    Ok(drift_json(&p.status_of(&name)?))
}

/// Syncs (or previews, with `dry_run`) pair `pair`: the operation report, or `{plan, diffs}`.
pub fn sync_in(p: &mut Project, pair: Option<&str>, opts: &SyncOptions) -> Result<Value> {
    let name = pair_name(p, pair)?;
    let req = SyncRequest {
        policy: policy(opts.policy.as_deref())?,
        direction: direction(opts.direction.as_deref())?,
        allow_mass_delete: opts.allow_mass_delete,
        formatting: opts.formatting,
        ..Default::default()
    };
    if opts.dry_run {
        to_json(&p.preview_of(&name, &req)?)
    } else {
        to_json(&p.sync_pair(&name, &req)?)
    }
}

/// Undoes `operation_id` (it names its own pair), else the newest undoable operation of
/// `pair` (of the project for `None`): `{operation_id, restored, refused, at}`.
pub fn undo_in(p: &mut Project, pair: Option<&str>, operation_id: Option<&str>) -> Result<Value> {
    if let Some(name) = pair {
        p.pair(name)?;
    }
    to_json(&p.undo_in(pair, operation_id)?)
}

fn summaries(ops: &[twinsync_core::OperationReport]) -> Vec<Value> {
    ops.iter().map(|o| serde_json::to_value(o.summary()).unwrap_or_default()).collect()
}

/// Recent operations of `pair` (every pair's for `None`), newest first: `{"operations": [summary]}`.
pub fn history_in(p: &Project, pair: Option<&str>, limit: usize) -> Result<Value> {
    let ops = match pair {
        Some(name) => {
            p.pair(name)?;
            p.operations_of(&[name.to_string()], limit)?
        }
        None => p.operations(limit)?,
    };
    Ok(json!({ "operations": summaries(&ops) }))
}

/// Recent operations of pair `name`, configured or implicit (an OpenSpec folder's), unchecked.
pub(crate) fn history_of_any(p: &Project, name: &str, limit: usize) -> Result<Value> {
    Ok(json!({ "operations": summaries(&p.operations_of(&[name.to_string()], limit)?) }))
}

/// Operations of `pair` (every pair's for `None`) that can still be undone, the next
/// `undo` first: `{"operations": [summary]}`.
pub fn undo_stack_in(p: &Project, pair: Option<&str>, limit: usize) -> Result<Value> {
    let now = p.now();
    let ops = match pair {
        Some(name) => {
            p.pair(name)?;
            p.operations_of(&[name.to_string()], limit)?
        }
        None => p.operations(limit)?,
    };
    let undoable: Vec<_> =
        ops.into_iter().filter(|o| o.undone_at.is_none() && o.reversible_until.is_some_and(|u| now < u)).collect();
    Ok(json!({ "operations": summaries(&undoable) }))
}

/// Events with an id above `since`, oldest first, at most `limit`: each as one line of
/// `twinsync events --json` (`{id, type, time, pair, correlation_id, payload}`).
pub fn events(p: &Project, since: u64, limit: usize) -> Result<Value> {
    to_json(&p.events(since, limit)?)
}

/// How a binding's watch runs; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WatchOptions {
    /// The pairs to watch (every pair when empty).
    pub pairs: Vec<String>,
    /// Quiet time after a file event before the pair syncs, in milliseconds (default 100).
    pub debounce_ms: Option<u64>,
    /// Interval of the periodic pass, in milliseconds (default 30 000).
    pub period_ms: Option<u64>,
}

/// A watch note as `twinsync watch --json` prints it: `{"note": "synced", pair, reason,
/// report}`, `{"note": "failed", pair, error, retry_in_ms}` or `{"note": "warning", pair, message}`.
pub fn watch_note_json(note: &WatchNote) -> Value {
    serde_json::to_value(note).unwrap_or_default()
}

/// A watch's summary when it stops, as `twinsync watch --json` ends:
/// `{"syncs", "applied", "conflicts", "failed"}`.
pub fn watch_summary_json(summary: &crate::watch::WatchSummary) -> Value {
    serde_json::to_value(summary).unwrap_or_default()
}

/// Starts watching the pairs of the project at `p`'s folder, on a project handle and a
/// thread of its own (so `p` stays usable), acting as `p`'s actor; `notes` hears every
/// note ([`watch_note_json`]) until the handle stops the watch.
pub fn watch(p: &Project, opts: &WatchOptions, notes: Box<dyn FnMut(&WatchNote) + Send>) -> Result<WatchHandle> {
    let mut own = Project::open(p.dir())?;
    own.set_actor(p.actor());
    for name in &opts.pairs {
        own.pair(name)?;
    }
    let mut o = FacadeWatchOptions { pairs: opts.pairs.clone(), ..Default::default() };
    if let Some(ms) = opts.debounce_ms {
        o.debounce = Duration::from_millis(ms);
    }
    if let Some(ms) = opts.period_ms {
        if ms == 0 {
            return Err(invalid("period_ms: must be above 0".into()));
        }
        o.period = Duration::from_millis(ms);
    }
    own.watch(o, notes)
}
