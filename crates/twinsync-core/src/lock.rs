//! Locks: one holder at a time, an owner token, a TTL (default 30 minutes), renew and
//! release by the holder only, expiry judged by the injected clock.
//!
//! This module owns the lock transitions. [`LockManager`] runs each one as a single
//! read-modify-write through [`Store::update_lock`], so two processes sharing a store
//! cannot both win an acquire. It records acquire, release and force-release in the
//! audit log and writes `lock:acquired`, `lock:released` and `lock:expired` to the outbox in the
//! same transaction as the lock row.
//!
//! Tokens: the core has no random number generator of its own, so a token is derived as
//! SHA-256 over the lock name, owner and time, a process-wide counter, the address of a
//! stack variable, and two 64-bit hashes from std's `RandomState` (whose keys std seeds
//! from the operating system once per thread). The first 128 bits are the token. That is
//! unguessable enough for a local tool; hosts that want their own tokens pass one in
//! [`LockRequest::token`].

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::audit::AuditRecord;
use crate::clock::{Clock, Timestamp};
use crate::error::Error;
use crate::event::Event;
use crate::store::{LockChange, Store};

/// Default lock lifetime: 30 minutes.
pub const DEFAULT_TTL_MS: i64 = 30 * 60 * 1000;

/// A held lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// What is locked (`project`, a path, a change id).
    pub name: String,
    /// Who holds it.
    pub owner: String,
    /// The holder's token, shown once at acquire; proves ownership for renew and release.
    pub token: String,
    /// Why it was taken.
    pub reason: Option<String>,
    /// When acquired.
    pub acquired_at: Timestamp,
    /// When it lapses unless renewed.
    pub expires_at: Timestamp,
}

impl Lock {
    /// Whether the lock still holds at `now` (it lapses at `expires_at`).
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }

    /// Whether `caller` (an owner name or the token) may renew or release it.
    pub fn is_held_by(&self, caller: &str) -> bool {
        caller == self.owner || (!self.token.is_empty() && constant_time_eq(caller.as_bytes(), self.token.as_bytes()))
    }

    /// A copy without the token, for showing to anyone but the holder.
    pub fn without_token(&self) -> Lock {
        Lock { token: String::new(), ..self.clone() }
    }
}

/// Why a lock request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Someone else holds it.
    #[error("lock {name:?} is held by {owner} until {expires_at}")]
    Held {
        /// The lock.
        name: String,
        /// The holder.
        owner: String,
        /// When it lapses.
        expires_at: Timestamp,
    },
    /// Renew or release by someone who is not the holder.
    #[error("lock {name:?} is not held by {caller}")]
    NotOwner {
        /// The lock.
        name: String,
        /// Who asked.
        caller: String,
    },
    /// Nobody holds it (or it expired).
    #[error("lock {0:?} is not held")]
    NotHeld(String),
}

/// What an acquire asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRequest {
    /// What to lock.
    pub name: String,
    /// Who asks.
    pub owner: String,
    /// Lifetime in milliseconds (default [`DEFAULT_TTL_MS`]).
    pub ttl_ms: i64,
    /// Why (shown to others who find it held).
    pub reason: Option<String>,
    /// The host's own token; `None` derives one (see the module docs).
    pub token: Option<String>,
}

impl LockRequest {
    /// A request for `name` by `owner` with the default TTL.
    pub fn new(name: impl Into<String>, owner: impl Into<String>) -> Self {
        LockRequest { name: name.into(), owner: owner.into(), ttl_ms: DEFAULT_TTL_MS, reason: None, token: None }
    }
    /// Sets the lifetime in milliseconds.
    pub fn ttl_ms(mut self, ttl_ms: i64) -> Self {
        self.ttl_ms = ttl_ms;
        self
    }
    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
    /// Uses the host's token instead of deriving one.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
}

/// Shortest token a host may pass: 16 characters.
pub const MIN_TOKEN_LEN: usize = 16;

/// Runs lock transitions against a store, with time from a clock.
pub struct LockManager<'a> {
    store: &'a mut dyn Store,
    clock: &'a dyn Clock,
}

impl std::fmt::Debug for LockManager<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockManager").finish_non_exhaustive()
    }
}

impl<'a> LockManager<'a> {
    /// A manager over `store`, judging expiry by `clock`.
    pub fn new(store: &'a mut dyn Store, clock: &'a dyn Clock) -> Self {
        LockManager { store, clock }
    }

