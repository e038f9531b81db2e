//! Locks: one holder at a time, an owner token, a TTL (default 30 minutes), renew and
//! release by the owner only, expiry judged by the injected clock.
//!
//! PLACEHOLDER: types only; the transition logic lands with the lock work.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

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
