//! Credentials: named provider secrets (a Figma token, a webhook key), stored in the
//! project's store sealed with AES-256-GCM, with their status and rotation schedule.
//!
//! This module owns everything about them: the master key, sealing and opening, the
//! status machine's transitions (`twinsync_core::credential` says which are allowed), and
//! the `credential_status` events (a reminder before a rotation date, and expiry).
//!
//! **The master key** is never in the store. It comes from `TWINSYNC_MASTER_KEY` (base64
//! of 32 bytes) or, for an SQLite store only, from a key file created with mode 0600 on
//! first use in the user's config folder (`$XDG_CONFIG_HOME/twinsync/master.key`, else
//! `~/.config/twinsync/master.key`). Not `.twinsync/`: a project folder gets copied,
//! archived and sometimes committed whole, and a key travelling next to the ciphertext
//! protects nothing. A PostgreSQL store is shared by machines, where a key file would
//! exist on one of them only, so it requires `TWINSYNC_MASTER_KEY`.
//!
//! **A secret never shows**: values travel as [`Secret`] (redacted in `Debug`, `Display`
//! and serde), records carry only ciphertext, and errors name the credential, never the
//! value or the key.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use twinsync_core::credential::{CredentialRecord, CredentialStatus, ProviderType};
use twinsync_core::event::{Event, EventType};
use twinsync_core::secret::Secret;
use twinsync_core::{Digest, Timestamp};

use crate::error::{Error, Result};
use crate::project::Project;
use crate::stores::StoreUrl;

/// The environment variable holding the master key (base64 of 32 bytes).
pub const MASTER_KEY_ENV: &str = "TWINSYNC_MASTER_KEY";

const NONCE_LEN: usize = 12;
const DAY_MS: i64 = 86_400_000;

fn cred_error(name: &str, message: impl Into<String>) -> Error {
    Error::Credential { name: name.to_string(), message: message.into() }
}

/// The 32-byte key that seals credentials, and a fingerprint naming it.
struct MasterKey {
    key: [u8; 32],
    id: String,
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        // Volatile writes, so the zeroing is not optimised away as a dead store.
        for b in self.key.iter_mut() {
            // SAFETY: `b` is a valid, aligned, exclusive reference into our own array.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({}, [redacted])", self.id)
    }
}

impl MasterKey {
    fn from_bytes(key: [u8; 32]) -> MasterKey {
        // A fingerprint of a 256-bit random key reveals nothing useful about it, and lets
        // an error say "sealed with key X, this machine has key Y".
        let mut tagged = b"twinsync-master-key:".to_vec();
        tagged.extend_from_slice(&key);
        let id = Digest::of_bytes(&tagged).to_hex()[..16].to_string();
        tagged.fill(0);
        MasterKey { key, id }
    }

    fn decode(text: &str, from: &str) -> Result<MasterKey> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| {
            cred_error("master key", format!("{from} is not base64; expected base64 of 32 random bytes"))
        })?;
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            cred_error(
                "master key",
                format!("{from} holds {} bytes; expected 32 (base64 of 32 random bytes)", bytes.len()),
            )
        })?;
        Ok(MasterKey::from_bytes(key))
    }

    /// `TWINSYNC_MASTER_KEY`, else (SQLite only) the user's key file, created on first use.
    fn for_store(url: &StoreUrl) -> Result<MasterKey> {
        if let Some(text) = std::env::var(MASTER_KEY_ENV).ok().filter(|v| !v.trim().is_empty()) {
            return MasterKey::decode(&text, MASTER_KEY_ENV);
        }
        if let StoreUrl::Postgres(_) = url {
            return Err(cred_error(
                "master key",
                format!(
                    "a PostgreSQL store is shared by machines, so its credentials need {MASTER_KEY_ENV} \
                     (base64 of 32 random bytes, e.g. from `openssl rand -base64 32`), the same on every machine"
                ),
            ));
        }
        let path = key_file_path()?;
        MasterKey::from_file(&path)
    }

    fn from_file(path: &Path) -> Result<MasterKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                MasterKey::decode(&text, &path.display().to_string())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MasterKey::create_file(path),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn create_file(path: &Path) -> Result<MasterKey> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key).map_err(|e| cred_error("master key", format!("no random bytes: {e}")))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                let text = base64::engine::general_purpose::STANDARD.encode(key);
                file.write_all(text.as_bytes()).and_then(|_| file.sync_all()).map_err(|e| Error::io(path, e))?;
                Ok(MasterKey::from_bytes(key))
            }
            // Another process created it between our read and our create: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => MasterKey::from_file(path),
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

