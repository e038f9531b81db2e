//! API keys over HTTP: the routes that create, list and revoke a project's keys, and the
//! checks every key-guarded route shares.
//!
//! - `POST /projects/:id/api-keys {"name"}` answers `{"id", "name", "key", "createdAt"}`
//!   (201, `Cache-Control: no-store`): the only time the key is shown.
//! - `GET /projects/:id/api-keys` answers `{"keys": [{"id", "name", "createdAt",
//!   "lastUsedAt", "revoked", "revokedAt"}]}`, never a key or its hash.
//! - `DELETE /projects/:id/api-keys/:kid` revokes (200 with the key, 404 for no such id).
//!
//! Managing keys needs the admin token beyond loopback, never a key: a leaked key must
//! not be able to mint itself successors or revoke the keys of the people fixing it.
//!
//! A key is checked against the store of the project it is presented to, by its hash
//! (see the facade's `api_keys` module); no key is kept in the server's memory or files.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use twinsync::core::secret::Secret;
use twinsync::core::Timestamp;
use twinsync::{looks_like_api_key, ApiKeyInfo, KeyCheck, Project};

use crate::error::ApiError;
use crate::pool::Pool;
use crate::registry::{Registered, Registry};
use crate::routes::{json_body, on_project, registered, Body};
use crate::AppState;

type Answer = Result<Response, ApiError>;

/// The token of `Authorization: Bearer TOKEN`, if the request has one.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))?.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn missing() -> ApiError {
    ApiError::unauthorized(
        "this route needs an API key: send `Authorization: Bearer tsk_...` (see `twinsync keys create`)",
    )
}

fn refused(check: &KeyCheck, project: &str) -> ApiError {
    match check {
        KeyCheck::Revoked(k) => ApiError::forbidden(format!("API key {} ({}) was revoked", k.id, k.name)),
        _ => ApiError::forbidden(format!("the API key sent is not a key of project {project}")),
    }
}

/// What `token` is to the project at `reg`, checked on the calling (blocking) thread.
fn check_blocking(reg: &Registered, token: &Secret) -> Result<KeyCheck, twinsync::Error> {
    if !looks_like_api_key(token.expose()) {
        return Ok(KeyCheck::Unknown);
    }
    Project::open(&reg.path)?.api_key_verify(token.expose())
}

/// What `token` is to the project at `reg`, on a project from the server's pool.
fn check_pooled(pool: &Pool, reg: &Registered, token: &Secret) -> Result<KeyCheck, twinsync::Error> {
    if !looks_like_api_key(token.expose()) {
        return Ok(KeyCheck::Unknown);
    }
    let mut taken = pool.take(&reg.path)?;
    let check = taken.project.api_key_verify(token.expose());
    pool.give(taken);
    check
}

/// The project an API key belongs to, for a route that names no project (`/mcp`):
/// 401 when `token` is `None` or empty, 403 when it is a key of no registered project or
/// a revoked one. Each registered project's store is asked in turn (one indexed lookup
/// each), on the blocking pool; a project that cannot be opened is passed over.
pub async fn project_for_key(registry: &Registry, token: Option<&str>) -> Result<Registered, ApiError> {
    find_key(registry.list(), token, check_blocking).await
}

/// As [`project_for_key`], on the server's open projects (`pool.rs`), asking project
/// `hint` first: the one this key was last accepted for, so a client that keeps calling
/// costs one indexed lookup per call, not one per project. The hint only orders the
/// search; the key is checked against the store each time, so a revocation (by this
/// server or the CLI) is refused at its next call.
pub(crate) async fn project_of_key(
    state: &AppState,
    token: Option<&str>,
    hint: Option<&str>,
) -> Result<Registered, ApiError> {
    let mut projects = state.registry.list();
    if let Some(at) = hint.and_then(|h| projects.iter().position(|r| r.id == h)) {
        let first = projects.remove(at);
        projects.insert(0, first);
    }
    let pool = state.pool.clone();
    find_key(projects, token, move |reg, token| check_pooled(&pool, reg, token)).await
}

