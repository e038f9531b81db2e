//! Docs over HTTP: the items of a pair (`?pair=NAME`, default the project's only or
//! `default` pair) on the side the platform edits (the database side, else the left
//! side), read and written one at a time with no lost update. The facade's `docs`
//! module owns the rules (digest, version, the write and its sync); this layer maps HTTP
//! onto them.
//!
//! - `GET /projects/:id/docs` → `{"pair", "side", "docs": [{"path", "digest", "version"}]}`.
//! - `GET /projects/:id/docs/*path` → `{"path", "pair", "kind", "content", "encoding",
//!   "digest", "version"}` with `ETag: "<digest>"`. Text and JSON come as text
//!   (`"encoding": "utf-8"`), anything else as base64 (`"encoding": "base64"`).
//! - `PUT /projects/:id/docs/*path` with `{"content", "encoding"?, "actor"?}`: writes the
//!   edited side as `actor` (the project lock binds it) and syncs the item. 200 with the
//!   new digest and version (201 when it created the doc), and the sync that followed.
//!   Preconditions, as HTTP has them:
//!   - `If-Match: <digest>` (quoted or not): replace the doc with that digest; 412 when
//!     it has another one now (the answer names it), nothing written.
//!   - `If-None-Match: *`: create; 412 when the doc exists.
//!   - neither: 428. `If-Match: *` ("whatever is there") is refused with 428 too: it is
//!     exactly the blind overwrite the precondition is there to prevent.
//! - `POST /projects/:id/docs/sync` with an optional `{"pair", "actor"}`: a sync of the
//!   pair. A doc whose path is `sync` at the pair's root cannot be reached through
//!   `/docs/*path` (the sync route wins); anything in a folder or with an extension can.
//!
//! `doc:updated {docId, hash}` reaches the outbox once per changed doc (the facade's rule).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use twinsync::core::report::{OperationStatus, ReportCounts};
use twinsync::core::{Content, ContentKind, Digest, OperationReport, Side};
use twinsync::{DocEntry, DocPrecondition, SyncRequest};

use crate::error::ApiError;
use crate::routes::{json_body, on_project, optional_json, Body};
use crate::AppState;

type Answer = Result<Response, ApiError>;
type Shared = State<Arc<AppState>>;

#[derive(Deserialize, Default, schemars::JsonSchema)]
pub(crate) struct PairQuery {
    pair: Option<String>,
}

fn etag(d: &Digest) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{d}\"")).expect("a digest is ASCII")
}

/// A sync in a few words: the docs and hook routes answer this, not the whole report.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SyncSummary {
    pair: String,
    operation_id: String,
    status: OperationStatus,
    counts: ReportCounts,
}

impl From<&OperationReport> for SyncSummary {
    fn from(r: &OperationReport) -> SyncSummary {
        SyncSummary { pair: r.scope.clone(), operation_id: r.operation_id.clone(), status: r.status, counts: r.counts }
    }
}

/// `POST /projects/:id/docs/sync` and `POST /hook/sync/:id`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct DocsSynced {
    docs: SyncSummary,
}

impl DocsSynced {
    pub(crate) fn of(r: &OperationReport) -> DocsSynced {
        DocsSynced { docs: r.into() }
    }
}

/// `GET /projects/:id/docs`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct DocList {
    pair: String,
    /// The side the platform edits.
    side: Side,
    docs: Vec<DocEntry>,
}

/// How a doc's content is spelt in JSON.
#[derive(Serialize, JsonSchema)]
pub(crate) enum Encoding {
    /// As it is (text and JSON).
    #[serde(rename = "utf-8")]
    Utf8,
    /// Base64 (anything else).
    #[serde(rename = "base64")]
    Base64,
}

/// `GET /projects/:id/docs/*path`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct DocAnswer {
    path: String,
    pair: String,
    kind: ContentKind,
    content: String,
    encoding: Encoding,
    digest: Digest,
    /// How many times the doc changed.
    version: u64,
}

/// `PUT /projects/:id/docs/*path`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct DocWritten {
    path: String,
    pair: String,
    digest: Digest,
    version: u64,
    /// Whether the write created the doc.
    created: bool,
    /// Whether the content differed from what was there.
    changed: bool,
    /// The sync that followed the write.
    sync: Option<SyncSummary>,
}

pub(crate) async fn list(State(state): Shared, Path(id): Path<String>, Query(q): Query<PairQuery>) -> Answer {
    let v = on_project(&state, &id, None, move |p| {
        let pair = p.docs_pair(q.pair.as_deref())?;
        let side = p.docs_side(&pair)?;
        let docs = p.docs_list(&pair)?;
        Ok(DocList { pair, side, docs })
    })
    .await?;
    Ok(Json(v).into_response())
}

