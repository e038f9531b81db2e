//! A project's credentials over HTTP, metadata only: the secret goes in once and never
//! comes back out.
//!
//! - `GET /projects/:id/credentials` answers `{"credentials": [...]}`: each one's name,
//!   provider, status (`pending`, `valid`, `expired`, `revoked`), metadata, the master
//!   key's fingerprint (`key_id`), and its dates (created, updated, validated, rotated,
//!   rotation due), brought up to date first (overdue ones expire), as `twinsync
//!   credentials list --json` lists them.
//! - `POST /projects/:id/credentials {"name", "provider", "value", "rotateEveryDays"?,
//!   "metadata"?}` adds one (status `pending`) and answers its metadata (201). 409 when
//!   the name is taken (`twinsync credentials rotate` replaces a value); 400 for a bad
//!   name, provider, period or an empty value.
//!
//! The facade seals the value with the master key (`TWINSYNC_MASTER_KEY`, or for an SQLite
//! store the user's key file) before it reaches the store; the record it answers has no
//! field that could carry it. A body that does not parse is refused with a message naming
//! the expected fields but quoting nothing of what was sent, since serde's own messages
//! quote values and the value may be the secret.
//!
//! Like API keys, these routes take the admin token beyond loopback, never a project's
//! API key (see `auth.rs`): a leaked key must not be able to plant credentials.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use twinsync::core::credential::{CredentialRecord, ProviderType};
use twinsync::core::secret::Secret;
use twinsync::NewCredential;

use crate::error::ApiError;
use crate::routes::{on_project, Body};
use crate::AppState;

const DAY_MS: i64 = 86_400_000;

/// A credential to add. `value` is the secret: it is sealed and never shown again.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewCredentialBody {
    /// 1 to 100 of `A-Z a-z 0-9 . _ -`.
    name: String,
    /// `notification`, `design`, `documentation`, `testing`, `ai` or `analytics`.
    provider: String,
    /// The secret (a token, a webhook key).
    #[schemars(with = "String")]
    value: Secret,
    /// How often it must be rotated, in days; past that it expires.
    rotate_every_days: Option<u32>,
    /// Free metadata (`account`, `scope`, a note); never the secret.
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// Every credential's metadata.
#[derive(Serialize, JsonSchema)]
pub(crate) struct CredentialList {
    /// By name.
    credentials: Vec<CredentialRecord>,
}

fn body_of(body: Body<NewCredentialBody>) -> Result<NewCredentialBody, ApiError> {
    body.map(|Json(b)| b).map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => ApiError::invalid("send the credential as application/json"),
        e if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", "the body is over the server's limit")
        }
        _ => ApiError::invalid(
            "the body is not a credential: expected {\"name\", \"provider\", \"value\" (strings), \
             \"rotateEveryDays\"? (a whole number of days), \"metadata\"? (strings by name)} and nothing else",
        ),
    })
}

pub(crate) async fn list(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let credentials = on_project(&state, &id, None, |p| Ok(p.credentials()?)).await?;
    Ok(Json(CredentialList { credentials }).into_response())
}

pub(crate) async fn add(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Body<NewCredentialBody>,
) -> Result<Response, ApiError> {
    let b = body_of(body)?;
    let provider: ProviderType =
        b.provider.parse().map_err(|e: String| ApiError::invalid(format!("credential {}: {e}", b.name)))?;
    let rotate_every_ms = match b.rotate_every_days {
        Some(0) => return Err(ApiError::invalid(format!("credential {}: rotateEveryDays must be 1 or more", b.name))),
        Some(d) => Some(i64::from(d) * DAY_MS),
        None => None,
    };
    let new = NewCredential { provider: Some(provider), rotate_every_ms, metadata: b.metadata };
    let (name, value) = (b.name, b.value);
    let record = on_project(&state, &id, None, move |p| {
        if p.credentials()?.iter().any(|c| c.name == name) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!("credential {name} already exists; `twinsync credentials rotate {name}` replaces its value"),
            ));
        }
        Ok(p.credential_add(&name, &value, new)?)
    })
    .await?;
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], Json(record)).into_response())
}
