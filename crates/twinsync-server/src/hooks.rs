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
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use twinsync::core::{Digest, Timestamp};
use twinsync::SyncRequest;

use crate::docs::DocsSynced;
use crate::error::ApiError;
use crate::keys::{bearer_token, with_key};
use crate::routes::{optional_json, Body};
use crate::AppState;

type Answer = Result<Response, ApiError>;

/// `GET /hook/status/:id`: the project lock, never its token.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HookStatus {
    locked: bool,
    /// Who holds the lock.
    locked_by: Option<String>,
    locked_at: Option<Timestamp>,
    expires_at: Option<Timestamp>,
    reason: Option<String>,
}

/// `GET /hook/docs/:id`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct HookDocs {
    pair: String,
    /// One digest of every item of the docs pair's edited side.
    hash: Digest,
}

pub(crate) async fn status(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Answer {
    let lock = with_key(&state, &id, bearer_token(&headers), None, |p, _| Ok(p.lock_status()?)).await?;
    Ok(Json(HookStatus {
        locked: lock.is_some(),
        locked_by: lock.as_ref().map(|l| l.owner.clone()),
        locked_at: lock.as_ref().map(|l| l.acquired_at),
        expires_at: lock.as_ref().map(|l| l.expires_at),
        reason: lock.and_then(|l| l.reason),
    })
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
    Ok(Json(HookDocs { pair, hash }).into_response())
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
    Ok(Json(DocsSynced::of(&report)).into_response())
}
