//! Events and their delivery: categories, envelopes, the `Transport` trait, and
//! per-category opt-in.
//!
//! PLACEHOLDER: types only; transports and subscriptions land with the event work.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// What an event is about; subscribers opt in per category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventCategory {
    /// A sync began.
    SyncStarted,
    /// A sync finished.
    SyncCompleted,
    /// A sync failed.
    SyncFailed,
    /// A conflict was left for a person.
    Conflict,
    /// Drift was found.
    Drift,
    /// A coverage summary.
    CoverageSummary,
    /// A lock was acquired.
    LockAcquired,
    /// A lock was released.
    LockReleased,
    /// A document changed.
    DocUpdated,
    /// A credential's status changed (never its value).
    CredentialStatus,
    /// A test failed.
    TestFailure,
    /// A periodic digest.
    Digest,
}

/// Delivery state of a queued event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    /// Waiting for its first delivery.
    Queued,
    /// Delivery failed; will be tried again.
    Retrying,
    /// Delivered.
    Sent,
    /// Gave up.
    Failed,
}

/// One event as sent through a transport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Unique id.
    pub id: String,
    /// Category.
    pub category: EventCategory,
    /// When it happened.
    pub at: Timestamp,
    /// Ties events of one operation together.
    pub correlation_id: String,
    /// Category-specific details.
    pub payload: serde_json::Value,
}

/// A delivery failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transport: {0}")]
pub struct TransportError(pub String);

/// Delivers event envelopes (a webhook, a websocket, a channel). Hosts provide it.
pub trait Transport: Send + Sync {
    /// Sends one event.
    fn send(&self, event: &EventEnvelope) -> Result<(), TransportError>;
}
