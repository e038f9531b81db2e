//! The project's webhooks: endpoints read from `[[notify.webhooks]]` with their secrets
//! from the environment or a file, and the delivery worker over the project's store.

use std::time::Duration;

use twinsync_core::delivery::{Delivery, DeliveryStatus};
use twinsync_core::event::{Event, EventType, Subscriptions};
use twinsync_core::secret::Secret;
use twinsync_notify::{Endpoint, RunReport, SigningKey, Worker};

use crate::config::WebhookConfig;
use crate::error::{Error, Result};
use crate::project::Project;

fn webhook_error(w: &WebhookConfig, message: impl Into<String>) -> Error {
    Error::Core(twinsync_core::Error::InvalidInput(format!("webhook {}: {}", w.name, message.into())))
}

impl Project {
    /// The configured endpoints, each with its secret read and checked. A missing or
    /// malformed secret is an error naming the webhook and where the secret should be,
    /// never showing the secret.
    pub fn notify_endpoints(&self) -> Result<Vec<Endpoint>> {
        self.config().notify.webhooks.iter().map(|w| self.endpoint(w)).collect()
    }

    fn endpoint(&self, w: &WebhookConfig) -> Result<Endpoint> {
        let secret = match (&w.secret_env, &w.secret_file) {
            (Some(var), _) => Secret::new(
                std::env::var(var).map_err(|_| webhook_error(w, format!("environment variable {var} is not set")))?,
            ),
            (None, Some(file)) => {
                let path = self.dir().join(file);
                Secret::new(
                    std::fs::read_to_string(&path).map_err(|e| webhook_error(w, format!("{}: {e}", path.display())))?,
                )
            }
            (None, None) => return Err(webhook_error(w, "no secret_env or secret_file")),
        };
        let key = SigningKey::from_secret(&secret).map_err(|e| webhook_error(w, e.to_string()))?;
        let parse = |list: &[String]| Subscriptions::of(list.iter().filter_map(|c| c.parse::<EventType>().ok()));
        let (types, digest) = (parse(&w.categories), parse(&w.digest));
        Ok(Endpoint {
            name: w.name.clone(),
            url: w.url.clone(),
            key,
            types,
            digest,
            format: w.format,
            timeout: Duration::from_secs(w.timeout_secs.max(1)),
        })
    }

    /// Fires due credential reminders, queues new outbox events for the endpoints and
    /// sends what is due, once.
    pub fn notify_run_once(&mut self) -> Result<RunReport> {
        let endpoints = self.notify_endpoints()?;
        // Credential reminders and expiry become outbox events here, so a project that
        // only runs its worker still hears of them.
        self.credentials_check()?;
        let project = self.project_id();
        // Checked when the config was read; an error here names the key all the same.
        let schedule = self.config().notify.digest_schedule().map_err(|m| Error::Config {
            path: self.dir().join(crate::config::DIR).join(crate::config::CONFIG_FILE),
            message: m,
        })?;
        let started = std::time::Instant::now();
        let (store, clock) = self.store_and_clock();
        let report = Worker::new(store, clock, &project, &endpoints).with_digest(Some(schedule)).run_once()?;
        if report.queued + report.sent + report.retrying + report.failed > 0 {
            tracing::info!(target: "twinsync", action = "notify", actor = %self.actor(),
                queued = report.queued, sent = report.sent, retrying = report.retrying, failed = report.failed,
                duration_ms = started.elapsed().as_millis() as u64, "delivery round");
        }
        Ok(report)
    }

    /// Deliveries, by event, of every endpoint (or one).
    pub fn notify_status(
        &self,
        endpoint: Option<&str>,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        Ok(self.store_ref().deliveries(endpoint, status, limit)?)
    }

    /// Queues a failed delivery again, with the whole retry schedule ahead of it.
    pub fn notify_retry(&mut self, endpoint: &str, event_id: u64) -> Result<Delivery> {
        let found = self
            .store_ref()
            .deliveries(Some(endpoint), None, usize::MAX)?
            .into_iter()
            .find(|d| d.event_id == event_id)
            .ok_or_else(|| {
                Error::Core(twinsync_core::Error::NotFound(format!("no delivery of event {event_id} to {endpoint}")))
            })?;
        let now = self.now();
        let again =
            Delivery { status: DeliveryStatus::Queued, attempts: 0, next_attempt_at: now, updated_at: now, ..found };
        self.store().put_delivery(&again)?;
        Ok(again)
    }

    /// Sends a signed test message to endpoint `name` now; returns the HTTP status.
    pub fn notify_test(&mut self, name: &str) -> Result<u16> {
        let endpoints = self.notify_endpoints()?;
        let ep = endpoints.iter().find(|e| e.name == name).ok_or_else(|| {
            Error::Core(twinsync_core::Error::NotFound(format!("no webhook {name:?} in [[notify.webhooks]]")))
        })?;
        let now = self.now();
        let mut event = Event::new(
            EventType::Digest,
            now,
            "",
            "notify-test",
            serde_json::json!({ "test": true, "message": format!("a test message from twinsync to {name}") }),
        );
        // A test message has an id of its own, apart from every outbox event's.
        event.id = now.millis() as u64;
        let project = format!("{}-test", self.project_id());
        let config = self.config().notify.webhooks.iter().find(|w| w.name == name).cloned().expect("found above");
        let (store, clock) = self.store_and_clock();
        Worker::new(store, clock, &project, &endpoints).send_now(ep, &event).map_err(|e| webhook_error(&config, e))
    }
}
