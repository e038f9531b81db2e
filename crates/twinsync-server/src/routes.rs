//! The routes: each parses its input, opens the project on the blocking pool, calls the
//! facade once, and answers JSON. No sync logic lives here.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use twinsync::core::{Event, OperationReport, Policy, Preview, Timestamp, UndoReport};
use twinsync::{PairStatus, PairSync, Project, SyncRequest};

use crate::error::ApiError;
use crate::registry::Registered;
use crate::{auth, docs, hooks, keys, live, mcp, AppState};

type Shared = State<Arc<AppState>>;
type Answer = Result<Response, ApiError>;

/// Who acts for a call that names no one (history, audit, locks).
const SERVER_ACTOR: &str = "twinsync-server";

pub(crate) fn router(state: Arc<AppState>, max_body: usize, timeout: std::time::Duration) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(Health { ok: true }) }))
        .route("/projects", get(list_projects).post(add_project))
        .route("/projects/{id}", get(get_project).put(rename_project).delete(remove_project))
        .route("/projects/{id}/docs", get(docs::list))
        .route("/projects/{id}/docs/sync", axum::routing::post(docs::sync))
        .route("/projects/{id}/docs/{*path}", get(docs::get).put(docs::put))
        .route("/projects/{id}/drift", get(drift))
        .route("/projects/{id}/operations", axum::routing::post(operation))
        .route("/projects/{id}/undo", axum::routing::post(undo))
        .route("/projects/{id}/history", get(history))
        .route("/projects/{id}/events", get(events))
        .route("/projects/{id}/lock", get(lock_status).post(lock_acquire).delete(lock_release))
        .route("/projects/{id}/metrics", get(metrics))
        .route("/projects/{id}/api-keys", get(keys::list).post(keys::create))
        .route("/hook/status/{id}", get(hooks::status))
        .route("/hook/docs/{id}", get(hooks::docs))
        .route("/hook/sync/{id}", axum::routing::post(hooks::sync))
        .route("/projects/{id}/api-keys/{kid}", axum::routing::delete(keys::revoke))
        .route("/projects/{id}/ws", get(live::upgrade))
        .route("/projects/{id}/events/stream", get(live::sse))
        .route("/mcp", axum::routing::any(mcp::handle))
        .merge(crate::hub::routes())
        .merge(crate::page::routes())
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(middleware::from_fn_with_state(state.clone(), live::after_write))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(move |req, next| too_large(max_body, req, next)))
        .layer(middleware::from_fn(move |req, next| timed(timeout, req, next)))
        .layer(middleware::from_fn_with_state(state.clone(), auth::require))
        .with_state(state)
}

/// Refuses a body whose declared length is over the limit before reading any of it, so
/// a client that waits (`Expect: 100-continue`, as curl does for large bodies) gets the
/// 413 instead of a connection cut mid-upload. A body without a length is cut at the
/// limit by the extractors.
async fn too_large(max: usize, req: axum::extract::Request, next: middleware::Next) -> Response {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > max as u64 => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", format!("the body is {n} bytes; at most {max}"))
                .into_response()
        }
        _ => next.run(req).await,
    }
}

/// Answers 503 when a request is not answered within `timeout`. Work already handed to
/// the blocking pool (a sync) cannot be stopped halfway, so it finishes and shows in
/// history; the client is told so instead of waiting for ever.
async fn timed(timeout: std::time::Duration, req: axum::extract::Request, next: middleware::Next) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(answer) => answer,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TIMEOUT",
            format!("no answer within {} s; a sync it started goes on and shows in the history", timeout.as_secs_f64()),
        )
        .into_response(),
    }
}

/// The registered project `id`.
pub(crate) fn registered(state: &AppState, id: &str) -> Result<Registered, ApiError> {
    state.registry.get(id).ok_or_else(|| ApiError::not_found(format!("no project {id} is registered here")))
}

/// Runs `f` on project `id` (kept open between calls, see `pool.rs`) on the blocking
/// pool, as `actor`.
pub(crate) async fn on_project<T: Send + 'static>(
    state: &AppState,
    id: &str,
    actor: Option<String>,
    f: impl FnOnce(&mut Project) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let reg = registered(state, id)?;
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut taken = pool.take(&reg.path)?;
        taken.project.set_actor(actor.unwrap_or_else(|| SERVER_ACTOR.to_string()));
        let out = f(&mut taken.project);
        pool.give(taken);
        out
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IO", format!("the call did not finish: {e}")))?
}

pub(crate) type Body<T> = Result<Json<T>, JsonRejection>;

/// A JSON body, or the error its rejection calls for (413 when it is over the limit).
pub(crate) fn json_body<T>(body: Body<T>) -> Result<T, ApiError> {
    body.map(|Json(b)| b).map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", e.body_text()),
        _ => ApiError::invalid(e.body_text()),
    })
}

/// A JSON body that may be left out (no body, no content type): the defaults then.
pub(crate) fn optional_json<T: Default>(body: Body<T>) -> Result<T, ApiError> {
    match body {
        Err(JsonRejection::MissingJsonContentType(_)) => Ok(T::default()),
        other => json_body(other),
    }
}

