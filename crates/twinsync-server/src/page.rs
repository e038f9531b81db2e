//! The web page at `/`: projects, a project's docs as a tree, an editor that takes the
//! project lock while it is open, a markdown preview, drift, story coverage (what `twinsync
//! design coverage --html` shows) and history with undo.
//!
//! Plain HTML, one JS module and one stylesheet, built into the binary: nothing to
//! install or build at run time, and the page is only a client of the REST routes and
//! the WebSocket, so it can do nothing an API client cannot. The assets change only with
//! the binary, so their answers carry an `ETag` of their own digest and browsers
//! revalidate them instead of keeping a stale copy.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest as _, Sha256};
use std::sync::LazyLock;

const HTML: &str = include_str!("../assets/index.html");
const JS: &str = include_str!("../assets/app.js");
const CSS: &str = include_str!("../assets/app.css");

/// The assets' digest: changes with any edit of them, so a new binary's page is fetched
/// again (a version number would not change between development builds).
static ETAG: LazyLock<HeaderValue> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for part in [HTML, JS, CSS] {
        h.update(part.as_bytes());
    }
    let hex: String = h.finalize()[..12].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header")
});

/// The page's routes, merged into the server's router (they need no state).
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|h: HeaderMap| async move { asset(&h, "text/html; charset=utf-8", HTML) }))
        .route("/assets/app.js", get(|h: HeaderMap| async move { asset(&h, "text/javascript; charset=utf-8", JS) }))
        .route("/assets/app.css", get(|h: HeaderMap| async move { asset(&h, "text/css; charset=utf-8", CSS) }))
}

fn asset(req: &HeaderMap, content_type: &'static str, body: &'static str) -> Response {
    let fresh = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().as_bytes() == ETAG.as_bytes());
    let headers = [
        (header::ETAG, ETAG.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        // The page loads only its own script and style and talks only to this server;
        // doc content is rendered as text, and this is the second line of defence.
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; \
                 base-uri 'none'; frame-ancestors 'none'",
            ),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, [(header::CONTENT_TYPE, content_type)], body).into_response()
}
