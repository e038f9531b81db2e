//! The delivery worker: from the outbox to each endpoint, recorded in the store.

use std::time::Duration;

use serde::Serialize;
use twinsync_core::delivery::{retry_delay_ms, Delivery, DeliveryStatus};
use twinsync_core::event::{Event, Subscriptions};
use twinsync_core::{Clock, Store, StoreError, Timestamp};

use crate::body::{body, Format};
use crate::digest::{addressee, digest_event, DigestSchedule};
use crate::signing::{sign, SigningKey};

/// Store namespace of each endpoint's outbox cursor (the last event id it was queued).
const CURSOR_NAMESPACE: &str = "notify_cursor";
/// Store namespace of each endpoint's last digest time (milliseconds).
const DIGEST_NAMESPACE: &str = "notify_digest";
/// Events read from the outbox per query.
const PAGE: usize = 500;

/// One webhook endpoint, its secret read and checked.
#[derive(Debug)]
pub struct Endpoint {
    /// Its name in the config.
    pub name: String,
    /// Where messages go (its query or path may be a secret too: never printed).
    pub url: String,
    /// The signing key.
    pub key: SigningKey,
    /// The event types it opted in to, sent as they happen.
    pub types: Subscriptions,
    /// The event types it takes in the daily digest instead (never also at once).
    pub digest: Subscriptions,
    /// The body it wants.
    pub format: Format,
    /// How long one attempt may take.
    pub timeout: Duration,
}

/// What one run of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// Deliveries queued from new outbox events.
    pub queued: usize,
    /// Delivered.
    pub sent: usize,
    /// Failed an attempt; another is scheduled.
    pub retrying: usize,
    /// Failed their last attempt.
    pub failed: usize,
}

/// Delivers a project's outbox to its endpoints.
pub struct Worker<'a> {
    store: &'a mut dyn Store,
    clock: &'a dyn Clock,
    project: String,
    endpoints: &'a [Endpoint],
    digest: Option<DigestSchedule>,
}

/// The `webhook-id` of `event` of `project`: the same for every attempt, so a receiver
/// that dedupes on it processes the event once.
pub fn message_id(project: &str, event_id: u64) -> String {
    format!("evt_{project}_{event_id}")
}

impl<'a> Worker<'a> {
    /// A worker for `project`'s store and endpoints.
    pub fn new(store: &'a mut dyn Store, clock: &'a dyn Clock, project: &str, endpoints: &'a [Endpoint]) -> Self {
        Worker { store, clock, project: project.to_string(), endpoints, digest: None }
    }

    /// Sends daily digests on `schedule` (without one, digest types are never sent).
    pub fn with_digest(mut self, schedule: Option<DigestSchedule>) -> Self {
        self.digest = schedule;
        self
    }