fn ok(v: impl serde::Serialize) -> Answer {
    Ok(Json(serde_json::to_value(v).map_err(|e| ApiError::invalid(e.to_string()))?).into_response())
}

/// `GET /healthz`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Health {
    /// Always true: the server answers.
    ok: bool,
}

/// A registered project.
#[derive(Serialize, JsonSchema)]
pub(crate) struct ProjectInfo {
    /// The id routes use (derived from the folder).
    id: String,
    name: String,
    /// The project folder.
    path: std::path::PathBuf,
    /// Whether the folder holds `.twinsync/config.toml`.
    initialized: bool,
    /// Its pairs (`GET /projects/:id` of an initialised project only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pairs: Option<Vec<PairInfo>>,
}

/// A pair of a project.
#[derive(Serialize, JsonSchema)]
pub(crate) struct PairInfo {
    name: String,
    /// `folders`, `openspec` or `design`.
    kind: String,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct ProjectList {
    projects: Vec<ProjectInfo>,
}

fn project_info(r: &Registered) -> ProjectInfo {
    let initialized = r.path.join(".twinsync/config.toml").is_file();
    ProjectInfo { id: r.id.clone(), name: r.name.clone(), path: r.path.clone(), initialized, pairs: None }
}

async fn list_projects(State(state): Shared) -> Answer {
    ok(ProjectList { projects: state.registry.list().iter().map(project_info).collect() })
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewProject {
    name: String,
    path: std::path::PathBuf,
}

async fn add_project(State(state): Shared, body: Body<NewProject>) -> Answer {
    let p = json_body(body)?;
    if p.name.trim().is_empty() {
        return Err(ApiError::invalid("name: must not be empty"));
    }
    let r = state.registry.add(p.name.trim(), &p.path).map_err(ApiError::invalid)?;
    Ok((StatusCode::CREATED, Json(project_info(&r))).into_response())
}

async fn get_project(State(state): Shared, Path(id): Path<String>) -> Answer {
    let reg = registered(&state, &id)?;
    let mut info = project_info(&reg);
    if info.initialized {
        let pairs = on_project(&state, &id, None, |p| {
            Ok(p.pair_names()
                .into_iter()
                .map(|n| PairInfo { kind: p.pair(&n).map(|c| c.kind.to_string()).unwrap_or_default(), name: n })
                .collect::<Vec<_>>())
        })
        .await?;
        info.pairs = Some(pairs);
    }
    ok(info)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rename {
    name: String,
}

async fn rename_project(State(state): Shared, Path(id): Path<String>, body: Body<Rename>) -> Answer {
    let b = json_body(body)?;
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid("name: must not be empty"));
    }
    match state
        .registry
        .rename(&id, b.name.trim())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IO", e))?
    {
        Some(r) => ok(project_info(&r)),
        None => Err(ApiError::not_found(format!("no project {id} is registered here"))),
    }
}

async fn remove_project(State(state): Shared, Path(id): Path<String>) -> Answer {
    match state.registry.remove(&id).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IO", e))? {
        Some(r) => {
            // Its live clients are told now, and their poller starts no more reads; the pool
            // is emptied after, of all but what a call still in flight hands back.
            state.live.stop(&r.id);
            state.mcp.forget_project(&r.id);
            state.pool.forget(&r.path);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        None => Err(ApiError::not_found(format!("no project {id} is registered here"))),
    }
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub(crate) struct PairQuery {
    pair: Option<String>,
    limit: Option<usize>,
    since: Option<u64>,
}

fn pairs_of(q: &Option<String>) -> Vec<String> {
    q.iter().cloned().collect()
}

/// `GET /projects/:id/drift`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct DriftAnswer {
    /// Each pair's state, as `twinsync status` shows it.
    pairs: Vec<PairStatus>,
}

async fn drift(State(state): Shared, Path(id): Path<String>, Query(q): Query<PairQuery>) -> Answer {
    let pairs = on_project(&state, &id, None, move |p| Ok(p.status_pairs(&pairs_of(&q.pair))?)).await?;
    ok(DriftAnswer { pairs })
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct OperationBody {
    pair: Option<String>,
    dry_run: bool,
    policy: Option<String>,
    actor: Option<String>,
    formatting: bool,
}

/// `POST /projects/:id/operations`: the syncs run, or a dry run's preview.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum OperationAnswer {
    /// What the sync of each pair came to.
    Synced { pairs: Vec<PairSync> },
    /// What a sync of the pair would do.
    #[serde(rename_all = "camelCase")]
    DryRun {
        #[schemars(extend("const" = true))]
        dry_run: bool,
        pair: String,
        preview: Preview,
    },
}

async fn operation(State(state): Shared, Path(id): Path<String>, body: Body<OperationBody>) -> Answer {
    let b = optional_json(body)?;
    let policy: Option<Policy> = match &b.policy {
        Some(s) => Some(s.parse().map_err(|e| ApiError::invalid(format!("policy {s:?}: {e}")))?),
        None => None,
    };
    let req = SyncRequest { policy, formatting: b.formatting, ..SyncRequest::default() };
    let answer = on_project(&state, &id, b.actor.clone(), move |p| {
        if b.dry_run {
            let pair = match &b.pair {
                Some(n) => n.clone(),
                None => p.default_pair()?,
            };
            return Ok(OperationAnswer::DryRun { dry_run: true, preview: p.preview_of(&pair, &req)?, pair });
        }
        Ok(OperationAnswer::Synced { pairs: p.sync_pairs(&pairs_of(&b.pair), &req)? })
    })
    .await?;
    ok(answer)
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct UndoBody {
    pair: Option<String>,
    operation: Option<String>,
    actor: Option<String>,
}

async fn undo(State(state): Shared, Path(id): Path<String>, body: Body<UndoBody>) -> Answer {
    let b = optional_json(body)?;
    let r: UndoReport =
        on_project(&state, &id, b.actor.clone(), move |p| Ok(p.undo_in(b.pair.as_deref(), b.operation.as_deref())?))
            .await?;
    ok(r)
}

/// `GET /projects/:id/history`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct HistoryAnswer {
    /// Operation reports, newest first.
    operations: Vec<OperationReport>,
}

/// `GET /projects/:id/events`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct EventsAnswer {
    /// Outbox events after `since`, oldest first.
    events: Vec<Event>,
}

