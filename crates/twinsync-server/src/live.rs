//! Live events: a WebSocket at `/projects/:id/ws?since=ID` that sends every outbox event
//! after `since` (default: only new ones), in order, each once, as a JSON text message
//! `{"id", "type", "time", "pair", "correlationId", "payload", "projectId"}`. A client
//! that reconnects with the last id it saw gets what it missed, with no gap and no
//! duplicate, since the outbox is the one source and ids only grow.
//!
//! The same stream as Server-Sent Events at `/projects/:id/events/stream?since=ID`, for
//! clients without WebSocket: each event has the outbox id as its SSE `id`, its type as
//! the SSE `event` and the same JSON as `data`; a reconnecting `EventSource` sends
//! `Last-Event-ID` and resumes after it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::Response;
use futures_util::Stream;
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
    let (project, since) = open_at(&state, &id, q.since).await?;
    let closing = state.closing.subscribe();
    Ok(ws.on_upgrade(move |socket| stream(socket, project, id, since, closing)))
}

/// `GET /projects/:id/events/stream`: the events as Server-Sent Events.
pub(crate) async fn sse(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<Since>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    // An EventSource that reconnects says where it was; that wins over the URL's `since`.
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let (project, since) = open_at(&state, &id, resume.or(q.since)).await?;
    let closing = state.closing.subscribe();
    let start = (project, since, VecDeque::new(), closing);
    let events = futures_util::stream::unfold(start, move |(project, mut last, mut queue, mut closing)| {
        let id = id.clone();
        async move {
            loop {
                if *closing.borrow() {
                    return None;
                }
                if let Some(e) = queue.pop_front() {
                    return Some((Ok(e), (project, last, queue, closing)));
                }
                let p = project.clone();
                match tokio::task::spawn_blocking(move || p.lock().expect("project").events(last, 500)).await {
                    Ok(Ok(events)) if events.is_empty() => {
                        tokio::select! {
                            _ = tokio::time::sleep(POLL) => {}
                            _ = closing.changed() => return None,
                        }
                    }
                    Ok(Ok(events)) => {
                        for e in &events {
                            last = e.id;
                            let data = message(e, &id).to_string();
                            queue.push_back(
                                SseEvent::default().id(e.id.to_string()).event(e.event_type.as_str()).data(data),
                            );
                        }
                    }
                    // The store failed: end the stream; the client reconnects with its id.
                    _ => return None,
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Opens project `id` once for a live connection, before any upgrade or first byte, so a
/// bad project is an HTTP error; answers it with the id to follow from (`since`, else
/// the newest: only new events).
async fn open_at(state: &AppState, id: &str, since: Option<u64>) -> Result<(Arc<Mutex<Project>>, u64), ApiError> {
    let reg = registered(state, id)?;
    let (project, since) = tokio::task::spawn_blocking(move || -> Result<(Project, u64), twinsync::Error> {
        let mut p = Project::open(&reg.path)?;
        let since = match since {
            Some(s) => s,
            None => p.newest_event_id()?,
        };
        Ok((p, since))
    })
    .await
    .map_err(|e| ApiError::invalid(e.to_string()))??;
    Ok((Arc::new(Mutex::new(project)), since))
}

/// An outbox event as a live message of project `id`.
fn message(e: &twinsync::core::Event, id: &str) -> serde_json::Value {
    serde_json::json!({
        "id": e.id, "type": e.event_type, "time": e.time.to_rfc3339(), "pair": e.pair,
        "correlationId": e.correlation_id, "payload": e.payload, "projectId": id,
    })
}

async fn stream(
    mut socket: WebSocket,
    project: Arc<Mutex<Project>>,
    id: String,
    mut last: u64,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let p = project.clone();
        let batch = tokio::task::spawn_blocking(move || p.lock().expect("project").events(last, 500)).await;
        let events = match batch {
            Ok(Ok(e)) => e,
            _ => break,
        };
        for e in &events {
            if socket.send(Message::Text(message(e, &id).to_string().into())).await.is_err() {
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
            _ = closing.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
        }
    }
}
