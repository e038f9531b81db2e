//! The nightly sync: `POST /projects/:id/schedule {"nightly": true|false, "at"?: "HH:MM",
//! "timezone"?}` turns it on or off, `GET /projects/:id/schedule` shows it, with its next
//! and last run.
//!
//! - `at` is a 24-hour wall-clock time (default `02:00`) in an IANA `timezone` (default
//!   `UTC`): the same rule, and the same code, as the notifier's daily digest
//!   ([`twinsync::DigestSchedule`]), so a time a DST change skips runs just after the gap.
//! - Schedules are kept in the server's data folder (`schedules.json`, beside the project
//!   list, written whole and renamed into place), so they survive a restart. An
//!   unregistered project's schedule is not run.
//! - One tokio task ([`run`]) wakes at the next due time (and at least every
//!   `ServeOptions::schedule_tick`, so a clock that jumps is noticed) and runs every due
//!   project's sync through the facade, all its pairs, as actor `schedule`. A slot is
//!   due when it passed after the schedule was turned on and after its last run; a
//!   server that was down at the time runs the missed night once when it comes back.
//!   The run is in the project's history like any sync (trigger `schedule`, actor
//!   `schedule`) and in the schedule's `lastRun` (its operations, or why it failed, e.g.
//!   a lock someone held).
//! - Time is read from `ServeOptions::clock` (the system clock unless a test sets a
//!   `ManualClock`), so a test can make a schedule due without waiting for a night.
//!
//! 404 for no such project (or a folder that is not an initialised project, when turning
//! it on); 400 for a bad time, zone or body.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use twinsync::core::{Timestamp, Trigger};
use twinsync::{DigestSchedule, SyncRequest};

use crate::error::{ApiError, ServeError};
use crate::routes::{json_body, on_project, registered, Body};
use crate::AppState;

/// Who the scheduled syncs act as, in history and audit.
pub(crate) const SCHEDULE_ACTOR: &str = "schedule";
const DEFAULT_AT: &str = "02:00";
const DEFAULT_ZONE: &str = "UTC";
const DAY_MS: i64 = 86_400_000;

/// What turns the nightly sync on or off.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleBody {
    /// On or off.
    nightly: bool,
    /// `HH:MM`, 24-hour, in `timezone` (default `02:00`; kept when left out).
    at: Option<String>,
    /// An IANA time zone (`Europe/Paris`; default `UTC`; kept when left out).
    timezone: Option<String>,
}

/// How the last scheduled run went.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LastRun {
    /// When it ran.
    #[schemars(with = "String")]
    at: Timestamp,
    /// The slot it ran for (the `at` time it was due).
    #[schemars(with = "String")]
    slot: Timestamp,
    /// The operations of its syncs, one per pair.
    operations: Vec<String>,
    /// Why it failed, when it did (nothing was retried until the next slot).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A project's schedule, as kept and as answered.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Schedule {
    /// Whether the nightly sync is on.
    nightly: bool,
    /// `HH:MM` in `timezone`.
    at: String,
    /// The IANA zone of `at`.
    timezone: String,
    /// When it was last turned on: no slot before this runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    since: Option<Timestamp>,
    /// The last scheduled run.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_run: Option<LastRun>,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule { nightly: false, at: DEFAULT_AT.into(), timezone: DEFAULT_ZONE.into(), since: None, last_run: None }
    }
}

/// A schedule with when it runs next.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScheduleAnswer {
    #[serde(flatten)]
    schedule: Schedule,
    /// When the next scheduled sync is due (only when on).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    next_run_at: Option<Timestamp>,
}

fn parse(at: &str, zone: &str) -> Result<DigestSchedule, String> {
    // The digest's parser names its own setting; here the field is `at`.
    DigestSchedule::parse(at, zone).map_err(|e| e.replacen("digest_at", "at", 1))
}

impl Schedule {
    fn rule(&self) -> Option<DigestSchedule> {
        parse(&self.at, &self.timezone).ok()
    }

    /// The slot that is due now and has not run yet, if any.
    fn due(&self, now: Timestamp) -> Option<Timestamp> {
        if !self.nightly {
            return None;
        }
        let slot = self.rule()?.slot_at_or_before(now);
        let after = self.last_run.as_ref().map(|r| r.slot).max(self.since).unwrap_or(Timestamp::from_millis(i64::MIN));
        (slot > after).then_some(slot)
    }

    /// The first slot after `now` (on).
    fn next_after(&self, now: Timestamp) -> Option<Timestamp> {
        if !self.nightly {
            return None;
        }
        let rule = self.rule()?;
        // A day on, and a DST day's extra hour on, read back through the zone.
        [DAY_MS, DAY_MS + 2 * 3_600_000]
            .into_iter()
            .map(|d| rule.slot_at_or_before(now.plus_millis(d)))
            .find(|s| *s > now)
    }

