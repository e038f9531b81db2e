//! Events and their delivery: categories, envelopes and their constructors, the
//! `Transport` trait with in-process transports, per-category opt-in
//! ([`Subscriptions`]), and the [`Notifier`] that sends what is subscribed and keeps
//! failed deliveries in the store for retry with exponential backoff.
//!
//! Payloads never carry a credential: constructors take names and states, never a
//! [`crate::secret::Secret`]'s value, and a host payload that holds a `Secret`
//! serialises it as `"[redacted]"`.
//!
//! Delivery bookkeeping (attempts, when the next attempt is due) lives in the store's
//! key-value space under [`DELIVERY_NAMESPACE`], keyed by event id, because the
//! `Store` event queue keeps a status and an attempt count but has no way to read them
//! back or to hold a due time.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::lock::Lock;
use crate::store::{Store, StoreError};

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

impl EventCategory {
    /// Every category, in declaration order.
    pub const ALL: [EventCategory; 12] = [
        EventCategory::SyncStarted,
        EventCategory::SyncCompleted,
        EventCategory::SyncFailed,
        EventCategory::Conflict,
        EventCategory::Drift,
        EventCategory::CoverageSummary,
        EventCategory::LockAcquired,
        EventCategory::LockReleased,
        EventCategory::DocUpdated,
        EventCategory::CredentialStatus,
        EventCategory::TestFailure,
        EventCategory::Digest,
    ];

    /// The snake_case name used in JSON and config files.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventCategory::SyncStarted => "sync_started",
            EventCategory::SyncCompleted => "sync_completed",
            EventCategory::SyncFailed => "sync_failed",
            EventCategory::Conflict => "conflict",
            EventCategory::Drift => "drift",
            EventCategory::CoverageSummary => "coverage_summary",
            EventCategory::LockAcquired => "lock_acquired",
            EventCategory::LockReleased => "lock_released",
            EventCategory::DocUpdated => "doc_updated",
            EventCategory::CredentialStatus => "credential_status",
            EventCategory::TestFailure => "test_failure",
            EventCategory::Digest => "digest",
        }
    }
}