pub(crate) async fn get(
    State(state): Shared,
    Path((id, path)): Path<(String, String)>,
    Query(q): Query<PairQuery>,
) -> Answer {
    let (pair, doc) = on_project(&state, &id, None, move |p| {
        let pair = p.docs_pair(q.pair.as_deref())?;
        let doc = p.doc_get(&pair, &path)?;
        Ok((pair, doc))
    })
    .await?;
    let (content, encoding) = match &doc.content {
        Content::Bytes(b) => (base64::engine::general_purpose::STANDARD.encode(b), Encoding::Base64),
        other => (String::from_utf8_lossy(other.as_bytes()).into_owned(), Encoding::Utf8),
    };
    let body = DocAnswer {
        path: doc.entry.path.clone(),
        pair,
        kind: doc.content.kind(),
        content,
        encoding,
        digest: doc.entry.digest,
        version: doc.entry.version,
    };
    Ok(([(header::ETAG, etag(&doc.entry.digest))], Json(body)).into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocBody {
    content: String,
    encoding: Option<String>,
    actor: Option<String>,
}

/// What the request's preconditions ask, or the 428/400 they call for.
fn precondition(headers: &HeaderMap, path: &str) -> Result<DocPrecondition, ApiError> {
    let text = |h: header::HeaderName| -> Result<Option<String>, ApiError> {
        headers
            .get(&h)
            .map(|v| v.to_str().map(|s| s.trim().to_string()))
            .transpose()
            .map_err(|_| ApiError::invalid(format!("{h}: not ASCII")))
    };
    let required = |why: &str| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "PRECONDITION_REQUIRED",
            format!(
                "{path}: {why}; send `If-Match: <digest>` with the digest you read (GET gives it, and its ETag), \
                 or `If-None-Match: *` to create a new doc"
            ),
        )
    };
    match (text(header::IF_MATCH)?, text(header::IF_NONE_MATCH)?) {
        (Some(m), _) if m == "*" => Err(required("`If-Match: *` would overwrite whatever is there")),
        (Some(m), _) => {
            let m = m.strip_prefix("W/").unwrap_or(&m);
            let m = m.trim_matches('"');
            m.parse::<Digest>().map(DocPrecondition::Digest).map_err(|_| {
                ApiError::invalid(format!("If-Match {m:?}: not a digest (expected sha256:<64 hex digits>)"))
            })
        }
        (None, Some(n)) if n == "*" => Ok(DocPrecondition::Absent),
        (None, Some(n)) => Err(ApiError::invalid(format!(
            "If-None-Match {n:?}: only `*` (create) is understood here; to replace a doc send If-Match"
        ))),
        (None, None) => Err(required("a write must say which version it replaces")),
    }
}

pub(crate) async fn put(
    State(state): Shared,
    Path((id, path)): Path<(String, String)>,
    Query(q): Query<PairQuery>,
    headers: HeaderMap,
    body: Body<DocBody>,
) -> Answer {
    let pre = precondition(&headers, &path)?;
    let b = json_body(body)?;
    let bytes = match b.encoding.as_deref() {
        None | Some("utf-8") => b.content.into_bytes(),
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(b.content.trim())
            .map_err(|e| ApiError::invalid(format!("{path}: content is not base64: {e}")))?,
        Some(other) => return Err(ApiError::invalid(format!("encoding {other:?}: use utf-8 or base64"))),
    };
    let (pair, w) = on_project(&state, &id, b.actor, move |p| {
        let pair = p.docs_pair(q.pair.as_deref())?;
        let w = p.doc_put(&pair, &path, bytes, &pre).map_err(|e| match e {
            twinsync::Error::StaleDoc { .. } => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED", e.to_string())
            }
            other => other.into(),
        })?;
        Ok((pair, w))
    })
    .await?;
    let status = if w.created { StatusCode::CREATED } else { StatusCode::OK };
    let body = DocWritten {
        path: w.entry.path.clone(),
        pair,
        digest: w.entry.digest,
        version: w.entry.version,
        created: w.created,
        changed: w.changed,
        sync: w.sync.as_ref().map(SyncSummary::from),
    };
    Ok((status, [(header::ETAG, etag(&w.entry.digest))], Json(body)).into_response())
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SyncBody {
    pair: Option<String>,
    actor: Option<String>,
}

pub(crate) async fn sync(State(state): Shared, Path(id): Path<String>, body: Body<SyncBody>) -> Answer {
    let b = optional_json(body)?;
    let report = on_project(&state, &id, b.actor.clone(), move |p| {
        let pair = p.docs_pair(b.pair.as_deref())?;
        Ok(p.sync_pair(&pair, &SyncRequest::default())?)
    })
    .await?;
    Ok(Json(DocsSynced::of(&report)).into_response())
}