    /// Takes lock `req.name` for `req.owner`. A lock that expired is taken over; the same
    /// owner asking again refreshes the expiry and reason and keeps the token it was
    /// given; anyone else is refused with [`LockError::Held`]. Returns the lock with its
    /// token — the only call that shows it.
    pub fn acquire(&mut self, req: &LockRequest) -> Result<Lock, Error> {
        check_name(&req.name)?;
        check_field("owner", &req.name, &req.owner)?;
        check_ttl(&req.name, req.ttl_ms)?;
        if let Some(t) = &req.token {
            if t.chars().count() < MIN_TOKEN_LEN || t.chars().any(char::is_whitespace) {
                return Err(Error::InvalidInput(format!(
                    "lock {:?}: a token must be at least {MIN_TOKEN_LEN} characters without whitespace",
                    req.name
                )));
            }
        }
        let now = self.clock.now();
        let mut refreshed = false;
        let result = self.store.update_lock(&req.name, &mut |current| match current {
            Some(l) if l.is_live(now) && l.owner != req.owner => {
                Err(LockError::Held { name: l.name, owner: l.owner, expires_at: l.expires_at })
            }
            Some(l) if l.is_live(now) => {
                refreshed = true;
                let lock = Lock { reason: req.reason.clone(), expires_at: now.plus_millis(req.ttl_ms), ..l };
                Ok(LockChange::quiet(Some(lock)))
            }
            lapsed => {
                let lock = Lock {
                    name: req.name.clone(),
                    owner: req.owner.clone(),
                    token: req.token.clone().unwrap_or_else(|| {
                        fresh_token(&[req.name.as_bytes(), req.owner.as_bytes(), &now.millis().to_be_bytes()])
                    }),
                    reason: req.reason.clone(),
                    acquired_at: now,
                    expires_at: now.plus_millis(req.ttl_ms),
                };
                let mut events: Vec<Event> = lapsed.iter().map(|old| Event::lock_expired(now, old)).collect();
                events.push(Event::lock_acquired(now, &lock));
                Ok(LockChange { lock: Some(lock), events })
            }
        })?;
        let lock =
            result?.ok_or_else(|| Error::InvalidInput(format!("lock {:?}: store returned no lock", req.name)))?;
        let action = if refreshed { "lock.refresh" } else { "lock.acquire" };
        self.audit(action, &req.owner, &lock.name, Some(format!("held by {} until {}", lock.owner, lock.expires_at)))?;
        Ok(lock)
    }

    /// Extends lock `name` to `ttl_ms` from now. Only the holder (owner name or token)
    /// may renew; an expired lock cannot be renewed ([`LockError::NotHeld`]).
    pub fn renew(&mut self, name: &str, caller: &str, ttl_ms: i64) -> Result<Lock, Error> {
        check_name(name)?;
        check_ttl(name, ttl_ms)?;
        let now = self.clock.now();
        let result = self.store.update_lock(name, &mut |current| match current {
            Some(l) if !l.is_live(now) => Err(LockError::NotHeld(name.to_string())),
            Some(l) if !l.is_held_by(caller) => {
                Err(LockError::NotOwner { name: name.to_string(), caller: caller_label(caller, &l) })
            }
            Some(l) => Ok(LockChange::quiet(Some(Lock { expires_at: now.plus_millis(ttl_ms), ..l }))),
            None => Err(LockError::NotHeld(name.to_string())),
        })?;
        let lock = result?.ok_or_else(|| Error::InvalidInput(format!("lock {name:?}: store returned no lock")))?;
        Ok(lock.without_token())
    }

    /// Releases lock `name`. Only the holder (owner name or token) may; an expired lock is
    /// cleared and reported as [`LockError::NotHeld`]. Returns the released lock.
    pub fn release(&mut self, name: &str, caller: &str) -> Result<Lock, Error> {
        check_name(name)?;
        let now = self.clock.now();
        let mut released = None;
        let result = self.store.update_lock(name, &mut |current| match current {
            // Lapsed: clear the row (nobody holds it anyway) and say so.
            Some(l) if !l.is_live(now) => Ok(LockChange { lock: None, events: vec![Event::lock_expired(now, &l)] }),
            Some(l) if !l.is_held_by(caller) => {
                Err(LockError::NotOwner { name: name.to_string(), caller: caller_label(caller, &l) })
            }
            Some(l) => {
                let event = Event::lock_released(now, &l, &caller_label(caller, &l), false);
                released = Some(l);
                Ok(LockChange { lock: None, events: vec![event] })
            }
            None => Err(LockError::NotHeld(name.to_string())),
        })?;
        result?;
        let lock = released.ok_or_else(|| LockError::NotHeld(name.to_string()))?;
        let who = caller_label(caller, &lock);
        self.audit("lock.release", &who, name, None)?;
        Ok(lock.without_token())
    }