    /// Appends a `digest` event for each endpoint whose digest time has come since its
    /// last one, covering the events of its digest types since then; returns how many.
    /// A day without such events sends nothing. A worker that was down sends one digest
    /// covering everything since its last.
    ///
    /// The digest event and the endpoint's mark are two writes: a crash between them
    /// would make a second digest, so a digest already in the outbox for this time is
    /// found and not made again.
    pub fn compose_digests(&mut self) -> Result<usize, StoreError> {
        let Some(schedule) = &self.digest else { return Ok(0) };
        let slot = schedule.slot_at_or_before(self.clock.now());
        let slot_json = serde_json::to_value(slot).expect("a timestamp serialises");
        let mut made = 0;
        for ep in self.endpoints.iter().filter(|e| e.digest.iter().next().is_some()) {
            let last = self
                .store
                .kv_get(DIGEST_NAMESPACE, &ep.name)?
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<i64>().ok())
                .map(Timestamp::from_millis);
            let from = match last {
                Some(l) if l >= slot => continue,
                Some(l) => l,
                // The first digest of an endpoint covers the day before its time.
                None => slot.plus_millis(-86_400_000),
            };
            let (mut window, mut already, mut cursor) = (Vec::new(), false, 0);
            loop {
                let page = self.store.events_since(cursor, PAGE)?;
                for e in &page {
                    if addressee(e) == Some(ep.name.as_str()) && e.payload["to"] == slot_json {
                        already = true;
                    } else if ep.digest.contains(e.event_type) && e.time > from && e.time <= slot {
                        window.push(e.clone());
                    }
                }
                match page.last() {
                    Some(last) if page.len() == PAGE => cursor = last.id,
                    _ => break,
                }
            }
            if !already && !window.is_empty() {
                self.store.append_events(&[digest_event(&ep.name, from, slot, schedule.zone_name(), &window)])?;
                made += 1;
            }
            self.store.kv_put(DIGEST_NAMESPACE, &ep.name, slot.millis().to_string().as_bytes())?;
        }
        Ok(made)
    }

    /// Queues a delivery for each new outbox event an endpoint opted in to.
    pub fn enqueue(&mut self) -> Result<usize, StoreError> {
        let mut queued = 0;
        for ep in self.endpoints {
            let mut cursor = self.cursor(&ep.name)?;
            loop {
                let page = self.store.events_since(cursor, PAGE)?;
                let now = self.clock.now();
                // A digest goes to its endpoint alone; a digest type never goes at once.
                let wanted = |e: &&Event| match addressee(e) {
                    Some(to) => to == ep.name,
                    None => ep.types.contains(e.event_type) && !ep.digest.contains(e.event_type),
                };
                for e in page.iter().filter(wanted) {
                    self.store.put_delivery(&Delivery {
                        endpoint: ep.name.clone(),
                        event_id: e.id,
                        status: DeliveryStatus::Queued,
                        attempts: 0,
                        next_attempt_at: now,
                        last_status: None,
                        last_error: None,
                        created_at: now,
                        updated_at: now,
                    })?;
                    queued += 1;
                }
                let Some(last) = page.last() else { break };
                cursor = last.id;
                // Queued before the cursor moves: a crash in between queues again, and
                // putting the same (endpoint, event) twice is the same row.
                self.store.kv_put(CURSOR_NAMESPACE, &ep.name, cursor.to_string().as_bytes())?;
                if page.len() < PAGE {
                    break;
                }
            }
        }
        Ok(queued)
    }

    fn cursor(&self, endpoint: &str) -> Result<u64, StoreError> {
        Ok(self
            .store
            .kv_get(CURSOR_NAMESPACE, endpoint)?
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0))
    }

    /// Composes due digests, queues, then sends every delivery that is due, each endpoint in event order.
    pub fn run_once(&mut self) -> Result<RunReport, StoreError> {
        self.compose_digests()?;
        let mut report = RunReport { queued: self.enqueue()?, ..Default::default() };
        for ep in self.endpoints {
            let now = self.clock.now();
            let mut due: Vec<Delivery> = [DeliveryStatus::Queued, DeliveryStatus::Retrying]
                .into_iter()
                .map(|s| self.store.deliveries(Some(&ep.name), Some(s), usize::MAX))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .filter(|d| d.next_attempt_at <= now)
                .collect();
            due.sort_by_key(|d| d.event_id);
            for d in due {
                let event =
                    self.store.events_since(d.event_id.saturating_sub(1), 1)?.into_iter().find(|e| e.id == d.event_id);
                let outcome = match &event {
                    Some(e) => self.send(ep, e),
                    None => Err((None, "the event was pruned from the outbox before it could be sent".into())),
                };
                let next = self.record(ep, d, outcome, event.is_none())?;
                match next {
                    DeliveryStatus::Sent => report.sent += 1,
                    DeliveryStatus::Retrying => report.retrying += 1,
                    DeliveryStatus::Failed => report.failed += 1,
                    DeliveryStatus::Queued => {}
                }
            }
        }
        Ok(report)
    }

    /// Sends one event to one endpoint now, outside the queue (`twinsync notify test`).
    pub fn send_now(&self, ep: &Endpoint, event: &Event) -> Result<u16, String> {
        self.send(ep, event).map_err(|(_, e)| e)
    }

    fn send(&self, ep: &Endpoint, event: &Event) -> Result<u16, (Option<u16>, String)> {
        let id = message_id(&self.project, event.id);
        // The header says when the message leaves, for the receiver's replay window: the
        // wall clock, whatever clock schedules the retries.
        let timestamp = twinsync_core::SystemClock.now().millis().div_euclid(1000);
        let payload = body(event, &self.project, ep.format);
        let signature = sign(&ep.key, &id, timestamp, &payload);
        let answer = ureq::post(&ep.url)
            .timeout(ep.timeout)
            .set("content-type", "application/json")
            .set("webhook-id", &id)
            .set("webhook-timestamp", &timestamp.to_string())
            .set("webhook-signature", &signature)
            .send_bytes(&payload);
        match answer {
            Ok(r) if (200..300).contains(&r.status()) => Ok(r.status()),
            Ok(r) => Err((Some(r.status()), format!("HTTP {}", r.status()))),
            Err(ureq::Error::Status(code, _)) => Err((Some(code), format!("HTTP {code}"))),
            // The transport error's own text names the URL, which may hold a token.
            Err(ureq::Error::Transport(t)) => {
                Err((None, format!("{}{}", t.kind(), t.message().map(|m| format!(": {m}")).unwrap_or_default())))
            }
        }
    }

    fn record(
        &mut self,
        ep: &Endpoint,
        d: Delivery,
        outcome: Result<u16, (Option<u16>, String)>,
        gone: bool,
    ) -> Result<DeliveryStatus, StoreError> {
        let now = self.clock.now();
        let attempts = d.attempts + 1;
        let next = match outcome {
            Ok(code) => Delivery {
                status: DeliveryStatus::Sent,
                attempts,
                last_status: Some(code),
                last_error: None,
                updated_at: now,
                ..d
            },
            Err((code, error)) => {
                let seed = d.event_id ^ ep.name.bytes().fold(0u64, |h, b| h.rotate_left(5) ^ u64::from(b));
                let delay = if gone { None } else { retry_delay_ms(attempts, seed) };
                Delivery {
                    status: if delay.is_some() { DeliveryStatus::Retrying } else { DeliveryStatus::Failed },
                    attempts,
                    next_attempt_at: delay.map_or(now, |ms| now.plus_millis(ms)),
                    last_status: code,
                    last_error: Some(error),
                    updated_at: now,
                    ..d
                }
            }
        };
        self.store.put_delivery(&next)?;
        Ok(next.status)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use twinsync_core::event::EventType;
    use twinsync_core::{ManualClock, MemoryStore};

    use super::*;

    fn endpoint(name: &str, digest: &[EventType]) -> Endpoint {
        Endpoint {
            name: name.into(),
            url: "http://127.0.0.1:9/never-called".into(),
            key: SigningKey::from_secret(&crate::new_secret()).unwrap(),
            types: Subscriptions::of([EventType::SyncCompleted, EventType::Digest]),
            digest: Subscriptions::of(digest.iter().copied()),
            format: Format::default(),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_digest_lost_mark_is_found_again_and_goes_to_its_endpoint_alone() {
        let mut store = MemoryStore::new();
        // 2026-01-15T10:00Z; the digest time is 09:00 UTC.
        let clock = ManualClock::new(Timestamp::from_millis(1_768_471_200_000));
        let endpoints = [endpoint("team", &[EventType::DriftDetected]), endpoint("ops", &[])];
        let schedule = DigestSchedule::parse("09:00", "UTC").unwrap();
        let run = |store: &mut MemoryStore| {
            Worker::new(store, &clock, "p", &endpoints).with_digest(Some(schedule.clone())).compose_digests().unwrap()
        };
        assert_eq!(run(&mut store), 0, "first sight: the day before was empty");
        clock.advance(3_600_000);
        store
            .append_events(&[Event::new(EventType::DriftDetected, clock.now(), "docs", "c", json!({"key": "a.md"}))])
            .unwrap();
        clock.advance(23 * 3_600_000); // 09:00 next day, plus an hour
        assert_eq!(run(&mut store), 1);
        assert_eq!(run(&mut store), 0, "once per day");
        // A crash between the digest event and its mark: the mark is gone, the event is not.
        store.kv_delete(DIGEST_NAMESPACE, "team").unwrap();
        assert_eq!(run(&mut store), 0, "the digest already in the outbox is found, not made again");
        let digests: Vec<Event> =
            store.events_since(0, 100).unwrap().into_iter().filter(|e| e.event_type == EventType::Digest).collect();
        assert_eq!(digests.len(), 1);
        assert_eq!(digests[0].payload["counts"]["drift_detected"], 1);

        // Queued for its endpoint only, though the other subscribes to `digest` too; the
        // drift event itself goes to nobody at once.
        Worker::new(&mut store, &clock, "p", &endpoints).enqueue().unwrap();
        let queued: Vec<(String, u64)> =
            store.deliveries(None, None, 100).unwrap().into_iter().map(|d| (d.endpoint, d.event_id)).collect();
        assert_eq!(queued, [("team".to_string(), digests[0].id)]);
    }
}
