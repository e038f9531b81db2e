//! The hook API, for editor hooks (the platform's `check-platform.sh` and
//! `protect-docs.sh`, or `twinsync guard` with `[guard] server`). Every route needs a live
//! API key of its project as `Authorization: Bearer tsk_...`, on loopback too: 401
//! without one, 403 for a revoked key or another project's.
//!
//! - `GET /hook/status/:id` → `{"locked", "lockedBy", "lockedAt", "expiresAt", "reason"}`:
//!   the project lock, never its token.
//! - `GET /hook/docs/:id[?pair=NAME]` → `{"pair", "hash"}`: one digest of every item of
//!   the docs pair's edited side (`sha256:<hex>`), equal whenever the items are, so a hook
//!   can tell "nothing changed" without listing them.
//! - `POST /hook/sync/:id` with an optional `{"pair", "actor"}` → `{"docs": {"pair",
//!   "operationId", "status", "counts"}}`: a sync of the docs pair, as the key's name
//!   unless `actor` says who (the lock binds it as any writer).
//!
//! What a call costs, since hooks run on every editor save: the project comes open from
//! the server's pool (`pool.rs`; a `stat` of its config, no reopening), the key is one
//! indexed lookup by its hash in that project's store (never a scan of keys or
//! projects), then the route's own reads. Nothing about keys is cached, so a key revoked
//! by this server or by `twinsync keys revoke` is refused (403) at its next call. A
//! key's last use is written coalesced: at most once a minute per key (the facade's
//! `LAST_USE_RESOLUTION_MS`), by the call that finds the recorded one a minute old or
//! more, so a hook called many times a second costs reads, not writes.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use twinsync::SyncRequest;

use crate::error::ApiError;
use crate::keys::{bearer_token, with_key};
use crate::routes::{optional_json, Body};
use crate::AppState;

type Answer = Result<Response, ApiError>;

pub(crate) async fn status(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Answer {
    let lock = with_key(&state, &id, bearer_token(&headers), None, |p, _| Ok(p.lock_status()?)).await?;
    Ok(Json(json!({
        "locked": lock.is_some(),
        "lockedBy": lock.as_ref().map(|l| l.owner.clone()),
        "lockedAt": lock.as_ref().map(|l| l.acquired_at.to_rfc3339()),
        "expiresAt": lock.as_ref().map(|l| l.expires_at.to_rfc3339()),
        "reason": lock.as_ref().and_then(|l| l.reason.clone()),
    }))
    .into_response())
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub(crate) struct PairOnly {
    pair: Option<String>,
}

pub(crate) async fn docs(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<PairOnly>,
    headers: HeaderMap,
) -> Answer {
    let (pair, hash) = with_key(&state, &id, bearer_token(&headers), None, move |p, _| {
        let pair = p.docs_pair(q.pair.as_deref())?;
        let hash = p.docs_digest(&pair)?;
        Ok((pair, hash))
    })
    .await?;
    Ok(Json(json!({ "pair": pair, "hash": hash })).into_response())
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct HookSync {
    pair: Option<String>,
    actor: Option<String>,
}

pub(crate) async fn sync(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body<HookSync>,
) -> Answer {
    let b = optional_json(body)?;
    let report = with_key(&state, &id, bearer_token(&headers), b.actor.clone(), move |p, _| {
        let pair = p.docs_pair(b.pair.as_deref())?;
        Ok(p.sync_pair(&pair, &SyncRequest::default())?)
    })
    .await?;
    Ok(Json(json!({ "docs": {
        "pair": report.scope, "operationId": report.operation_id, "status": report.status.as_str(),
        "counts": report.counts,
    }}))
    .into_response())
}
