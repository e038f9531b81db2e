//! `twinsync serve`: the team platform's server, a thin axum layer over the facade.
//!
//! It hosts many projects, each registered by its folder (`POST /projects`), and answers
//! with JSON:
//! - projects: `GET/POST /projects`, `GET/PUT/DELETE /projects/:id` (`PUT {"name"}`
//!   renames);
//! - docs, the items of a pair on the side the platform edits: `GET /projects/:id/docs`,
//!   `GET/PUT /projects/:id/docs/*path` (`If-Match` with the digest: 412 stale, 428
//!   missing; `If-None-Match: *` creates), `POST /projects/:id/docs/sync` (`docs.rs`);
//! - a project's pairs: `GET /projects/:id/drift`, `POST /projects/:id/operations` (a
//!   sync or a dry run), `POST /projects/:id/undo`, `GET /projects/:id/history`,
//!   `GET /projects/:id/events?since=ID`;
//! - the hub beyond sync (`hub.rs` merges them): `GET /projects/:id/coverage` (story
//!   coverage of a design pair, `coverage.rs`), `GET/POST /projects/:id/credentials`
//!   (metadata only, `credentials.rs`), `GET/POST /projects/:id/schedule` (the nightly
//!   sync, run by the server's scheduler task, `schedule.rs`), and
//!   `POST/GET /projects/:id/browser-sessions[/:sid]`, `POST .../:sid/finish` (browser
//!   test sessions, `sessions.rs`);
//! - `GET /openapi.json`: OpenAPI 3.1 built from `openapi::ROUTES` (the one list of
//!   every route) and the routes' types (`openapi.rs`);
//! - the project lock: `GET/POST/DELETE /projects/:id/lock`;
//! - live events: a WebSocket at `/projects/:id/ws?since=ID`, and Server-Sent Events at
//!   `/projects/:id/events/stream` (resuming after `Last-Event-ID`), carrying outbox events in
//!   order, each once, replaying what a reconnecting client missed (`live/`). All the live
//!   connections to a project share one poller of its outbox (a read per 100 ms tick, or
//!   at once after a write this server made), which fans each event out to them;
//! - the web page: `GET /` and its assets under `/assets/` (`page.rs`);
//! - `GET /healthz`, and `GET /projects/:id/metrics` (the Prometheus text);
//! - API keys: `POST/GET /projects/:id/api-keys`, `DELETE /projects/:id/api-keys/:kid`
//!   (`keys.rs`); [`project_for_key`] finds the project of a key for routes that name
//!   none (`/mcp`);
//! - the hook API for editor hooks, always with an API key of the project (401 without,
//!   403 revoked or another project's): `GET /hook/status/:id`, `GET /hook/docs/:id`,
//!   `POST /hook/sync/:id` (`hooks.rs`);
//! - `/mcp`: the facade's MCP tools over Streamable HTTP (rmcp), always with an API key,
//!   each key's sessions serving its project only (`mcp.rs`).
//!
//! Every answer that is an error has one shape, `{"error": {"code", "message"}}`.
//!
//! It binds to loopback by default. Listening anywhere else needs an admin token
//! (`--admin-token` or `TWINSYNC_ADMIN_TOKEN`), sent as `Authorization: Bearer`,
//! `?access_token=` or the `twinsync_token` cookie; an API key of a project is accepted
//! instead for that project's routes (see `auth.rs`). Put a TLS-terminating reverse proxy
//! in front for anything beyond a trusted network.
//!
//! axum on tokio: the well-kept, widely used async HTTP stack, with WebSocket support
//! built in. Each request runs on its project on the blocking pool, so a slow sync never
//! stalls the event loop, and the facade's locks and leases rule writers exactly as they
//! do for the CLI. Projects stay open between requests (`pool.rs`): opening one costs far
//! more than a hook's reads.

mod auth;
mod coverage;
mod credentials;
mod docs;
mod error;
mod hooks;
mod hub;
mod keys;
mod live;
mod mcp;
pub mod openapi;
mod page;
mod pool;
mod registry;
mod routes;
mod schedule;
mod sessions;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use error::{ApiError, ServeError};
pub use keys::{bearer_token, project_for_key};
pub use registry::{Registered, Registry};

/// How a server is set up.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen (default `127.0.0.1:7878`).
    pub listen: SocketAddr,
    /// Where the server keeps its list of projects.
    pub data: PathBuf,
    /// The admin token, required to listen beyond loopback.
    pub admin_token: Option<String>,
    /// The largest request body accepted (larger: 413).
    pub max_body: usize,
    /// The longest a request may take to be answered (longer: 503 `TIMEOUT`). Live
    /// streams are answered at once and then stream for as long as they are open.
    pub timeout: std::time::Duration,
    /// Where the nightly schedule reads the time: the system clock when `None`; a test's
    /// `ManualClock` makes a schedule due at once.
    pub clock: Option<twinsync::core::ManualClock>,
    /// The longest the scheduler sleeps before looking at the clock again (default 60 s),
    /// so a clock that jumps (a suspend, a test's) is noticed.
    pub schedule_tick: std::time::Duration,
}

