//! The project's metrics in the Prometheus (OpenMetrics) text exposition, computed from
//! the store on each call, so they count what every process did, not one process's
//! memory: a scrape after another process's sync sees it.
//!
//! What each metric counts (over what the store keeps: operations for good, deliveries
//! and events for `[events] retention_days`, test sessions for good):
//! - `twinsync_operations_total{pair,status}`: operations by pair and final status;
//! - `twinsync_sync_items_total{pair,outcome}`: items applied, skipped, in conflict, failed;
//! - `design_sync_duration_ms`: histogram of finished operations' wall time;
//! - `design_sync_components_count{pair}`: items in each pair's base (what is in sync);
//! - `design_drift_false_positive_ratio`: of the items plans touched, the share that
//!   needed no write (skipped: drift that was no real change);
//! - `design_undo_success_total`: operations undone;
//! - `design_notifications_failed_total`: webhook deliveries that failed for good;
//! - `browser_test_session_latency_ms`: histogram of finished sessions' start-to-end time;
//! - `twinsync_browser_test_sessions_total{status}`;
//! - `twinsync_outbox_last_event_id`: the newest outbox id (a gauge that only grows).

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use twinsync_core::delivery::DeliveryStatus;
use twinsync_core::OperationStatus;

use crate::error::Result;
use crate::project::Project;

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Milliseconds buckets from 1 ms to about 9 minutes, doubling.
fn ms_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(1.0, 2.0, 20)
}

impl Project {
    /// The metrics as Prometheus/OpenMetrics text (ends with `# EOF`).
    pub fn metrics_text(&mut self) -> Result<String> {
        let store = self.store_ref();
        let mut registry = Registry::default();

        let operations = Family::<Labels, Counter>::default();
        let items = Family::<Labels, Counter>::default();
        let duration = Histogram::new(ms_buckets());
        let undone = Counter::<u64>::default();
        let (mut planned, mut skipped) = (0u64, 0u64);
        for op in store.operations(None, usize::MAX)? {
            operations.get_or_create(&labels(&[("pair", &op.scope), ("status", op.status.as_str())])).inc();
            if op.status == OperationStatus::Running {
                continue;
            }
            duration.observe(op.duration_ms.max(0) as f64);
            let c = &op.counts;
            for (outcome, n) in
                [("applied", c.applied), ("skipped", c.skipped), ("conflicts", c.conflicts), ("failed", c.failed)]
            {
                items.get_or_create(&labels(&[("pair", &op.scope), ("outcome", outcome)])).inc_by(n as u64);
            }
            planned += c.planned as u64;
            skipped += c.skipped as u64;
            if op.undone_at.is_some() {
                undone.inc();
            }
        }
        registry.register("twinsync_operations", "Sync and undo operations by pair and status", operations);
        registry.register("twinsync_sync_items", "Items of finished operations by pair and outcome", items);
        registry.register("design_sync_duration_ms", "Wall time of finished operations in milliseconds", duration);
        registry.register("design_undo_success", "Operations undone", undone);

        let ratio = Gauge::<f64, AtomicU64>::default();
        ratio.set(if planned == 0 { 0.0 } else { skipped as f64 / planned as f64 });
        registry.register(
            "design_drift_false_positive_ratio",
            "Share of planned items that needed no write (drift that was no real change)",
            ratio,
        );

        let components = Family::<Labels, Gauge>::default();
        for pair in self.pair_names() {
            let n = store.load_base(&pair)?.len();
            components.get_or_create(&labels(&[("pair", &pair)])).set(n as i64);
        }
        registry.register("design_sync_components_count", "Items in sync (in the base) per pair", components);

        let failed = Counter::<u64>::default();
        failed.inc_by(store.deliveries(None, Some(DeliveryStatus::Failed), usize::MAX)?.len() as u64);
        registry.register("design_notifications_failed", "Webhook deliveries that failed for good", failed);

        let latency = Histogram::new(ms_buckets());
        let mut sessions: BTreeMap<&'static str, u64> = BTreeMap::new();
        for s in store.test_sessions(None, usize::MAX)? {
            *sessions.entry(s.status.as_str()).or_default() += 1;
            if let Some(ms) = s.latency_ms() {
                latency.observe(ms.max(0) as f64);
            }
        }
        registry.register(
            "browser_test_session_latency_ms",
            "Start-to-end time of finished browser test sessions in milliseconds",
            latency,
        );
        let by_status = Family::<Labels, Counter>::default();
        for (status, n) in sessions {
            by_status.get_or_create(&labels(&[("status", status)])).inc_by(n);
        }
        registry.register("twinsync_browser_test_sessions", "Browser test sessions by status", by_status);

        let events: Gauge = Gauge::default();
        // Appending nothing returns the newest id. Ids only grow, so the gauge moves with
        // every event written; on PostgreSQL the projects of one database share the ids.
        events.set(i64::try_from(self.store().append_events(&[])?).unwrap_or(i64::MAX));
        registry.register(
            "twinsync_outbox_last_event_id",
            "Newest outbox event id (only grows; shared by the projects of one PostgreSQL database)",
            events,
        );

        let mut text = String::new();
        encode(&mut text, &registry)
            .map_err(|e| crate::Error::Core(twinsync_core::Error::InvalidInput(e.to_string())))?;
        Ok(text)
    }
}
