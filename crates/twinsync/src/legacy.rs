//! What the migrations of state kept by earlier releases share: an item's last-synced
//! content recorded as the base of a pair in the project's store, with a `base` history
//! row naming the migration (see `design_pair::migrate` and `openspec_pair`).

use twinsync_core::store::{HistoryEntry, ItemCommit};
use twinsync_core::{Content, Digest, Key, Timestamp, Trigger};

/// The commit that records `digest` (with `blobs`, its content) as pair `scope`'s base
/// for `key`, made by migration `migration`.
pub(crate) fn base_commit(
    scope: &str,
    key: &Key,
    digest: Digest,
    blobs: Vec<(Digest, Content)>,
    migration: &str,
    at: Timestamp,
) -> ItemCommit {
    ItemCommit {
        scope: scope.to_string(),
        key: key.clone(),
        base_after: Some(digest),
        blobs,
        undo: vec![],
        history: HistoryEntry {
            operation_id: migration.to_string(),
            scope: scope.to_string(),
            key: key.clone(),
            direction: "base".into(),
            trigger: Trigger::Manual,
            success: true,
            error: None,
            left: Some(digest),
            right: Some(digest),
            at,
        },
        events: vec![],
    }
}
