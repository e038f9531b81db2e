//! Events: what happened, as rows of the store's outbox. Every change a sync, an undo
//! or a lock makes is reported by an [`Event`] written in the same store transaction as
//! the change, and the store gives each one an increasing integer id. Everything that
//! takes events out of the process (`twinsync events`, webhooks, WebSocket, the
//! bindings' watch streams) reads that outbox from an id on; [`Transport`] is only for
//! handing events to a consumer in the same process.
//!
//! Payloads never carry a credential: constructors take names and states, never a
//! [`crate::secret::Secret`]'s value, and a host payload that holds a `Secret`
//! serialises it as `"[redacted]"`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::lock::Lock;

/// What an event reports. The names are the seeds' (`sync_completed`, `lock:acquired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum EventType {
    /// A sync began.
    #[serde(rename = "sync_started")]
    SyncStarted,
    /// A sync finished (completed or partial).
    #[serde(rename = "sync_completed")]
    SyncCompleted,
    /// A sync failed: nothing applied, or it stopped.
    #[serde(rename = "sync_failed")]
    SyncFailed,
    /// A conflict was left for a person.
    #[serde(rename = "conflict_detected")]
    ConflictDetected,
    /// The set of drifted items of a pair changed.
    #[serde(rename = "drift_detected")]
    DriftDetected,
    /// A coverage summary.
    #[serde(rename = "coverage_summary")]
    CoverageSummary,
    /// A lock was acquired.
    #[serde(rename = "lock:acquired")]
    LockAcquired,
    /// A lock was released.
    #[serde(rename = "lock:released")]
    LockReleased,
    /// A lock ran out of time and was cleared or taken over.
    #[serde(rename = "lock:expired")]
    LockExpired,
    /// A document changed on a side (with its new digest).
    #[serde(rename = "doc:updated")]
    DocUpdated,
    /// A credential's status changed (never its value).
    #[serde(rename = "credential_status")]
    CredentialStatus,
    /// A browser test failed.
    #[serde(rename = "browser_test_failure")]
    BrowserTestFailure,
    /// A periodic digest.
    #[serde(rename = "digest")]
    Digest,
}

impl EventType {
    /// Every type, in declaration order.
    pub const ALL: [EventType; 13] = [
        EventType::SyncStarted,
        EventType::SyncCompleted,
        EventType::SyncFailed,
        EventType::ConflictDetected,
        EventType::DriftDetected,
        EventType::CoverageSummary,
        EventType::LockAcquired,
        EventType::LockReleased,
        EventType::LockExpired,
        EventType::DocUpdated,
        EventType::CredentialStatus,
        EventType::BrowserTestFailure,
        EventType::Digest,
    ];