    fn answer(self, now: Timestamp) -> ScheduleAnswer {
        let next_run_at = self.next_after(now);
        ScheduleAnswer { schedule: self, next_run_at }
    }
}

/// Every project's schedule and the file that keeps them.
pub(crate) struct Schedules {
    file: PathBuf,
    by_project: Mutex<BTreeMap<String, Schedule>>,
    /// Wakes the task when a schedule changes, so a new time counts at once.
    changed: tokio::sync::Notify,
}

impl Schedules {
    pub(crate) fn open(data: &FsPath) -> Result<Schedules, ServeError> {
        let file = data.join("schedules.json");
        let by_project = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ServeError::Config(format!("{}: not a schedule list: {e}", file.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(ServeError::Io { what: format!("reading {}", file.display()), source: e }),
        };
        Ok(Schedules { file, by_project: Mutex::new(by_project), changed: tokio::sync::Notify::new() })
    }

    fn get(&self, id: &str) -> Schedule {
        self.by_project.lock().expect("schedules").get(id).cloned().unwrap_or_default()
    }

    /// Applies `change` to project `id`'s schedule and writes the list.
    fn update(&self, id: &str, change: impl FnOnce(&mut Schedule)) -> Result<Schedule, ApiError> {
        let mut all = self.by_project.lock().expect("schedules");
        let mut next = all.clone();
        let entry = next.entry(id.to_string()).or_default();
        change(entry);
        let updated = entry.clone();
        save(&self.file, &next).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IO", e))?;
        *all = next;
        drop(all);
        self.changed.notify_one();
        Ok(updated)
    }

    fn all(&self) -> Vec<(String, Schedule)> {
        self.by_project.lock().expect("schedules").iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Writes the list whole, then renames it into place: a crash leaves the old or the new.
fn save(file: &FsPath, all: &BTreeMap<String, Schedule>) -> Result<(), String> {
    let tmp = file.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(all).expect("schedules serialise");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    };
    write().map_err(|e| format!("{}: {e}", file.display()))
}

pub(crate) async fn get(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    registered(&state, &id)?;
    let now = state.clock.now();
    Ok(Json(state.schedules.get(&id).answer(now)).into_response())
}

pub(crate) async fn set(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Body<ScheduleBody>,
) -> Result<Response, ApiError> {
    let b = json_body(body)?;
    let old = state.schedules.get(&id);
    let at = b.at.unwrap_or(old.at);
    let timezone = b.timezone.unwrap_or(old.timezone);
    parse(&at, &timezone).map_err(|e| ApiError::invalid(format!("schedule of project {id}: {e}")))?;
    if b.nightly {
        // A project that cannot open would fail every night: said now instead.
        on_project(&state, &id, None, |_| Ok(())).await?;
    } else {
        registered(&state, &id)?;
    }
    let now = state.clock.now();
    let schedule = state.schedules.update(&id, |s| {
        if b.nightly && (!s.nightly || s.at != at || s.timezone != timezone) {
            s.since = Some(now);
        }
        s.nightly = b.nightly;
        s.at = at;
        s.timezone = timezone;
    })?;
    Ok(Json(schedule.answer(now)).into_response())
}

/// The scheduler: until the server closes, runs each due project's sync, then sleeps until
/// the next slot (at most `tick`).
pub(crate) async fn run(state: Arc<AppState>, tick: Duration) {
    let mut closing = state.closing.subscribe();
    loop {
        if *closing.borrow() {
            return;
        }
        let now = state.clock.now();
        let mut next: Option<Timestamp> = None;
        for (id, schedule) in state.schedules.all() {
            if state.registry.get(&id).is_none() {
                continue;
            }
            if let Some(slot) = schedule.due(now) {
                run_one(&state, &id, slot).await;
            }
            let after = state.schedules.get(&id).next_after(state.clock.now());
            next = match (next, after) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let until = next.map(|t| Duration::from_millis((t.millis() - state.clock.now().millis()).max(0) as u64));
        let sleep = until.map_or(tick, |u| u.min(tick));
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {},
            _ = state.schedules.changed.notified() => {},
            _ = closing.changed() => return,
        }
    }
}

/// One scheduled sync of project `id` for `slot`, recorded as the schedule's last run.
async fn run_one(state: &Arc<AppState>, id: &str, slot: Timestamp) {
    let req = SyncRequest { trigger: Trigger::Schedule, ..SyncRequest::default() };
    let result = on_project(state, id, Some(SCHEDULE_ACTOR.into()), move |p| Ok(p.sync_pairs(&[], &req)?)).await;
    let (operations, error) = match result {
        Ok(pairs) => (pairs.iter().filter_map(|s| s.report.as_ref().map(|r| r.operation_id.clone())).collect(), None),
        Err(e) => (Vec::new(), Some(e.message().to_string())),
    };
    let at = state.clock.now();
    // A failed write of the list is retried by the next wake: the slot is still due.
    let _ = state.schedules.update(id, |s| s.last_run = Some(LastRun { at, slot, operations, error }));
}
