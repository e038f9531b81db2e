//! API keys: what an editor hook, an agent or a teammate's script shows a `twinsync
//! serve` server to act on one project (the hook routes and `/mcp` always, every project
//! route beyond loopback).
//!
//! - **A key is shown once.** [`Project::api_key_create`] answers it; the store keeps its
//!   SHA-256 only, so neither a copy of the store nor its backups can be used to call.
//! - **SHA-256, not a password hash.** A key is 256 bits from the OS's random source. Slow,
//!   salted password hashes (argon2, bcrypt) exist to make guessing a low-entropy password
//!   expensive; nobody guesses among 2^256 keys, however fast the hash, and a leaked hash
//!   does not lead back to its key. A fast, unsalted hash lets a request's key be found by
//!   one indexed lookup instead of trying every stored key.
//! - **Recognisable**: `tsk_` and 64 hex digits, so a key pasted where it should not be
//!   (a commit, a log, a chat) is found by `grep -E 'tsk_[0-9a-f]{64}'` and by secret
//!   scanners.
//! - **Named and revocable**, by a public id (`key_` and 12 hex digits, random, unrelated
//!   to the key) that lists and revocations use. A revoked key is refused for good.
//! - **Last use is kept, coarsely**: at most one store write per key per minute
//!   ([`LAST_USE_RESOLUTION_MS`]), so a hook that calls on every keystroke costs a read,
//!   not a write, per request.

use serde::Serialize;
use twinsync_core::api_key::ApiKeyRecord;
use twinsync_core::secret::Secret;
use twinsync_core::{Digest, Timestamp};

use crate::error::{Error, Result};
use crate::project::Project;

/// What every key starts with.
pub const API_KEY_PREFIX: &str = "tsk_";

/// How fresh a key's recorded last use is kept: a use within this long of the recorded
/// one is not written.
pub const LAST_USE_RESOLUTION_MS: i64 = 60_000;

/// The longest key name.
const MAX_NAME: usize = 100;

/// An API key as anyone may see it: never the key, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    /// The public id (`key_...`) that names it in lists and revocations.
    pub id: String,
    /// The name it was given.
    pub name: String,
    /// When created.
    pub created_at: Timestamp,
    /// When last accepted (to within [`LAST_USE_RESOLUTION_MS`]); `None`: never used.
    pub last_used_at: Option<Timestamp>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl From<ApiKeyRecord> for ApiKeyInfo {
    fn from(r: ApiKeyRecord) -> ApiKeyInfo {
        ApiKeyInfo {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked: r.revoked_at.is_some(),
            revoked_at: r.revoked_at,
        }
    }
}

/// A key just created: the only time the key itself is at hand.
#[derive(Debug)]
pub struct NewApiKey {
    /// Its public description.
    pub info: ApiKeyInfo,
    /// The key (redacted in `Debug` and `Display`; [`Secret::expose`] gives it).
    pub key: Secret,
}

/// What a presented key turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// A live key of this project.
    Accepted(ApiKeyInfo),
    /// A key of this project, revoked.
    Revoked(ApiKeyInfo),
    /// Not a key of this project.
    Unknown,
}

/// The hash the store keeps for `key`: lowercase hex of its SHA-256.
fn hash_of(key: &str) -> String {
    Digest::of_bytes(key.as_bytes()).to_hex()
}

fn random_hex<const N: usize>(what: &str) -> Result<String> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::ApiKey { subject: what.to_string(), message: format!("no random bytes: {e}") })?;
    let hex = bytes.iter().map(|b| format!("{b:02x}")).collect();
    bytes.fill(0);
    Ok(hex)
}

/// Whether `text` has the shape of a key (the prefix and 64 lowercase hex digits).
pub fn looks_like_api_key(text: &str) -> bool {
    text.strip_prefix(API_KEY_PREFIX)
        .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    let bad = |message: &str| Error::ApiKey { subject: format!("name {name:?}"), message: message.to_string() };
    if name.is_empty() {
        return Err(bad("must not be empty"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(bad(&format!("is longer than {MAX_NAME} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("must not hold control characters"));
    }
    Ok(name)
}

impl Project {
    /// Creates an API key named `name`; the answer holds the key, which is not kept.
    pub fn api_key_create(&mut self, name: &str) -> Result<NewApiKey> {
        let name = check_name(name)?.to_string();
        let key = Secret::new(format!("{API_KEY_PREFIX}{}", random_hex::<32>("a new key")?));
        let record = ApiKeyRecord {
            id: format!("key_{}", random_hex::<6>("a new key id")?),
            name,
            hash: hash_of(key.expose()),
            created_at: self.now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.store().put_api_key(&record)?;
        let correlation = record.id.clone();
        crate::logging::done("api_key_create", &record.id, self.actor(), &correlation, 0, 1);
        Ok(NewApiKey { info: record.into(), key })
    }

    /// Every API key of the project, revoked ones included, oldest first.
    pub fn api_key_list(&self) -> Result<Vec<ApiKeyInfo>> {
        Ok(self.store_ref().api_keys()?.into_iter().map(ApiKeyInfo::from).collect())
    }

    /// Revokes API key `id` (revoking it again changes nothing); answers the key.
    pub fn api_key_revoke(&mut self, id: &str) -> Result<ApiKeyInfo> {
        let now = self.now();
        let record = self.store().revoke_api_key(id, now)?.ok_or_else(|| Error::NoApiKey { id: id.to_string() })?;
        crate::logging::done("api_key_revoke", id, self.actor(), id, 0, 1);
        Ok(record.into())
    }

    /// What `key` is to this project. An accepted key's last use is recorded when the
    /// recorded one is a minute old or more.
    pub fn api_key_verify(&mut self, key: &str) -> Result<KeyCheck> {
        if !looks_like_api_key(key) {
            return Ok(KeyCheck::Unknown);
        }
        let Some(record) = self.store_ref().api_key_by_hash(&hash_of(key))? else { return Ok(KeyCheck::Unknown) };
        if record.revoked_at.is_some() {
            return Ok(KeyCheck::Revoked(record.into()));
        }
        let now = self.now();
        let mut info = ApiKeyInfo::from(record);
        if info.last_used_at.is_none_or(|last| now.millis() - last.millis() >= LAST_USE_RESOLUTION_MS) {
            // A failed write of the last use is no reason to refuse a valid key.
            match self.store().touch_api_key(&info.id, now) {
                Ok(()) => info.last_used_at = Some(now),
                Err(e) => {
                    tracing::warn!(target: "twinsync", subject = %info.id, error = %e, "last use of an API key not recorded")
                }
            }
        }
        Ok(KeyCheck::Accepted(info))
    }
}