/// The first of `projects` that `token` is a key of, by `check`. Keys are 256 random
/// bits, so the first project that knows the key (live or revoked) is its only one.
async fn find_key(
    projects: Vec<Registered>,
    token: Option<&str>,
    check: impl Fn(&Registered, &Secret) -> Result<KeyCheck, twinsync::Error> + Send + 'static,
) -> Result<Registered, ApiError> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else { return Err(missing()) };
    if !looks_like_api_key(token) {
        return Err(ApiError::forbidden("the token sent is not an API key (they start with tsk_)"));
    }
    let token = Secret::new(token);
    tokio::task::spawn_blocking(move || {
        for reg in projects {
            match check(&reg, &token) {
                Ok(KeyCheck::Accepted(_)) => return Ok(reg),
                Ok(check @ KeyCheck::Revoked(_)) => return Err(refused(&check, &reg.id)),
                Ok(KeyCheck::Unknown) | Err(_) => {}
            }
        }
        Err(ApiError::forbidden("the API key sent is not a key of any project here"))
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IO", format!("the key check did not finish: {e}")))?
}

/// Checks that `token` is a live API key of project `id` (401 missing, 403 revoked or
/// not the project's, 404 no such project).
pub(crate) async fn key_of_project(state: &AppState, id: &str, token: Option<String>) -> Result<ApiKeyInfo, ApiError> {
    let reg = registered(state, id)?;
    let token = Secret::new(token.filter(|t| !t.is_empty()).ok_or_else(missing)?);
    let id = id.to_string();
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || match check_pooled(&pool, &reg, &token)? {
        KeyCheck::Accepted(k) => Ok(k),
        other => Err(refused(&other, &id)),
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IO", format!("the key check did not finish: {e}")))?
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewKey {
    name: String,
}

/// `POST /projects/:id/api-keys`: the only answer that carries the key.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatedKey {
    /// The public id (`key_...`).
    id: String,
    name: String,
    /// The key (`tsk_...`), shown this once.
    key: String,
    created_at: Timestamp,
}

/// `GET /projects/:id/api-keys`: never a key or its hash.
#[derive(Serialize, JsonSchema)]
pub(crate) struct KeyList {
    keys: Vec<ApiKeyInfo>,
}

pub(crate) async fn create(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Body<NewKey>) -> Answer {
    let b = json_body(body)?;
    let made = on_project(&state, &id, None, move |p| Ok(p.api_key_create(&b.name)?)).await?;
    let body = CreatedKey {
        key: made.key.expose().to_string(),
        id: made.info.id,
        name: made.info.name,
        created_at: made.info.created_at,
    };
    // The key is in this answer only: no cache on the way may keep it.
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

pub(crate) async fn list(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let keys = on_project(&state, &id, None, |p| Ok(p.api_key_list()?)).await?;
    Ok(Json(KeyList { keys }).into_response())
}

pub(crate) async fn revoke(State(state): State<Arc<AppState>>, Path((id, kid)): Path<(String, String)>) -> Answer {
    let key = on_project(&state, &id, None, move |p| Ok(p.api_key_revoke(&kid)?)).await?;
    Ok(Json(key).into_response())
}

/// Runs `f` on project `id` once `token` proved to be a live key of it, in one trip to
/// the blocking pool on one pooled project: a hook, called on every editor save, costs
/// a key lookup and its own reads. `f` acts as `actor`, else as the key's name.
pub(crate) async fn with_key<T: Send + 'static>(
    state: &AppState,
    id: &str,
    token: Option<String>,
    actor: Option<String>,
    f: impl FnOnce(&mut Project, &ApiKeyInfo) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let reg = registered(state, id)?;
    let token = Secret::new(token.filter(|t| !t.is_empty()).ok_or_else(missing)?);
    let id = id.to_string();
    let pool = state.pool.clone();
    tokio::task::spawn_blocking(move || {
        if !looks_like_api_key(token.expose()) {
            return Err(refused(&KeyCheck::Unknown, &id));
        }
        let mut taken = pool.take(&reg.path)?;
        let p = &mut taken.project;
        let out = match p.api_key_verify(token.expose()) {
            Ok(KeyCheck::Accepted(key)) => {
                p.set_actor(actor.unwrap_or_else(|| key.name.clone()));
                f(p, &key)
            }
            Ok(other) => Err(refused(&other, &id)),
            Err(e) => Err(e.into()),
        };
        pool.give(taken);
        out
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IO", format!("the call did not finish: {e}")))?
}