/// Refuses a key file others can read, as ssh does with private keys: a key readable by
/// the group or the world no longer protects anything.
fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(cred_error(
                "master key",
                format!("{} is readable by others (mode {:o}); run `chmod 600` on it", path.display(), mode & 0o777),
            ));
        }
    }
    Ok(())
}

/// Where the key file lives: `$XDG_CONFIG_HOME/twinsync/master.key`, else
/// `$HOME/.config/twinsync/master.key`.
pub fn key_file_path() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| {
            cred_error("master key", format!("neither {MASTER_KEY_ENV}, XDG_CONFIG_HOME nor HOME is set"))
        })?;
    Ok(base.join("twinsync").join("master.key"))
}

/// Seals `value` for credential `name`: a fresh random nonce, then AES-256-GCM with the
/// name as associated data, so a sealed value copied onto another credential's row does
/// not open.
fn seal(key: &MasterKey, name: &str, value: &Secret) -> Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(&key.key).map_err(|_| cred_error(name, "bad key length"))?;
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut nonce).map_err(|e| cred_error(name, format!("no random bytes: {e}")))?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: value.expose().as_bytes(), aad: name.as_bytes() })
        .map_err(|_| cred_error(name, "encryption failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens what [`seal`] sealed; a wrong key or altered bytes is an error naming both keys'
/// fingerprints, never a garbled value.
fn open(key: &MasterKey, record: &CredentialRecord) -> Result<Secret> {
    let name = &record.name;
    if record.sealed.len() < NONCE_LEN {
        return Err(cred_error(name, "holds no sealed value (revoked credentials keep none)"));
    }
    let (nonce, body) = record.sealed.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new_from_slice(&key.key).map_err(|_| cred_error(name, "bad key length"))?;
    let clear = cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: name.as_bytes() }).map_err(|_| {
        if record.key_id != key.id {
            cred_error(
                name,
                format!(
                    "was sealed with master key {} but this machine has key {}; set {MASTER_KEY_ENV} to the key it was added with",
                    record.key_id, key.id
                ),
            )
        } else {
            cred_error(name, "its sealed value was altered in the store and does not open")
        }
    })?;
    let text = String::from_utf8(clear).map_err(|_| cred_error(name, "its value is not UTF-8"))?;
    Ok(Secret::new(text))
}

/// Checks a credential name: 1 to 100 of `A-Z a-z 0-9 . _ -`.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(cred_error(name, "invalid name: use 1 to 100 letters, digits, '.', '_' or '-'"))
    }
}

/// What `credentials add` records besides the value.
#[derive(Debug, Clone, Default)]
pub struct NewCredential {
    /// The provider type.
    pub provider: Option<ProviderType>,
    /// How often it must be rotated, in milliseconds (`None`: never due).
    pub rotate_every_ms: Option<i64>,
    /// Free metadata (never the secret).
    pub metadata: BTreeMap<String, String>,
}

/// Why a `credential_status` event fired.
fn status_event(now: Timestamp, record: &CredentialRecord, reason: &str) -> Event {
    Event::new(
        EventType::CredentialStatus,
        now,
        "",
        &format!("credential-{}-{}", record.name, now.millis()),
        serde_json::json!({
            "name": record.name,
            "provider": record.provider,
            "status": record.status,
            "reason": reason,
            "rotation_due_at": record.rotation_due_at,
        }),
    )
}

fn move_to(record: &mut CredentialRecord, next: CredentialStatus) -> Result<()> {
    if !record.status.can_become(next) {
        return Err(cred_error(&record.name, format!("is {} and cannot become {next}", record.status)));
    }
    record.status = next;
    Ok(())
}

impl Project {
    fn master_key(&self) -> Result<MasterKey> {
        MasterKey::for_store(self.store_url())
    }

    fn credential_record(&self, name: &str) -> Result<CredentialRecord> {
        self.store_ref().credential(name)?.ok_or_else(|| Error::NoCredential { name: name.to_string() })
    }

