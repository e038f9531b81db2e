//! Structured logs: the facade emits `tracing` events with the seed's fields
//! (`correlation_id`, `actor`, `action`, counts, `duration_ms`); a face installs the
//! subscriber that writes them to stderr as text or JSON lines. Nothing is logged unless
//! asked for (`TWINSYNC_LOG` or a format), so command output stays as it was.
//!
//! What is logged never holds a secret: credentials are logged by name, the store URL
//! with its password redacted, and `Secret` values print as `[redacted]`.

use std::str::FromStr;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// The filter, `tracing` targets syntax: `info`, `twinsync=debug`, `warn,twinsync=trace`.
pub const LOG_ENV: &str = "TWINSYNC_LOG";
/// The format when no flag gives one: `text` or `json`.
pub const LOG_FORMAT_ENV: &str = "TWINSYNC_LOG_FORMAT";

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One human line per event.
    Text,
    /// One JSON object per line, fields flattened.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("log format {other:?}: expected text or json")),
        }
    }
}

/// Installs the stderr subscriber when logs are asked for: by `format` (a `--log-format`
/// flag), `TWINSYNC_LOG_FORMAT` or `TWINSYNC_LOG`. The level is `TWINSYNC_LOG`, `info` by
/// default. Returns an error naming a bad filter or format; does nothing when logs are
/// not asked for or a subscriber is already set.
pub fn init_logging(format: Option<LogFormat>) -> Result<(), String> {
    let filter = std::env::var(LOG_ENV).ok().filter(|v| !v.trim().is_empty());
    let format = match format {
        Some(f) => Some(f),
        None => std::env::var(LOG_FORMAT_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().parse())
            .transpose()
            .map_err(|e| format!("{LOG_FORMAT_ENV}: {e}"))?,
    };
    if format.is_none() && filter.is_none() {
        return Ok(());
    }
    let targets = Targets::from_str(filter.as_deref().unwrap_or("info"))
        .map_err(|e| format!("{LOG_ENV}={:?}: {e}", filter.as_deref().unwrap_or("")))?;
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false);
    let installed = match format.unwrap_or(LogFormat::Text) {
        LogFormat::Text => tracing_subscriber::registry().with(layer.with_filter(targets)).try_init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(layer.json().flatten_event(true).with_current_span(false).with_filter(targets))
            .try_init(),
    };
    // A subscriber set already (a host that logs on its own) is kept.
    let _ = installed;
    Ok(())
}

/// Logs a finished sync operation with its counts and duration.
pub(crate) fn sync_done(report: &twinsync_core::OperationReport) {
    let c = &report.counts;
    tracing::info!(
        target: "twinsync",
        correlation_id = %report.operation_id,
        actor = %report.actor,
        action = "sync",
        pair = %report.scope,
        status = report.status.as_str(),
        planned = c.planned,
        applied = c.applied,
        skipped = c.skipped,
        conflicts = c.conflicts,
        failed = c.failed,
        duration_ms = report.duration_ms,
        "sync finished"
    );
}

/// Logs an action that failed (never with a secret: errors name items, not values).
pub(crate) fn failed(action: &str, subject: &str, actor: &str, error: &crate::Error) {
    tracing::warn!(target: "twinsync", actor = %actor, action, subject, error = %error, "failed");
}

/// Logs a finished action on one subject (a credential, a test session, a run).
pub(crate) fn done(action: &str, subject: &str, actor: &str, correlation_id: &str, duration_ms: i64, count: usize) {
    tracing::info!(
        target: "twinsync",
        correlation_id,
        actor = %actor,
        action,
        subject,
        count,
        duration_ms,
        "done"
    );
}
