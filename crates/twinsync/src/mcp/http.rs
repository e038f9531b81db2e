//! MCP over Streamable HTTP: rmcp's `StreamableHttpService` around one [`McpServer`], for
//! a host (twinsync-server) to mount at `/mcp`. Who may call, and which project a call
//! reaches, is the host's to decide before a request gets here: an endpoint serves one
//! project as one owner, and its sessions live and die with it.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};

use super::McpServer;

/// How an endpoint checks what reaches it.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Check the `Host` header against loopback names (DNS rebinding protection for a
    /// server on loopback). A server listening on other addresses is reached under
    /// names only its operator knows, so it turns this off.
    pub loopback_hosts_only: bool,
    /// The largest request body accepted (larger: 413).
    pub max_body: usize,
}

/// The MCP server over Streamable HTTP, for one project and owner, with its sessions
/// (`Mcp-Session-Id`). Cloning shares the sessions.
#[derive(Clone)]
pub struct HttpEndpoint {
    service: StreamableHttpService<McpServer, LocalSessionManager>,
}

impl std::fmt::Debug for HttpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpEndpoint").finish_non_exhaustive()
    }
}

impl HttpEndpoint {
    /// An endpoint whose sessions each run a clone of `server`.
    pub fn new(server: McpServer, options: &HttpOptions) -> HttpEndpoint {
        let mut config = StreamableHttpServerConfig::default().with_max_request_body_bytes(options.max_body);
        if !options.loopback_hosts_only {
            config = config.disable_allowed_hosts();
        }
        let sessions = Arc::new(LocalSessionManager::default());
        HttpEndpoint { service: StreamableHttpService::new(move || Ok(server.clone()), sessions, config) }
    }

    /// Answers one HTTP request to the endpoint (POST a message, GET the server's event
    /// stream, DELETE the session). Must run inside a tokio runtime.
    pub async fn handle<B>(
        &self,
        request: http::Request<B>,
    ) -> http::Response<impl http_body::Body<Data = Bytes, Error = Infallible> + Send + 'static>
    where
        B: http_body::Body + Send + 'static,
        B::Error: std::fmt::Display,
    {
        self.service.handle(request).await
    }

    /// Ends every session and refuses new requests, so open event streams close and a
    /// graceful shutdown of the host is not held up by them.
    pub fn close(&self) {
        self.service.config.cancellation_token.cancel();
    }
}