    /// Clears lock `name` whoever holds it, recording `actor` and `reason` in the audit log.
    /// Returns the lock that was live, if any.
    pub fn force_release(&mut self, name: &str, actor: &str, reason: Option<&str>) -> Result<Option<Lock>, Error> {
        check_name(name)?;
        check_field("actor", name, actor)?;
        let now = self.clock.now();
        let mut previous = None;
        self.store
            .update_lock(name, &mut |current| {
                let events = match &current {
                    Some(l) if l.is_live(now) => vec![Event::lock_released(now, l, actor, true)],
                    Some(l) => vec![Event::lock_expired(now, l)],
                    None => vec![],
                };
                previous = current.filter(|l| l.is_live(now));
                Ok(LockChange { lock: None, events })
            })?
            .map_err(Error::from)?;
        let detail = match (&previous, reason) {
            (Some(l), r) => format!(
                "forced release of lock held by {} since {}{}",
                l.owner,
                l.acquired_at,
                r.map(|r| format!(": {r}")).unwrap_or_default()
            ),
            (None, r) => format!("lock was not held{}", r.map(|r| format!(": {r}")).unwrap_or_default()),
        };
        self.audit_with("lock.force_release", actor, name, previous.is_some(), Some(detail))?;
        Ok(previous.map(|l| l.without_token()))
    }

    /// The live lock `name`, without its token (`None`: free or expired).
    pub fn status(&self, name: &str) -> Result<Option<Lock>, Error> {
        let now = self.clock.now();
        Ok(self.store.locks()?.into_iter().find(|l| l.name == name && l.is_live(now)).map(|l| l.without_token()))
    }

    /// Every live lock, without tokens, by name.
    pub fn list(&self) -> Result<Vec<Lock>, Error> {
        let now = self.clock.now();
        let mut locks: Vec<Lock> =
            self.store.locks()?.into_iter().filter(|l| l.is_live(now)).map(|l| l.without_token()).collect();
        locks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(locks)
    }

    fn audit(&mut self, action: &str, actor: &str, name: &str, detail: Option<String>) -> Result<(), Error> {
        self.audit_with(action, actor, name, true, detail)
    }

    fn audit_with(
        &mut self,
        action: &str,
        actor: &str,
        name: &str,
        success: bool,
        detail: Option<String>,
    ) -> Result<(), Error> {
        self.store.append_audit(&AuditRecord {
            id: String::new(),
            correlation_id: format!("lock:{name}"),
            actor: actor.to_string(),
            action: action.to_string(),
            success,
            counts: serde_json::json!({ "lock": name }),
            duration_ms: 0,
            at: self.clock.now(),
            detail,
        })?;
        Ok(())
    }
}

/// Names the caller in errors and audit records without echoing a token back.
fn caller_label(caller: &str, lock: &Lock) -> String {
    if caller == lock.owner {
        caller.to_string()
    } else if lock.is_held_by(caller) {
        format!("{} (by token)", lock.owner)
    } else if caller.chars().count() >= MIN_TOKEN_LEN {
        "a caller with a token that does not match".to_string()
    } else {
        caller.to_string()
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.chars().any(char::is_control) || name.len() > 512 {
        return Err(Error::InvalidInput(format!(
            "lock name {name:?} must be 1 to 512 bytes without control characters"
        )));
    }
    Ok(())
}

fn check_field(what: &str, name: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::InvalidInput(format!("lock {name:?}: {what} must not be empty")));
    }
    Ok(())
}

fn check_ttl(name: &str, ttl_ms: i64) -> Result<(), Error> {
    if ttl_ms <= 0 {
        return Err(Error::InvalidInput(format!("lock {name:?}: ttl must be positive, got {ttl_ms} ms")));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= std::hint::black_box(x ^ y);
    }
    diff == 0
}

static TOKEN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// 128 bits as 32 hex digits, derived from `parts` and process entropy (see the module
/// docs). Two calls never return the same token within a process.
pub fn fresh_token(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    let n = TOKEN_COUNTER.fetch_add(1, Ordering::Relaxed);
    h.update(n.to_be_bytes());
    let local = 0u8;
    h.update((std::ptr::addr_of!(local) as usize).to_be_bytes());
    let rs = std::collections::hash_map::RandomState::new();
    h.update(rs.hash_one(n).to_be_bytes());
    h.update(rs.hash_one((n, "twinsync-token")).to_be_bytes());
    let out = h.finalize();
    out[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_128_bit_hex_and_distinct() {
        let a = fresh_token(&[b"project", b"ana"]);
        let b = fresh_token(&[b"project", b"ana"]);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
