//! API key records: a named key that lets an editor hook or an agent call a project's
//! server routes. The store keeps only a digest of the key, never the key itself; the
//! facade makes keys, hashes them and decides what a digest match means.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// One API key as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRecord {
    /// A public id naming the key in lists and revocations (not derived from the key).
    pub id: String,
    /// A name for people ("alice's editor hook").
    pub name: String,
    /// Lowercase hex of the key's SHA-256; unique in a project.
    pub hash: String,
    /// When created.
    pub created_at: Timestamp,
    /// When last accepted (kept coarse by the facade, see its module docs).
    pub last_used_at: Option<Timestamp>,
    /// When revoked; a revoked key is never accepted again.
    pub revoked_at: Option<Timestamp>,
}