    /// Adds credential `name` with `value`, status pending. Refuses a name in use (rotate
    /// it instead).
    pub fn credential_add(&mut self, name: &str, value: &Secret, new: NewCredential) -> Result<CredentialRecord> {
        check_name(name)?;
        let provider = new.provider.ok_or_else(|| cred_error(name, "no provider type given"))?;
        if value.is_empty() {
            return Err(cred_error(name, "the value is empty"));
        }
        if let Some(ms) = new.rotate_every_ms.filter(|ms| *ms <= 0) {
            return Err(cred_error(name, format!("rotate_every must be longer than zero (got {ms} ms)")));
        }
        if self.store_ref().credential(name)?.is_some() {
            return Err(cred_error(name, "already exists; `twinsync credentials rotate` replaces its value"));
        }
        let key = self.master_key()?;
        let now = self.now();
        let record = CredentialRecord {
            name: name.to_string(),
            provider,
            status: CredentialStatus::Pending,
            sealed: seal(&key, name, value)?,
            key_id: key.id.clone(),
            metadata: new.metadata,
            created_at: now,
            updated_at: now,
            last_validated_at: None,
            rotated_at: None,
            rotate_every_ms: new.rotate_every_ms,
            rotation_due_at: new.rotate_every_ms.map(|ms| now.plus_millis(ms)),
            reminded_for: None,
        };
        self.store().put_credential(&record, &[])?;
        crate::logging::done("credential_add", name, self.actor(), name, 0, 1);
        Ok(record)
    }

    /// Every credential (metadata only), after moving overdue ones to expired and firing
    /// due reminders, so what is listed is where each stands now.
    pub fn credentials(&mut self) -> Result<Vec<CredentialRecord>> {
        self.credentials_check()?;
        Ok(self.store_ref().credentials()?)
    }

    /// One credential's metadata, brought up to date as [`Project::credentials`] does.
    pub fn credential(&mut self, name: &str) -> Result<CredentialRecord> {
        self.credentials_check()?;
        self.credential_record(name)
    }

    /// Replaces credential `name`'s value: valid again if it was valid or expired (a
    /// pending one stays pending until validated), with a new rotation date counted from
    /// now. `rotate_every_ms` replaces the period when given.
    pub fn credential_rotate(
        &mut self,
        name: &str,
        value: &Secret,
        rotate_every_ms: Option<i64>,
    ) -> Result<CredentialRecord> {
        let mut record = self.credential_record(name)?;
        if value.is_empty() {
            return Err(cred_error(name, "the new value is empty"));
        }
        if record.status == CredentialStatus::Revoked {
            return Err(cred_error(name, "is revoked; add a new credential instead"));
        }
        let key = self.master_key()?;
        let now = self.now();
        if record.status != CredentialStatus::Pending {
            move_to(&mut record, CredentialStatus::Valid)?;
        }
        if let Some(ms) = rotate_every_ms {
            if ms <= 0 {
                return Err(cred_error(name, format!("rotate_every must be longer than zero (got {ms} ms)")));
            }
            record.rotate_every_ms = Some(ms);
        }
        record.sealed = seal(&key, name, value)?;
        record.key_id = key.id.clone();
        record.rotated_at = Some(now);
        record.updated_at = now;
        record.rotation_due_at = record.rotate_every_ms.map(|ms| now.plus_millis(ms));
        record.reminded_for = None;
        self.store().put_credential(&record, &[])?;
        crate::logging::done("credential_rotate", name, self.actor(), name, 0, 1);
        Ok(record)
    }

    /// Revokes credential `name` for good and drops its sealed value: nothing can read it
    /// again, from this store or a copy made after.
    pub fn credential_revoke(&mut self, name: &str) -> Result<CredentialRecord> {
        let mut record = self.credential_record(name)?;
        move_to(&mut record, CredentialStatus::Revoked)?;
        record.sealed = Vec::new();
        record.updated_at = self.now();
        self.store().put_credential(&record, &[])?;
        crate::logging::done("credential_revoke", name, self.actor(), name, 0, 1);
        Ok(record)
    }

    /// Validates credential `name`: it must be in date, not revoked, and its value must open
    /// with this machine's master key and be non-empty. A pending one becomes valid; the
    /// validation time is recorded. twinsync does not call the provider: whether the
    /// provider still accepts the token is for the side that uses it to find out.
    pub fn credential_validate(&mut self, name: &str) -> Result<CredentialRecord> {
        self.credentials_check()?;
        let mut record = self.credential_record(name)?;
        match record.status {
            CredentialStatus::Revoked => return Err(cred_error(name, "is revoked")),
            CredentialStatus::Expired => {
                return Err(cred_error(name, "expired (its rotation date passed); `twinsync credentials rotate` it"))
            }
            CredentialStatus::Pending | CredentialStatus::Valid => {}
        }
        let key = self.master_key()?;
        if open(&key, &record)?.is_empty() {
            return Err(cred_error(name, "its value is empty"));
        }
        move_to(&mut record, CredentialStatus::Valid)?;
        let now = self.now();
        record.last_validated_at = Some(now);
        record.updated_at = now;
        self.store().put_credential(&record, &[])?;
        crate::logging::done("credential_validate", name, self.actor(), name, 0, 1);
        Ok(record)
    }

