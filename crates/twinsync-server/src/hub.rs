//! The hub's routes beyond sync, drift and undo (coverage, credentials, the nightly
//! schedule, browser test sessions) and `/openapi.json`, merged into the server's router
//! in one place so `routes.rs` stays as it was. Each lives in the module of its concept.

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::{coverage, credentials, openapi, schedule, sessions, AppState};

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route("/projects/{id}/coverage", get(coverage::get))
        .route("/projects/{id}/credentials", get(credentials::list).post(credentials::add))
        .route("/projects/{id}/schedule", get(schedule::get).post(schedule::set))
        .route("/projects/{id}/browser-sessions", get(sessions::list).post(sessions::start))
        .route("/projects/{id}/browser-sessions/{sid}", get(sessions::get))
        .route("/projects/{id}/browser-sessions/{sid}/finish", post(sessions::finish))
}
