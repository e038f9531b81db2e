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
//!
//! How it scales (`feed.rs`, `follow.rs`): every live connection to a project, WebSocket
//! or SSE, follows one poller of that project, which reads the outbox once per 100 ms
//! tick, or at once after a write this server made (any successful `POST`, `PUT`,
//! `PATCH` or `DELETE` under `/projects/:id/`, a hook sync, an `/mcp` call), and fans each
//! event out, serialised once. Events written by other processes (the CLI, a watch)
//! arrive within a tick. A connection with an older `since` replays from the store, then
//! joins the feed, skipping by outbox id what it already sent; one that falls more than
//! the feed's buffer behind (a slow client) reads the store from its last id instead, so
//! it never loses an event. A project's poller stops with its last connection, and every
//! poller and stream ends when the server shuts down.
//!
//! Unregistering a project (`DELETE /projects/:id`) stops its poller and ends its streams:
//! a WebSocket gets a close frame with code [`CLOSE_UNREGISTERED`] and a reason naming
//! the project, an SSE stream simply ends (an `EventSource` that reconnects gets 404 and
//! stops). A WebSocket also learns why other ends happen: 1001 when the server shuts
//! down, 1011 when the outbox cannot be read (both: reconnect with the last id seen).

mod feed;
mod follow;

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::Response;
use futures_util::Stream;
use serde::Deserialize;

pub(crate) use feed::Feeds;
use follow::{End, Follower};

use crate::error::ApiError;
use crate::routes::registered;
use crate::AppState;

/// The close code of a WebSocket whose project was unregistered: in the range RFC 6455
/// leaves to applications, 4000 plus the HTTP status a new connection would get.
pub(crate) const CLOSE_UNREGISTERED: u16 = 4404;

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
    let follower = follow_from(&state, &id, q.since).await?;
    Ok(ws.on_upgrade(move |socket| stream(socket, follower)))
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
    let follower = follow_from(&state, &id, resume.or(q.since)).await?;
    let events = futures_util::stream::unfold(follower, |mut follower| async move {
        let e = follower.next().await.ok()?;
        let event = SseEvent::default().id(e.id.to_string()).event(e.kind).data(e.json.as_str());
        Some((Ok(event), follower))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Joins the feed of project `id` before any upgrade or first byte, so a bad project is
/// an HTTP error, from `since`, else from the newest event the feed has read (only new
/// events).
async fn follow_from(state: &AppState, id: &str, since: Option<u64>) -> Result<Follower, ApiError> {
    let reg = registered(state, id)?;
    let source = feed::Source {
        id: id.to_string(),
        dir: reg.path.clone(),
        pool: state.pool.clone(),
        closing: state.closing.subscribe(),
    };
    // Subscribed before the start is fixed: nothing sent after it is missed.
    let (feed, rx) = state.live.join(source);
    // Unregistered since the look above: its feed may have been stopped before this one
    // was joined, and nothing would stop this one.
    let reg = registered(state, id)?;
    let (start, replay) = match since {
        Some(s) => (s, true),
        None => {
            let newest = feed.cursor().await.ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "IO",
                    format!("the events of project {id} cannot be read now; try again"),
                )
            })?;
            (newest, false)
        }
    };
    Ok(Follower::new(feed, rx, state.pool.clone(), reg.path, id.to_string(), start, replay, state.closing.subscribe()))
}

async fn stream(mut socket: WebSocket, mut follower: Follower) {
    loop {
        tokio::select! {
            next = follower.next() => match next {
                Ok(e) => {
                    if socket.send(Message::Text(e.json.clone())).await.is_err() {
                        return;
                    }
                }
                Err(end) => {
                    let frame = close_frame(end, follower.project());
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return;
                }
            },
            // The client's messages are not read for anything but its leaving.
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

fn close_frame(end: End, project: &str) -> CloseFrame {
    let (code, reason) = match end {
        End::Unregistered => (CLOSE_UNREGISTERED, format!("project {project} was unregistered")),
        End::Closing => (close_code::AWAY, "the server is shutting down; reconnect with since".to_string()),
        End::Failed => (close_code::ERROR, "the events cannot be read now; reconnect with since".to_string()),
    };
    CloseFrame { code, reason: reason.into() }
}

/// Pokes the live feed of the project a successful write was made to, so its clients
/// hear of it now rather than at the next tick.
pub(crate) async fn after_write(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let project = writes
        .then(|| {
            path.strip_prefix("/projects/")
                .or_else(|| path.strip_prefix("/hook/sync/"))
                .and_then(|rest| rest.split('/').next())
                .filter(|id| !id.is_empty())
                .map(str::to_string)
        })
        .flatten();
    let mcp = writes && path == "/mcp";
    let answer = next.run(req).await;
    if answer.status().is_success() {
        match project {
            Some(id) => state.live.poke(&id),
            None if mcp => state.live.poke_all(),
            None => {}
        }
    }
    answer
}