    /// The value of credential `name`, for a side that must present it (a git remote's
    /// token). Refuses revoked and expired ones. Never print it.
    pub fn credential_secret(&self, name: &str) -> Result<Secret> {
        let record = self.credential_record(name)?;
        match record.status {
            CredentialStatus::Revoked => Err(cred_error(name, "is revoked")),
            CredentialStatus::Expired => Err(cred_error(name, "expired; rotate it")),
            CredentialStatus::Pending | CredentialStatus::Valid => {
                let expired = record.rotation_due_at.is_some_and(|due| self.now() >= due);
                if expired {
                    return Err(cred_error(name, "expired; rotate it"));
                }
                open(&self.master_key()?, &record)
            }
        }
    }

    /// Moves credentials past their rotation date to expired, and fires a
    /// `credential_status` reminder once per rotation date for those due within
    /// `[credentials] remind_days`; each change is stored with its event in one
    /// transaction. Runs from every credentials command and from each delivery round
    /// (`notify run`, `watch`), so reminders reach webhooks without anyone listing.
    /// Returns the events fired.
    pub fn credentials_check(&mut self) -> Result<Vec<Event>> {
        let now = self.now();
        let remind_ms = i64::from(self.config().credentials.remind_days) * DAY_MS;
        let mut fired = Vec::new();
        for mut record in self.store_ref().credentials()? {
            let Some(due) = record.rotation_due_at else { continue };
            let event = match record.status {
                CredentialStatus::Revoked | CredentialStatus::Expired => continue,
                CredentialStatus::Pending | CredentialStatus::Valid if now >= due => {
                    move_to(&mut record, CredentialStatus::Expired)?;
                    status_event(now, &record, "expired")
                }
                _ if now >= due.plus_millis(-remind_ms) && record.reminded_for != Some(due) => {
                    record.reminded_for = Some(due);
                    status_event(now, &record, "rotation_due")
                }
                _ => continue,
            };
            record.updated_at = now;
            self.store().put_credential(&record, std::slice::from_ref(&event))?;
            tracing::info!(target: "twinsync", action = "credential_status", subject = %record.name,
                status = record.status.as_str(), correlation_id = %event.correlation_id, "credential reminder");
            fired.push(event);
        }
        Ok(fired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, sealed: Vec<u8>, key_id: &str) -> CredentialRecord {
        CredentialRecord {
            name: name.into(),
            provider: ProviderType::Design,
            status: CredentialStatus::Pending,
            sealed,
            key_id: key_id.into(),
            metadata: BTreeMap::new(),
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
            last_validated_at: None,
            rotated_at: None,
            rotate_every_ms: None,
            rotation_due_at: None,
            reminded_for: None,
        }
    }

    #[test]
    fn sealing_round_trips_and_binds_key_and_name() {
        let key = MasterKey::from_bytes([7; 32]);
        let value = Secret::new("figd_token-123");
        let sealed = seal(&key, "figma", &value).unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"figd_"), "no clear text in the sealed bytes");
        assert_ne!(seal(&key, "figma", &value).unwrap(), sealed, "a fresh nonce each time");
        assert_eq!(open(&key, &record("figma", sealed.clone(), &key.id)).unwrap(), value);

        let other = MasterKey::from_bytes([8; 32]);
        let e = open(&other, &record("figma", sealed.clone(), &key.id)).unwrap_err().to_string();
        assert!(e.contains(&key.id) && e.contains(&other.id) && e.contains(MASTER_KEY_ENV), "{e}");
        let e = open(&key, &record("slack", sealed.clone(), &key.id)).unwrap_err().to_string();
        assert!(e.contains("altered"), "moved onto another name: {e}");
        let mut flipped = sealed;
        *flipped.last_mut().unwrap() ^= 1;
        assert!(open(&key, &record("figma", flipped, &key.id)).is_err());
        assert!(!format!("{key:?}").contains("7, 7"), "Debug hides the key");
    }

    #[test]
    fn key_text_is_checked_without_echoing_it() {
        let e = MasterKey::decode("c2hvcnQta2V5", MASTER_KEY_ENV).unwrap_err().to_string();
        assert!(e.contains("9 bytes") && !e.contains("c2hvcnQta2V5"), "{e}");
        let e = MasterKey::decode("not base64 !!", MASTER_KEY_ENV).unwrap_err().to_string();
        assert!(e.contains("not base64") && !e.contains("!!"), "{e}");
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("twinsync").join("master.key");
        let first = MasterKey::from_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = MasterKey::from_file(&path).unwrap_err().to_string();
            assert!(e.contains("chmod 600"), "{e}");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(MasterKey::from_file(&path).unwrap().id, first.id, "the same key on the next use");
    }
}
