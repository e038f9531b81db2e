//! A pair's status as `twinsync status` shows it: `folders` and `openspec` pairs report
//! the engine's drift item by item (an `openspec` pair's items are its documents); a
//! `design` pair reports component drift with renames (see `design_pair`).

use twinsync_core::{Drift, DriftClass, DriftSource};

use crate::project::{PairStatus, StatusItem};
use crate::PairKind;

/// The status of a pair that syncs through the engine (`folders`, `openspec`), from its drift.
pub(crate) fn engine_status(name: &str, kind: PairKind, drift: &Drift) -> PairStatus {
    PairStatus {
        pair: name.to_string(),
        kind,
        items: drift
            .drifted()
            .map(|i| StatusItem {
                key: i.key.to_string(),
                class: i.class.as_str().to_string(),
                conflict: i.class.is_conflict(),
            })
            .collect(),
        in_sync: drift.counts.get(DriftClass::InSync),
        conflicts: drift.counts.conflicts(),
        failed: drift.failed.clone(),
        moves: twinsync_core::moves::find(drift.drifted_items()),
    }
}
