//! Credentials: metadata only. A secret goes in (`credentialAdd`, `credentialRotate`)
//! and never comes out: the record holds no value.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use twinsync::api;

use crate::error::Result;
use crate::functions::decode;
use crate::project::Project;

/// One credential's metadata, as `twinsync credentials list --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, uniffi::Record)]
pub struct Credential {
    /// The unique name (`figma`).
    pub name: String,
    /// `notification`, `design`, `documentation`, `testing`, `ai` or `analytics`.
    pub provider: String,
    /// `pending`, `valid`, `expired` or `revoked`.
    pub status: String,
    /// Fingerprint of the master key that sealed it.
    pub key_id: String,
    /// Free metadata.
    pub metadata: HashMap<String, String>,
    /// When added (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// Last successful validation (RFC 3339).
    pub last_validated_at: Option<String>,
    /// Last rotation (RFC 3339).
    pub rotated_at: Option<String>,
    /// Rotation period in milliseconds.
    pub rotate_every_ms: Option<i64>,
    /// When it expires unless rotated (RFC 3339).
    pub rotation_due_at: Option<String>,
    /// The rotation date a reminder went out for (RFC 3339).
    pub reminded_for: Option<String>,
}

#[derive(Deserialize)]
struct CredentialsJson {
    credentials: Vec<Credential>,
}

#[uniffi::export]
impl Project {
    /// Every credential, metadata only, brought up to date (overdue ones expired).
    pub fn credentials(&self) -> Result<Vec<Credential>> {
        Ok(decode::<CredentialsJson>("credentials", api::credentials(&mut self.lock())?)?.credentials)
    }

    /// One credential's metadata.
    pub fn credential(&self, name: String) -> Result<Credential> {
        decode("credential", api::credential(&mut self.lock(), &name)?)
    }

    /// Adds credential `name` holding `secret` (sealed with the master key; `pending`
    /// until validated); `provider` is `notification`, `design`, `documentation`,
    /// `testing`, `ai` or `analytics`.
    #[uniffi::method(default(rotate_every_ms = None, metadata = None))]
    pub fn credential_add(
        &self,
        name: String,
        secret: String,
        provider: String,
        rotate_every_ms: Option<i64>,
        metadata: Option<HashMap<String, String>>,
    ) -> Result<Credential> {
        let opts = api::CredentialOptions {
            provider: Some(provider),
            rotate_every_ms,
            metadata: metadata.unwrap_or_default().into_iter().collect::<BTreeMap<_, _>>(),
        };
        decode("credential", api::credential_add(&mut self.lock(), &name, &secret, &opts)?)
    }

    /// Replaces credential `name`'s value (`rotate_every_ms` replaces the period when given).
    #[uniffi::method(default(rotate_every_ms = None))]
    pub fn credential_rotate(&self, name: String, secret: String, rotate_every_ms: Option<i64>) -> Result<Credential> {
        decode("credential", api::credential_rotate(&mut self.lock(), &name, &secret, rotate_every_ms)?)
    }

    /// Revokes credential `name` for good and drops its sealed value.
    pub fn credential_revoke(&self, name: String) -> Result<Credential> {
        decode("credential", api::credential_revoke(&mut self.lock(), &name)?)
    }

    /// Checks credential `name` opens with this machine's key and is in date; pending becomes valid.
    pub fn credential_validate(&self, name: String) -> Result<Credential> {
        decode("credential", api::credential_validate(&mut self.lock(), &name)?)
    }
}