impl ServeOptions {
    /// Loopback on `listen`, the registry in `data`, no admin token, 1 MiB bodies, and
    /// answers within 120 s.
    pub fn new(listen: SocketAddr, data: PathBuf) -> ServeOptions {
        ServeOptions {
            listen,
            data,
            admin_token: None,
            max_body: 1 << 20,
            timeout: std::time::Duration::from_secs(120),
            clock: None,
            schedule_tick: std::time::Duration::from_secs(60),
        }
    }
}

/// What every handler shares.
pub(crate) struct AppState {
    pub(crate) registry: Registry,
    pub(crate) auth: auth::Auth,
    /// Open projects kept between requests.
    pub(crate) pool: Arc<pool::Pool>,
    /// The MCP endpoints of the keys that called `/mcp`.
    pub(crate) mcp: mcp::McpHosts,
    /// The live event feeds, one per followed project.
    pub(crate) live: live::Feeds,
    /// Turns true when the server stops: live streams (SSE, WebSocket) end on it, since
    /// a graceful shutdown waits for every open response.
    pub(crate) closing: tokio::sync::watch::Sender<bool>,
    /// The nightly syncs (`schedule.rs`).
    pub(crate) schedules: schedule::Schedules,
    /// What the scheduler reads the time from.
    pub(crate) clock: Arc<dyn twinsync::core::Clock>,
}

impl AppState {
    /// Ends what would hold a graceful shutdown open: MCP sessions and live streams.
    fn close(&self) {
        self.mcp.close();
        self.closing.send_replace(true);
    }
}

/// A server running on a thread of its own (tests, embedding hosts).
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Server {
    /// Binds and starts serving; returns once the socket listens.
    pub fn start(opts: ServeOptions) -> Result<Server, ServeError> {
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("twinsync-serve".into())
            .spawn(move || {
                let rt = runtime()?;
                rt.block_on(async move {
                    let bound = bind(&opts).await;
                    let (listener, app, state) = match bound {
                        Ok(b) => b,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return Ok(());
                        }
                    };
                    let _ = ready_tx.send(Ok(listener.local_addr().map_err(|e| e.to_string())));
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stop_rx.await;
                            state.close();
                        })
                        .await
                        .map_err(|e| ServeError::Io { what: "serving".into(), source: e })
                })
            })
            .map_err(|e| ServeError::Io { what: "the server thread".into(), source: e })?;
        let addr = match ready_rx.recv() {
            Ok(Ok(Ok(addr))) => addr,
            Ok(Ok(Err(e))) | Ok(Err(e)) => return Err(ServeError::Start(e)),
            Err(_) => return Err(ServeError::Start("the server thread ended before listening".into())),
        };
        Ok(Server { addr, stop: Some(stop_tx), thread: Some(thread) })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish, and waits for the server to end.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(ServeError::Start("the server thread panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Serves until SIGINT or SIGTERM, then lets requests in flight finish: `twinsync serve`.
pub fn serve(opts: ServeOptions, on_listen: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let rt = runtime()?;
    rt.block_on(async move {
        let (listener, app, state) = bind(&opts).await?;
        let addr = listener.local_addr().map_err(|e| ServeError::Io { what: "the socket".into(), source: e })?;
        on_listen(addr);
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let ctrl_c = tokio::signal::ctrl_c();
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM can be handled");
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
                // MCP and live event streams stay open until they are told to end.
                state.close();
            })
            .await
            .map_err(|e| ServeError::Io { what: "serving".into(), source: e })
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, ServeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::Io { what: "the async runtime".into(), source: e })
}

async fn bind(opts: &ServeOptions) -> Result<(tokio::net::TcpListener, axum::Router, Arc<AppState>), ServeError> {
    let auth = auth::Auth::for_listen(opts.listen, opts.admin_token.clone())?;
    let registry = Registry::open(&opts.data)?;
    let mcp_options =
        twinsync::mcp::HttpOptions { loopback_hosts_only: opts.listen.ip().is_loopback(), max_body: opts.max_body };
    let state = Arc::new(AppState {
        registry,
        auth,
        pool: Arc::default(),
        mcp: mcp::McpHosts::new(mcp_options),
        live: live::Feeds::default(),
        closing: tokio::sync::watch::Sender::new(false),
        schedules: schedule::Schedules::open(&opts.data)?,
        clock: match &opts.clock {
            Some(c) => Arc::new(c.clone()),
            None => Arc::new(twinsync::core::SystemClock),
        },
    });
    let app = routes::router(state.clone(), opts.max_body, opts.timeout);
    tokio::spawn(schedule::run(state.clone(), opts.schedule_tick));
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| ServeError::Io { what: format!("listening on {}", opts.listen), source: e })?;
    Ok((listener, app, state))
}