impl fmt::Display for EventCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A category name that is not one of [`EventCategory::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event category {0:?}; expected one of sync_started, sync_completed, sync_failed, conflict, drift, coverage_summary, lock_acquired, lock_released, doc_updated, credential_status, test_failure, digest")]
pub struct UnknownCategory(pub String);

impl FromStr for EventCategory {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventCategory::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

/// The categories a subscriber opted in to. Serialises as a list of snake_case names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Subscriptions(BTreeSet<EventCategory>);

impl Subscriptions {
    /// Every category.
    pub fn all() -> Self {
        Subscriptions(EventCategory::ALL.into_iter().collect())
    }
    /// No category (the default: delivery is opt-in).
    pub fn none() -> Self {
        Subscriptions(BTreeSet::new())
    }
    /// These categories.
    pub fn of(categories: impl IntoIterator<Item = EventCategory>) -> Self {
        Subscriptions(categories.into_iter().collect())
    }
    /// Adds a category.
    pub fn with(mut self, category: EventCategory) -> Self {
        self.0.insert(category);
        self
    }
    /// Removes a category.
    pub fn without(mut self, category: EventCategory) -> Self {
        self.0.remove(&category);
        self
    }
    /// Whether `category` is delivered.
    pub fn contains(&self, category: EventCategory) -> bool {
        self.0.contains(&category)
    }
    /// The subscribed categories, in order.
    pub fn iter(&self) -> impl Iterator<Item = EventCategory> + '_ {
        self.0.iter().copied()
    }
}

impl FromStr for Subscriptions {
    type Err = UnknownCategory;
    /// Parses `all`, `none`, or a comma-separated list of category names (CLI flags).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "all" => Ok(Subscriptions::all()),
            "none" | "" => Ok(Subscriptions::none()),
            list => list.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>().map(Subscriptions),
        }
    }
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

impl EventEnvelope {
    /// An event with a fresh id (`evt-` and 128 bits of hex, see [`crate::lock::fresh_token`]).
    pub fn new(category: EventCategory, at: Timestamp, correlation_id: &str, payload: serde_json::Value) -> Self {
        let id = format!(
            "evt-{}",
            crate::lock::fresh_token(&[
                category.as_str().as_bytes(),
                &at.millis().to_be_bytes(),
                correlation_id.as_bytes()
            ])
        );
        EventEnvelope { id, category, at, correlation_id: correlation_id.to_string(), payload }
    }

    /// `sync_started`: a sync of `scope` began, set off by `trigger`.
    pub fn sync_started(at: Timestamp, correlation_id: &str, scope: &str, trigger: &str) -> Self {
        Self::new(
            EventCategory::SyncStarted,
            at,
            correlation_id,
            serde_json::json!({ "scope": scope, "trigger": trigger }),
        )
    }

    /// `sync_completed`: the operation's id, scope, status, counts and duration.
    pub fn sync_completed(at: Timestamp, report: &crate::report::OperationReport) -> Self {
        Self::new(
            EventCategory::SyncCompleted,
            at,
            &report.operation_id,
            serde_json::json!({
                "operation_id": report.operation_id,
                "scope": report.scope,
                "status": report.status,
                "counts": report.counts,
                "duration_ms": report.duration_ms,
            }),
        )
    }

    /// `sync_failed`: a sync of `scope` stopped with `error`.
    pub fn sync_failed(at: Timestamp, correlation_id: &str, scope: &str, error: &str) -> Self {
        Self::new(EventCategory::SyncFailed, at, correlation_id, serde_json::json!({ "scope": scope, "error": error }))
    }

    /// `conflict`: item `key` of `scope` needs a person.
    pub fn conflict(at: Timestamp, correlation_id: &str, scope: &str, key: &str, reason: &str) -> Self {
        Self::new(
            EventCategory::Conflict,
            at,
            correlation_id,
            serde_json::json!({ "scope": scope, "key": key, "reason": reason }),
        )
    }

    /// `drift`: a summary of what differs in `scope` (counts by class, say).
    pub fn drift(
        at: Timestamp,
        correlation_id: &str,
        scope: &str,
        summary: &impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        let summary = serde_json::to_value(summary)?;
        Ok(Self::new(
            EventCategory::Drift,
            at,
            correlation_id,
            serde_json::json!({ "scope": scope, "summary": summary }),
        ))
    }

    /// `coverage_summary`: the totals of a coverage report.
    pub fn coverage_summary(at: Timestamp, correlation_id: &str, totals: &crate::coverage::CoverageTotals) -> Self {
        Self::new(
            EventCategory::CoverageSummary,
            at,
            correlation_id,
            serde_json::to_value(totals).unwrap_or(serde_json::Value::Null),
        )
    }

    /// `lock_acquired`: name, owner, reason and expiry — never the token.
    pub fn lock_acquired(at: Timestamp, correlation_id: &str, lock: &Lock) -> Self {
        Self::new(
            EventCategory::LockAcquired,
            at,
            correlation_id,
            serde_json::json!({
                "name": lock.name,
                "owner": lock.owner,
                "reason": lock.reason,
                "expires_at": lock.expires_at,
            }),
        )
    }

    /// `lock_released`: who held lock `name`, who released it, and whether it was forced.
    pub fn lock_released(
        at: Timestamp,
        correlation_id: &str,
        name: &str,
        owner: &str,
        released_by: &str,
        forced: bool,
    ) -> Self {
        Self::new(
            EventCategory::LockReleased,
            at,
            correlation_id,
            serde_json::json!({ "name": name, "owner": owner, "released_by": released_by, "forced": forced }),
        )
    }

    /// `doc_updated`: document `key` now has `digest` (`None`: deleted).
    pub fn doc_updated(at: Timestamp, correlation_id: &str, key: &str, digest: Option<&crate::digest::Digest>) -> Self {
        Self::new(
            EventCategory::DocUpdated,
            at,
            correlation_id,
            serde_json::json!({ "key": key, "digest": digest.map(|d| d.to_string()) }),
        )
    }

    /// `credential_status`: credential `name` is now `state`. Takes no value on purpose.
    pub fn credential_status(
        at: Timestamp,
        correlation_id: &str,
        name: &str,
        state: CredentialState,
        detail: Option<&str>,
    ) -> Self {
        Self::new(
            EventCategory::CredentialStatus,
            at,
            correlation_id,
            serde_json::json!({ "name": name, "state": state, "detail": detail }),
        )
    }

    /// `test_failure`: test `test` of `component` failed with `message`.
    pub fn test_failure(at: Timestamp, correlation_id: &str, component: &str, test: &str, message: &str) -> Self {
        Self::new(
            EventCategory::TestFailure,
            at,
            correlation_id,
            serde_json::json!({ "component": component, "test": test, "message": message }),
        )
    }

    /// `digest`: a periodic summary the host assembles.
    pub fn digest(at: Timestamp, correlation_id: &str, summary: &impl Serialize) -> Result<Self, serde_json::Error> {
        Ok(Self::new(EventCategory::Digest, at, correlation_id, serde_json::to_value(summary)?))
    }
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

/// Delivers events into a std `mpsc` channel, for a consumer thread in the same process.
///
/// The bounded form refuses an event when the consumer is `capacity` events behind,
/// rather than blocking the sync; the notifier keeps it for retry.
#[derive(Debug)]
pub struct ChannelTransport(ChannelSender);

#[derive(Debug)]
enum ChannelSender {
    Unbounded(mpsc::Sender<EventEnvelope>),
    Bounded(mpsc::SyncSender<EventEnvelope>),
}

impl ChannelTransport {
    /// A transport and the receiver its events arrive on; never full.
    pub fn unbounded() -> (Self, mpsc::Receiver<EventEnvelope>) {
        let (tx, rx) = mpsc::channel();
        (ChannelTransport(ChannelSender::Unbounded(tx)), rx)
    }
    /// A transport whose channel holds at most `capacity` undelivered events.
    pub fn bounded(capacity: usize) -> (Self, mpsc::Receiver<EventEnvelope>) {
        let (tx, rx) = mpsc::sync_channel(capacity);
        (ChannelTransport(ChannelSender::Bounded(tx)), rx)
    }
}

impl Transport for ChannelTransport {
    fn send(&self, event: &EventEnvelope) -> Result<(), TransportError> {
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
pub struct CollectingTransport(Mutex<Vec<EventEnvelope>>);

impl CollectingTransport {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }
    /// The events received so far.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Takes the events received so far, leaving it empty.
    pub fn take(&self) -> Vec<EventEnvelope> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Transport for CollectingTransport {
    fn send(&self, event: &EventEnvelope) -> Result<(), TransportError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(event.clone());
        Ok(())
    }
}

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Attempts in all, the first included, before an event is marked failed (default 5).
    pub max_attempts: u32,
    /// Wait after the first failure in milliseconds; doubles after each further failure
    /// (default 1 s).
    pub base_delay_ms: i64,
    /// Longest wait between attempts in milliseconds (default 5 min).
    pub max_delay_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base_delay_ms: 1000, max_delay_ms: 5 * 60 * 1000 }
    }
}

impl RetryPolicy {
    /// The wait after `failures` failed attempts: base × 2^(failures−1), capped.
    pub fn delay_after(&self, failures: u32) -> i64 {
        let shift = failures.saturating_sub(1).min(62);
        self.base_delay_ms.max(0).saturating_mul(1i64 << shift).min(self.max_delay_ms.max(0))
    }
}

/// Store key-value namespace holding per-event delivery bookkeeping.
pub const DELIVERY_NAMESPACE: &str = "event_delivery";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeliveryState {
    attempts: u32,
    next_attempt_at: Timestamp,
}

/// What [`Notifier::notify`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Delivery {
    /// The transport took it.
    Sent,
    /// Its category is not subscribed; nothing was sent or queued.
    NotSubscribed,
    /// The transport failed; the event is queued for retry.
    Queued {
        /// The transport's error.
        error: String,
    },
    /// The transport failed and the retry policy allows no further attempt.
    Failed {
        /// The transport's error.
        error: String,
    },
}

/// What one [`Notifier::retry_pending`] pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryReport {
    /// Delivered this pass.
    pub sent: usize,
    /// Failed again; scheduled for a later attempt.
    pub retrying: usize,
    /// Failed for the last time; marked failed.
    pub failed: usize,
    /// Not due yet.
    pub waiting: usize,
    /// Left alone: category not subscribed by this notifier.
    pub skipped: usize,
}

/// Sends events of subscribed categories through a transport; failed deliveries are
/// queued in the store and retried with exponential backoff up to a maximum.
pub struct Notifier<'a> {
    transport: &'a dyn Transport,
    subscriptions: Subscriptions,
    retry: RetryPolicy,
}

impl fmt::Debug for Notifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier").field("subscriptions", &self.subscriptions).field("retry", &self.retry).finish()
    }
}

/// Most queued events one [`Notifier::retry_pending`] pass looks at per status.
const RETRY_BATCH: usize = 1000;

impl<'a> Notifier<'a> {
    /// A notifier delivering `subscriptions` through `transport` with the default retry policy.
    pub fn new(transport: &'a dyn Transport, subscriptions: Subscriptions) -> Self {
        Notifier { transport, subscriptions, retry: RetryPolicy::default() }
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The subscribed categories.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    /// Whether `category` would be delivered.
    pub fn is_subscribed(&self, category: EventCategory) -> bool {
        self.subscriptions.contains(category)
    }

    /// Sends `event` if its category is subscribed. A failed send is queued in `store`
    /// with its first retry due at `event.at` plus the first backoff delay (events are
    /// sent when they happen, so their time stands in for a clock here).
    pub fn notify(&self, store: &mut dyn Store, event: &EventEnvelope) -> Result<Delivery, StoreError> {
        if !self.is_subscribed(event.category) {
            return Ok(Delivery::NotSubscribed);
        }
        match self.transport.send(event) {
            Ok(()) => Ok(Delivery::Sent),
            Err(e) => {
                let error = e.to_string();
                store.enqueue_event(event)?;
                if self.record_failure(store, &event.id, 1, event.at, &error)? {
                    Ok(Delivery::Queued { error })
                } else {
                    Ok(Delivery::Failed { error })
                }
            }
        }
    }

    /// Tries again every queued or retrying event of a subscribed category whose next
    /// attempt is due at `now`. Events queued by others (the engine queues its own
    /// failures) without bookkeeping are taken as due after one failure at their `at`.
    pub fn retry_pending(&self, store: &mut dyn Store, now: Timestamp) -> Result<RetryReport, StoreError> {
        let mut report = RetryReport::default();
        let mut pending = store.events(NotificationStatus::Queued, RETRY_BATCH)?;
        let queued = pending.len();
        pending.extend(store.events(NotificationStatus::Retrying, RETRY_BATCH)?);
        for (i, event) in pending.iter().enumerate() {
            if !self.is_subscribed(event.category) {
                report.skipped += 1;
                continue;
            }
            let state = match store.kv_get(DELIVERY_NAMESPACE, &event.id)? {
                Some(bytes) => serde_json::from_slice::<DeliveryState>(&bytes)
                    .map_err(|e| StoreError::Corrupt(format!("{DELIVERY_NAMESPACE}/{}: {e}", event.id)))?,
                None if i < queued => DeliveryState { attempts: 0, next_attempt_at: event.at },
                None => DeliveryState { attempts: 1, next_attempt_at: event.at.plus_millis(self.retry.delay_after(1)) },
            };
            if now < state.next_attempt_at {
                report.waiting += 1;
                continue;
            }
            let attempts = state.attempts + 1;
            match self.transport.send(event) {
                Ok(()) => {
                    store.set_event_status(&event.id, NotificationStatus::Sent, attempts, None)?;
                    store.kv_delete(DELIVERY_NAMESPACE, &event.id)?;
                    report.sent += 1;
                }
                Err(e) => {
                    if self.record_failure(store, &event.id, attempts, now, &e.to_string())? {
                        report.retrying += 1;
                    } else {
                        report.failed += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// Records failed attempt number `attempts`; returns whether another attempt is allowed.
    fn record_failure(
        &self,
        store: &mut dyn Store,
        id: &str,
        attempts: u32,
        at: Timestamp,
        error: &str,
    ) -> Result<bool, StoreError> {
        if attempts >= self.retry.max_attempts {
            store.set_event_status(id, NotificationStatus::Failed, attempts, Some(error))?;
            store.kv_delete(DELIVERY_NAMESPACE, id)?;
            return Ok(false);
        }
        store.set_event_status(id, NotificationStatus::Retrying, attempts, Some(error))?;
        let state = DeliveryState { attempts, next_attempt_at: at.plus_millis(self.retry.delay_after(attempts)) };
        let bytes = serde_json::to_vec(&state).map_err(|e| StoreError::Backend(e.to_string()))?;
        store.kv_put(DELIVERY_NAMESPACE, id, &bytes)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy { max_attempts: 10, base_delay_ms: 100, max_delay_ms: 1000 };
        assert_eq!([1, 2, 3, 4, 5, 40].map(|n| p.delay_after(n)), [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn category_names_round_trip() {
        for c in EventCategory::ALL {
            assert_eq!(c.as_str().parse::<EventCategory>().unwrap(), c);
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.as_str()));
        }
    }
}
