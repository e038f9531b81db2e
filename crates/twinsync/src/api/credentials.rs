//! Credentials for the bindings: metadata only. A value goes in (`credential_add`,
//! `credential_rotate`) and never comes back out: every answer is the record as
//! `twinsync credentials list --json` prints it, which holds no secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use twinsync_core::credential::ProviderType;
use twinsync_core::secret::Secret;

use super::{invalid, to_json};
use crate::credentials::NewCredential;
use crate::error::Result;
use crate::project::Project;

/// Every credential, metadata only, brought up to date (overdue ones expired):
/// `{"credentials": [{name, provider, status, key_id, metadata, created_at, ...}]}`.
pub fn credentials(p: &mut Project) -> Result<Value> {
    Ok(json!({ "credentials": to_json(&p.credentials()?)? }))
}

/// One credential's metadata.
pub fn credential(p: &mut Project, name: &str) -> Result<Value> {
    to_json(&p.credential(name)?)
}

/// What [`credential_add`] records besides the value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CredentialOptions {
    /// `notification`, `design`, `documentation`, `testing`, `ai` or `analytics` (required to add).
    pub provider: Option<String>,
    /// Rotation period in milliseconds: it expires when not rotated in time.
    pub rotate_every_ms: Option<i64>,
    /// Free metadata; never the secret.
    pub metadata: BTreeMap<String, String>,
}

/// Adds credential `name` holding `secret` (sealed with the master key; status
/// `pending` until validated) and returns its metadata. A name in use is refused.
pub fn credential_add(p: &mut Project, name: &str, secret: &str, opts: &CredentialOptions) -> Result<Value> {
    let provider = match opts.provider.as_deref() {
        Some(s) => s.parse::<ProviderType>().map_err(|e| invalid(format!("provider: {e}")))?,
        None => return Err(invalid(format!("credential {name}: provider is required"))),
    };
    let new = NewCredential {
        provider: Some(provider),
        rotate_every_ms: opts.rotate_every_ms,
        metadata: opts.metadata.clone(),
    };
    to_json(&p.credential_add(name, &Secret::new(secret), new)?)
}

/// Replaces credential `name`'s value (`rotate_every_ms` replaces the period when given).
pub fn credential_rotate(p: &mut Project, name: &str, secret: &str, rotate_every_ms: Option<i64>) -> Result<Value> {
    to_json(&p.credential_rotate(name, &Secret::new(secret), rotate_every_ms)?)
}

/// Revokes credential `name` for good and drops its sealed value.
pub fn credential_revoke(p: &mut Project, name: &str) -> Result<Value> {
    to_json(&p.credential_revoke(name)?)
}

/// Checks credential `name` opens with this machine's master key and is in date; a
/// pending one becomes valid.
pub fn credential_validate(p: &mut Project, name: &str) -> Result<Value> {
    to_json(&p.credential_validate(name)?)
}