    /// The name used in JSON, the store and config files.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::SyncStarted => "sync_started",
            EventType::SyncCompleted => "sync_completed",
            EventType::SyncFailed => "sync_failed",
            EventType::ConflictDetected => "conflict_detected",
            EventType::DriftDetected => "drift_detected",
            EventType::CoverageSummary => "coverage_summary",
            EventType::LockAcquired => "lock:acquired",
            EventType::LockReleased => "lock:released",
            EventType::LockExpired => "lock:expired",
            EventType::DocUpdated => "doc:updated",
            EventType::CredentialStatus => "credential_status",
            EventType::BrowserTestFailure => "browser_test_failure",
            EventType::Digest => "digest",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A type name that is not one of [`EventType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}; expected one of sync_started, sync_completed, sync_failed, conflict_detected, drift_detected, coverage_summary, lock:acquired, lock:released, lock:expired, doc:updated, credential_status, browser_test_failure, digest")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| UnknownEventType(s.to_string()))
    }
}

/// The types a subscriber opted in to. Serialises as a list of snake_case names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Subscriptions(BTreeSet<EventType>);

impl Subscriptions {
    /// Every type.
    pub fn all() -> Self {
        Subscriptions(EventType::ALL.into_iter().collect())
    }
    /// No type (the default: delivery is opt-in).
    pub fn none() -> Self {
        Subscriptions(BTreeSet::new())
    }
    /// These types.
    pub fn of(types: impl IntoIterator<Item = EventType>) -> Self {
        Subscriptions(types.into_iter().collect())
    }
    /// Adds a type.
    pub fn with(mut self, event_type: EventType) -> Self {
        self.0.insert(event_type);
        self
    }
    /// Removes a type.
    pub fn without(mut self, event_type: EventType) -> Self {
        self.0.remove(&event_type);
        self
    }
    /// Whether `type` is delivered.
    pub fn contains(&self, event_type: EventType) -> bool {
        self.0.contains(&event_type)
    }
    /// The subscribed types, in order.
    pub fn iter(&self) -> impl Iterator<Item = EventType> + '_ {
        self.0.iter().copied()
    }
}

impl FromStr for Subscriptions {
    type Err = UnknownEventType;
    /// Parses `all`, `none`, or a comma-separated list of type names (CLI flags).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "all" => Ok(Subscriptions::all()),
            "none" | "" => Ok(Subscriptions::none()),
            list => list.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>().map(Subscriptions),
        }
    }
}

/// One event: a row of the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Event {
    /// Increasing id the store gives it (0 until stored).
    pub id: u64,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it happened.
    pub time: Timestamp,
    /// The pair it concerns (empty for the project: locks, digests).
    pub pair: String,
    /// Ties the events of one operation together (the operation id, a lock's id).
    pub correlation_id: String,
    /// Type-specific details.
    pub payload: serde_json::Value,
}

/// The state of a credential as events report it (the value itself is never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialState {
    /// Present and accepted.
    Valid,
    /// Accepted but close to its expiry.
    Expiring,
    /// Past its expiry.
    Expired,
    /// Rejected by the service.
    Rejected,
    /// Not configured.
    Missing,
}

impl Event {
    /// An event not yet stored.
    pub fn new(
        event_type: EventType,
        time: Timestamp,
        pair: &str,
        correlation_id: &str,
        payload: serde_json::Value,
    ) -> Self {
        Event { id: 0, event_type, time, pair: pair.to_string(), correlation_id: correlation_id.to_string(), payload }
    }

    /// `sync_started`: an operation of `pair` began with `planned` actions.
    pub fn sync_started(time: Timestamp, pair: &str, operation_id: &str, trigger: &str, planned: usize) -> Self {
        Self::new(
            EventType::SyncStarted,
            time,
            pair,
            operation_id,
            serde_json::json!({ "operation_id": operation_id, "trigger": trigger, "planned": planned }),
        )
    }

    /// `sync_completed` or `sync_failed`, by the report's status: id, status, counts, duration.
    pub fn sync_finished(time: Timestamp, report: &crate::report::OperationReport) -> Self {
        let event_type = if report.status == crate::report::OperationStatus::Failed {
            EventType::SyncFailed
        } else {
            EventType::SyncCompleted
        };
        Self::new(
            event_type,
            time,
            &report.scope,
            &report.operation_id,
            serde_json::json!({
                "operation_id": report.operation_id,
                "status": report.status,
                "counts": report.counts,
                "duration_ms": report.duration_ms,
            }),
        )
    }

    /// `sync_failed`: a sync of `pair` stopped with `error` before it could finish.
    pub fn sync_failed(time: Timestamp, pair: &str, correlation_id: &str, error: &str) -> Self {
        Self::new(EventType::SyncFailed, time, pair, correlation_id, serde_json::json!({ "error": error }))
    }

    /// `conflict_detected`: item `key` of `pair` needs a person.
    pub fn conflict_detected(
        time: Timestamp,
        pair: &str,
        operation_id: &str,
        key: &str,
        class: &impl Serialize,
        reason: &str,
    ) -> Self {
        Self::new(
            EventType::ConflictDetected,
            time,
            pair,
            operation_id,
            serde_json::json!({ "operation_id": operation_id, "key": key, "class": class, "reason": reason }),
        )
    }

    /// `drift_detected`: the drifted items of `pair` are now `summary`.
    pub fn drift_detected(time: Timestamp, pair: &str, summary: serde_json::Value) -> Self {
        Self::new(EventType::DriftDetected, time, pair, "", summary)
    }

    /// `coverage_summary`: the totals of a coverage report.
    pub fn coverage_summary(
        time: Timestamp,
        pair: &str,
        correlation_id: &str,
        totals: &crate::coverage::CoverageTotals,
    ) -> Self {
        Self::new(
            EventType::CoverageSummary,
            time,
            pair,
            correlation_id,
            serde_json::to_value(totals).unwrap_or(serde_json::Value::Null),
        )
    }

    /// `lock:acquired`: name, owner, reason and expiry — never the token.
    pub fn lock_acquired(time: Timestamp, lock: &Lock) -> Self {
        Self::new(
            EventType::LockAcquired,
            time,
            "",
            &lock_correlation(lock),
            serde_json::json!({
                "name": lock.name,
                "owner": lock.owner,
                "reason": lock.reason,
                "expires_at": lock.expires_at,
            }),
        )
    }

    /// `lock:released`: who held the lock, who released it, and whether it was forced.
    pub fn lock_released(time: Timestamp, lock: &Lock, released_by: &str, forced: bool) -> Self {
        Self::new(
            EventType::LockReleased,
            time,
            "",
            &lock_correlation(lock),
            serde_json::json!({ "name": lock.name, "owner": lock.owner, "released_by": released_by, "forced": forced }),
        )
    }

    /// `lock:expired`: the lock's time ran out before it was released.
    pub fn lock_expired(time: Timestamp, lock: &Lock) -> Self {
        Self::new(
            EventType::LockExpired,
            time,
            "",
            &lock_correlation(lock),
            serde_json::json!({ "name": lock.name, "owner": lock.owner, "expired_at": lock.expires_at }),
        )
    }

    /// `doc:updated`: item `key` on `side` of `pair` now has `digest` (`None`: deleted).
    pub fn doc_updated(
        time: Timestamp,
        pair: &str,
        operation_id: &str,
        key: &str,
        side: crate::policy::Side,
        digest: Option<&crate::digest::Digest>,
    ) -> Self {
        Self::new(
            EventType::DocUpdated,
            time,
            pair,
            operation_id,
            // `docId` and `hash` are the team platform's names for `key` and `digest`
            // (its clients read `doc:updated {projectId, docId, hash}`; the server adds
            // `projectId`); webhooks already read the snake_case ones, so both stay.
            serde_json::json!({
                "operation_id": operation_id, "key": key, "side": side, "digest": digest.map(|d| d.to_string()),
                "docId": key, "hash": digest.map(|d| d.to_string()),
            }),
        )
    }

    /// `credential_status`: credential `name` is now `state`. Takes no value on purpose.
    pub fn credential_status(time: Timestamp, name: &str, state: CredentialState, detail: Option<&str>) -> Self {
        Self::new(
            EventType::CredentialStatus,
            time,
            "",
            name,
            serde_json::json!({ "name": name, "state": state, "detail": detail }),
        )
    }

    /// `browser_test_failure`: test `test` of `component` failed with `message`.
    pub fn browser_test_failure(time: Timestamp, pair: &str, component: &str, test: &str, message: &str) -> Self {
        Self::new(
            EventType::BrowserTestFailure,
            time,
            pair,
            component,
            serde_json::json!({ "component": component, "test": test, "message": message }),
        )
    }

    /// `digest`: a periodic summary the host assembles.
    pub fn digest(time: Timestamp, correlation_id: &str, summary: &impl Serialize) -> Result<Self, serde_json::Error> {
        Ok(Self::new(EventType::Digest, time, "", correlation_id, serde_json::to_value(summary)?))
    }
}

fn lock_correlation(lock: &Lock) -> String {
    format!("lock:{}:{}", lock.name, lock.acquired_at.millis())
}

/// A delivery failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transport: {0}")]
pub struct TransportError(pub String);

/// Delivers event envelopes (a webhook, a websocket, a channel). Hosts provide it.
pub trait Transport: Send + Sync {
    /// Sends one event.
    fn send(&self, event: &Event) -> Result<(), TransportError>;
}

/// Delivers events into a std `mpsc` channel, for a consumer thread in the same process.
///
/// The bounded form refuses an event when the consumer is `capacity` events behind,
/// rather than blocking the sync; the event is still in the outbox.
#[derive(Debug)]
pub struct ChannelTransport(ChannelSender);

#[derive(Debug)]
enum ChannelSender {
    Unbounded(mpsc::Sender<Event>),
    Bounded(mpsc::SyncSender<Event>),
}

impl ChannelTransport {
    /// A transport and the receiver its events arrive on; never full.
    pub fn unbounded() -> (Self, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel();
        (ChannelTransport(ChannelSender::Unbounded(tx)), rx)
    }
    /// A transport whose channel holds at most `capacity` undelivered events.
    pub fn bounded(capacity: usize) -> (Self, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::sync_channel(capacity);
        (ChannelTransport(ChannelSender::Bounded(tx)), rx)
    }
}

impl Transport for ChannelTransport {
    fn send(&self, event: &Event) -> Result<(), TransportError> {
        let closed = || TransportError(format!("event {}: channel receiver is gone", event.id));
        match &self.0 {
            ChannelSender::Unbounded(tx) => tx.send(event.clone()).map_err(|_| closed()),
            ChannelSender::Bounded(tx) => tx.try_send(event.clone()).map_err(|e| match e {
                mpsc::TrySendError::Full(_) => TransportError(format!("event {}: channel is full", event.id)),
                mpsc::TrySendError::Disconnected(_) => closed(),
            }),
        }
    }
}

/// Keeps every event it is sent, in order (an in-app inbox, or a test's eyes).
#[derive(Debug, Default)]
pub struct CollectingTransport(Mutex<Vec<Event>>);

impl CollectingTransport {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }
    /// The events received so far.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Takes the events received so far, leaving it empty.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Transport for CollectingTransport {
    fn send(&self, event: &Event) -> Result<(), TransportError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(event.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip_through_serde_and_from_str() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>().unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(t.as_str()));
            assert_eq!(serde_json::from_value::<EventType>(serde_json::json!(t.as_str())).unwrap(), t);
        }
        assert!("lock_acquired".parse::<EventType>().unwrap_err().to_string().contains("lock:acquired"));
    }
}
