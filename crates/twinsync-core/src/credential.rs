//! Credential records: a named secret for a provider (a design tool's token, a webhook's
//! key), kept by the store sealed (encrypted by the host) with its metadata, its status
//! and its rotation schedule. The store never sees the clear value: it keeps
//! [`CredentialRecord::sealed`] as opaque bytes. This module owns the status machine,
//! pending -> valid -> revoked | expired, and back to valid after a rotation.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// The hub's provider types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderType {
    /// Webhooks, chat.
    Notification,
    /// Figma and other design tools.
    Design,
    /// Documentation platforms.
    Documentation,
    /// Browser testing services.
    Testing,
    /// AI providers.
    Ai,
    /// Analytics.
    Analytics,
}

impl ProviderType {
    /// Every provider type, in the order they are listed to users.
    pub const ALL: [ProviderType; 6] = [
        ProviderType::Notification,
        ProviderType::Design,
        ProviderType::Documentation,
        ProviderType::Testing,
        ProviderType::Ai,
        ProviderType::Analytics,
    ];

    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProviderType::Notification => "notification",
            ProviderType::Design => "design",
            ProviderType::Documentation => "documentation",
            ProviderType::Testing => "testing",
            ProviderType::Ai => "ai",
            ProviderType::Analytics => "analytics",
        }
    }
}

impl fmt::Display for ProviderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ProviderType::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            format!(
                "unknown provider type {s:?}; expected one of {}",
                ProviderType::ALL.map(ProviderType::as_str).join(", ")
            )
        })
    }
}

/// Where a credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Added, not validated yet.
    Pending,
    /// Validated (or rotated) and in date.
    Valid,
    /// Withdrawn by a user; final.
    Revoked,
    /// Its rotation date passed; a rotation makes it valid again.
    Expired,
}

impl CredentialStatus {
    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Pending => "pending",
            CredentialStatus::Valid => "valid",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Expired => "expired",
        }
    }

    /// Whether the machine allows `self -> next`. Staying put is always allowed (a
    /// rotation of a valid credential stays valid; re-validating records a new time).
    ///
    /// pending -> valid | revoked | expired; valid -> revoked | expired;
    /// expired -> valid (by rotation) | revoked; revoked -> nothing.
    pub fn can_become(self, next: CredentialStatus) -> bool {
        use CredentialStatus::*;
        match (self, next) {
            (Revoked, Revoked) => true,
            (Revoked, _) => false,
            (a, b) if a == b => true,
            (Pending, Valid | Revoked | Expired) => true,
            (Valid, Revoked | Expired) => true,
            (Expired, Valid | Revoked) => true,
            _ => false,
        }
    }
}

impl fmt::Display for CredentialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CredentialStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [CredentialStatus::Pending, CredentialStatus::Valid, CredentialStatus::Revoked, CredentialStatus::Expired]
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown credential status {s:?}; expected pending, valid, revoked or expired"))
    }
}

/// One credential as the store keeps it: metadata in clear, the value sealed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CredentialRecord {
    /// The unique name (`figma`).
    pub name: String,
    /// The provider type.
    pub provider: ProviderType,
    /// Where it stands.
    pub status: CredentialStatus,
    /// The value, encrypted by the host (nonce and ciphertext); never serialised with the
    /// metadata, so `list --json` cannot carry it even by mistake.
    #[serde(skip)]
    pub sealed: Vec<u8>,
    /// Which key sealed it (a fingerprint, not the key), so a wrong key is named plainly.
    pub key_id: String,
    /// Free metadata (`account`, `scope`, a note); never the secret.
    pub metadata: BTreeMap<String, String>,
    /// When added.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Timestamp,
    /// When last validated.
    pub last_validated_at: Option<Timestamp>,
    /// When the value was last replaced.
    pub rotated_at: Option<Timestamp>,
    /// How often the value must be replaced, in milliseconds.
    pub rotate_every_ms: Option<i64>,
    /// When the value must be replaced by; past it, the credential expires.
    pub rotation_due_at: Option<Timestamp>,
    /// The due date a reminder was sent for, so each due date is reminded of once.
    pub reminded_for: Option<Timestamp>,
}

impl fmt::Debug for CredentialRecord {
    /// Everything but the sealed bytes, which show as their length: they are not the
    /// secret, but a debug print has no use for them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialRecord")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("status", &self.status)
            .field("sealed", &format_args!("[{} bytes]", self.sealed.len()))
            .field("key_id", &self.key_id)
            .field("metadata", &self.metadata)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("last_validated_at", &self.last_validated_at)
            .field("rotated_at", &self.rotated_at)
            .field("rotate_every_ms", &self.rotate_every_ms)
            .field("rotation_due_at", &self.rotation_due_at)
            .field("reminded_for", &self.reminded_for)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::CredentialStatus::*;
    use super::*;

    #[test]
    fn the_status_machine_allows_exactly_the_seed_transitions() {
        let all = [Pending, Valid, Revoked, Expired];
        let allowed = [
            (Pending, Pending),
            (Pending, Valid),
            (Pending, Revoked),
            (Pending, Expired),
            (Valid, Valid),
            (Valid, Revoked),
            (Valid, Expired),
            (Expired, Expired),
            (Expired, Valid),
            (Expired, Revoked),
            (Revoked, Revoked),
        ];
        for a in all {
            for b in all {
                assert_eq!(a.can_become(b), allowed.contains(&(a, b)), "{a} -> {b}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for p in ProviderType::ALL {
            assert_eq!(p.as_str().parse::<ProviderType>().unwrap(), p);
        }
        assert!("github".parse::<ProviderType>().unwrap_err().contains("notification, design"));
        for s in ["pending", "valid", "revoked", "expired"] {
            assert_eq!(s.parse::<CredentialStatus>().unwrap().as_str(), s);
        }
    }
}