async fn history(State(state): Shared, Path(id): Path<String>, Query(q): Query<PairQuery>) -> Answer {
    let limit = q.limit.unwrap_or(50).min(1000);
    let ops = on_project(&state, &id, None, move |p| Ok(p.operations_of(&pairs_of(&q.pair), limit)?)).await?;
    ok(HistoryAnswer { operations: ops })
}

async fn events(State(state): Shared, Path(id): Path<String>, Query(q): Query<PairQuery>) -> Answer {
    let (since, limit) = (q.since.unwrap_or(0), q.limit.unwrap_or(500).min(5000));
    let events = on_project(&state, &id, None, move |p| Ok(p.events(since, limit)?)).await?;
    ok(EventsAnswer { events })
}

/// A lock as everyone may see it: never its token.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LockView {
    owner: String,
    reason: Option<String>,
    acquired_at: Timestamp,
    /// When it lapses unless renewed.
    expires_at: Timestamp,
}

impl From<twinsync::core::lock::Lock> for LockView {
    fn from(l: twinsync::core::lock::Lock) -> LockView {
        LockView { owner: l.owner, reason: l.reason, acquired_at: l.acquired_at, expires_at: l.expires_at }
    }
}

/// The project lock: `GET` and `POST /projects/:id/lock`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct LockState {
    locked: bool,
    /// The lock, while one is held.
    lock: Option<LockView>,
}

/// `DELETE /projects/:id/lock`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Unlocked {
    /// Always false.
    locked: bool,
}

async fn lock_status(State(state): Shared, Path(id): Path<String>) -> Answer {
    let lock = on_project(&state, &id, None, |p| Ok(p.lock_status()?)).await?;
    ok(LockState { locked: lock.is_some(), lock: lock.map(LockView::from) })
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LockBody {
    owner: String,
    reason: Option<String>,
    ttl_seconds: Option<u64>,
}

async fn lock_acquire(State(state): Shared, Path(id): Path<String>, body: Body<LockBody>) -> Answer {
    let b = json_body(body)?;
    if b.owner.trim().is_empty() {
        return Err(ApiError::invalid("owner: must not be empty"));
    }
    // The platform's default: a lock lapses after 30 minutes unless renewed.
    let ttl_ms = b.ttl_seconds.unwrap_or(1800).clamp(1, 7 * 24 * 3600) as i64 * 1000;
    let lock =
        on_project(&state, &id, Some(b.owner.clone()), move |p| Ok(p.lock_acquire(Some(ttl_ms), b.reason.as_deref())?))
            .await?;
    Ok((StatusCode::CREATED, Json(LockState { locked: true, lock: Some(lock.into()) })).into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct OwnerQuery {
    owner: Option<String>,
}

async fn lock_release(State(state): Shared, Path(id): Path<String>, Query(q): Query<OwnerQuery>) -> Answer {
    let Some(owner) = q.owner.filter(|o| !o.is_empty()) else {
        return Err(ApiError::invalid("owner: give ?owner=NAME, the lock's holder"));
    };
    on_project(&state, &id, Some(owner.clone()), move |p| match p.lock_status()? {
        None => Err(ApiError::not_found("the project is not locked")),
        Some(l) if l.owner != owner => Err(ApiError::new(
            StatusCode::CONFLICT,
            "LOCKED",
            format!("the lock is held by {}; only its owner releases it", l.owner),
        )),
        Some(_) => Ok(p.lock_release(&owner)?),
    })
    .await?;
    ok(Unlocked { locked: false })
}

async fn metrics(State(state): Shared, Path(id): Path<String>) -> Answer {
    let text = on_project(&state, &id, None, |p| Ok(p.metrics_text()?)).await?;
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response())
}
