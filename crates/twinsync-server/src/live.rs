//! Live events: a WebSocket at `/projects/:id/ws?since=ID` that sends every outbox event
//! after `since` (default: only new ones), in order, each once, as a JSON text message
//! `{"id", "type", "time", "pair", "correlationId", "payload", "projectId"}`. A client
//! that reconnects with the last id it saw gets what it missed, with no gap and no
//! duplicate, since the outbox is the one source and ids only grow.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use twinsync::Project;

use crate::error::ApiError;
use crate::routes::registered;
use crate::AppState;

/// How often a quiet connection looks at the outbox.
const POLL: Duration = Duration::from_millis(100);

#[derive(Deserialize)]
pub(crate) struct Since {
    since: Option<u64>,
}

pub(crate) async fn upgrade(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<Since>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let reg = registered(&state, &id)?;
    // Opened once per connection, before the upgrade, so a bad project is an HTTP error.
    let (project, since) = tokio::task::spawn_blocking(move || -> Result<(Project, u64), twinsync::Error> {
        let mut p = Project::open(&reg.path)?;
        let since = match q.since {
            Some(s) => s,
            None => p.newest_event_id()?,
        };
        Ok((p, since))
    })
    .await
    .map_err(|e| ApiError::invalid(e.to_string()))??;
    let project = Arc::new(Mutex::new(project));
    Ok(ws.on_upgrade(move |socket| stream(socket, project, id, since)))
}

async fn stream(mut socket: WebSocket, project: Arc<Mutex<Project>>, id: String, mut last: u64) {
    loop {
        let p = project.clone();
        let batch = tokio::task::spawn_blocking(move || p.lock().expect("project").events(last, 500)).await;
        let events = match batch {
            Ok(Ok(e)) => e,
            _ => break,
        };
        for e in &events {
            let msg = serde_json::json!({
                "id": e.id, "type": e.event_type, "time": e.time.to_rfc3339(), "pair": e.pair,
                "correlationId": e.correlation_id, "payload": e.payload, "projectId": id,
            });
            if socket.send(Message::Text(msg.to_string().into())).await.is_err() {
                return;
            }
            last = e.id;
        }
        if !events.is_empty() {
            continue;
        }
        // Quiet: wait a little, or end when the client closes.
        tokio::select! {
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}
