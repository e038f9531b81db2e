//! Sending events: best effort through the syncer's transport, and the per-row
//! `sync_completed` payload. The passes send `sync_started` / `sync_completed`, a failed
//! row `sync_failed` and a recorded conflict `conflict`, each through [`Syncer::emit`].

use twinsync_core::event::{Event, EventType};

use super::Syncer;
use crate::db::{Kind, SyncDirection};

impl Syncer<'_> {
    /// Sends an event when a transport is set.
    pub(super) fn emit(&self, event_type: EventType, corr: &str, payload: serde_json::Value) {
        if let Some(t) = self.transport {
            // Delivery is best effort here: a failing transport must not fail the sync.
            let _ = t.send(&Event::new(event_type, self.clock.now(), "openspec", corr, payload));
        }
    }

    /// Sends one row's `sync_completed` event.
    pub(super) fn completed(
        &self,
        corr: &str,
        kind: Kind,
        id: &str,
        dirs: &[SyncDirection],
        outcome: &str,
        files: &[String],
    ) {
        self.emit(
            EventType::SyncCompleted,
            corr,
            serde_json::json!({"scope": "openspec", "project": self.config.project, "kind": kind, "change_id": id,
                "direction": dirs.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(","), "outcome": outcome, "files": files}),
        );
    }
}
