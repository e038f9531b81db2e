//! `GET /openapi.json`: the server's OpenAPI 3.1 document, built from [`ROUTES`], the one
//! list of every route the router serves, and from the Rust types of the routes' inputs
//! and answers. The document is checked in as `crates/twinsync-server/openapi.json`; a test
//! fails when it differs from what this module builds (`TWINSYNC_BLESS=1 cargo test -p
//! twinsync-server --test openapi` writes it anew), another that a route of the router is
//! missing from the list or a listed route is not served.
//!
//! Why `schemars` and not `utoipa`: an OpenAPI 3.1 schema object *is* a JSON Schema 2020-12
//! schema, which `schemars` 1.x generates natively from the same serde attributes the
//! routes parse with, and `schemars` is already in the build (the facade's MCP tool
//! catalogue uses it). utoipa would add its own derive macros and a second model of every
//! type for the same result. What schemars does not know (paths, methods, statuses,
//! security) is data in [`ROUTES`], next to nothing else, so a route added to the router
//! without its entry fails the route-list test.
//!
//! Request bodies and query strings are the handlers' own types, described as serde
//! reads them (schemars' deserialize contract). Answers are the handlers' answer types
//! and the facade's and core's reports and records they carry (which derive `JsonSchema`
//! with the facade's `schema` feature), described as serde writes them (the serialize
//! contract: a field serde skips when empty is optional, an `Option` it always writes is
//! required and may be null). The only answers left as bare objects are this document
//! and MCP's JSON-RPC, whose shapes are their own specifications'.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use twinsync::core::credential::CredentialRecord;
use twinsync::core::test_session::TestSession;
use twinsync::core::UndoReport;
use twinsync::ApiKeyInfo;

use crate::{coverage, credentials, docs, error, hooks, keys, routes, schedule, sessions};

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

fn inline<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    T::json_schema(g)
}

/// Who may call a route (see `auth.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Access {
    /// Anyone (`/healthz`).
    Public,
    /// Anyone on loopback; beyond it the admin token, or an API key of the project.
    Project,
    /// Anyone on loopback; beyond it the admin token only.
    Admin,
    /// Always an API key of the project (`/hook/...`, `/mcp`).
    Key,
}

/// What a route answers when it succeeds.
pub(crate) enum Reply {
    /// JSON of a type under each of the statuses (a write that may create), described
    /// (`""`: "OK").
    Json(&'static [u16], &'static str, SchemaFn),
    /// A JSON object whose shape another specification owns, described.
    Object(u16, &'static str),
    /// Another media type, described.
    Media(u16, &'static str, &'static str),
    /// No body.
    Empty(u16, &'static str),
}

/// One route of the router.
pub(crate) struct Route {
    /// Lower-case HTTP method.
    pub(crate) method: &'static str,
    /// The path as the router spells it (`/projects/{id}/docs/{*path}`).
    pub(crate) path: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) tag: &'static str,
    pub(crate) access: Access,
    /// The query string's type, when it has one.
    pub(crate) query: Option<SchemaFn>,
    /// The JSON body's type, when it takes one.
    pub(crate) body: Option<SchemaFn>,
    pub(crate) ok: Reply,
    /// Error statuses beyond those of its access rule.
    pub(crate) errors: &'static [u16],
}

const fn route(method: &'static str, path: &'static str, tag: &'static str, summary: &'static str) -> Route {
    Route {
        method,
        path,
        summary,
        tag,
        access: Access::Project,
        query: None,
        body: None,
        ok: Reply::Empty(200, "OK"),
        errors: &[404],
    }
}

const fn access(r: Route, access: Access) -> Route {
    Route { access, ..r }
}
const fn query(r: Route, q: SchemaFn) -> Route {
    Route { query: Some(q), ..r }
}
const fn body(r: Route, b: SchemaFn) -> Route {
    Route { body: Some(b), ..r }
}
const fn ok(r: Route, ok: Reply) -> Route {
    Route { ok, ..r }
}
const fn errors(r: Route, errors: &'static [u16]) -> Route {
    Route { errors, ..r }
}

use Access::{Admin, Key, Public};

/// Every route the server answers, in the order the document lists them.
pub(crate) static ROUTES: &[Route] = &[
    ok(
        errors(access(route("get", "/healthz", "server", "Liveness"), Public), &[]),
        Reply::Json(&[200], "", s::<routes::Health>),
    ),
    ok(
        errors(route("get", "/openapi.json", "server", "This OpenAPI 3.1 document"), &[]),
        Reply::Object(200, "The OpenAPI document"),
    ),
    ok(
        errors(route("get", "/", "page", "The web page"), &[]),
        Reply::Media(200, "text/html", "The page (revalidated by its ETag)"),
    ),
    ok(
        errors(route("get", "/assets/app.js", "page", "The page's script"), &[]),
        Reply::Media(200, "text/javascript", ""),
    ),
    ok(
        errors(route("get", "/assets/app.css", "page", "The page's stylesheet"), &[]),
        Reply::Media(200, "text/css", ""),
    ),
    ok(
        errors(access(route("get", "/projects", "projects", "Every registered project"), Admin), &[]),
        Reply::Json(&[200], "", s::<routes::ProjectList>),
    ),
    ok(
        errors(
            body(
                access(route("post", "/projects", "projects", "Register a project folder"), Admin),
                s::<routes::NewProject>,
            ),
            &[400, 413],
        ),
        Reply::Json(&[201], "The project", s::<routes::ProjectInfo>),
    ),
    ok(
        route("get", "/projects/{id}", "projects", "A project, with its pairs"),
        Reply::Json(&[200], "", s::<routes::ProjectInfo>),
    ),
    ok(
        errors(
            body(access(route("put", "/projects/{id}", "projects", "Rename a project"), Admin), s::<routes::Rename>),
            &[400, 404],
        ),
        Reply::Json(&[200], "The project", s::<routes::ProjectInfo>),
    ),
    ok(
        access(route("delete", "/projects/{id}", "projects", "Unregister a project (its files stay)"), Admin),
        Reply::Empty(204, "Unregistered"),
    ),
    ok(
        query(
            route("get", "/projects/{id}/docs", "docs", "The docs of a pair, on the side the platform edits"),
            inline::<docs::PairQuery>,
        ),
        Reply::Json(&[200], "", s::<docs::DocList>),
    ),
    ok(
        errors(
            body(route("post", "/projects/{id}/docs/sync", "docs", "Sync the docs pair"), s::<docs::SyncBody>),
            &[400, 404, 409],
        ),
        Reply::Json(&[200], "", s::<docs::DocsSynced>),
    ),
    ok(
        query(
            route("get", "/projects/{id}/docs/{*path}", "docs", "One doc, with its digest (also the ETag)"),
            inline::<docs::PairQuery>,
        ),
        Reply::Json(&[200], "", s::<docs::DocAnswer>),
    ),
    ok(
        errors(
            body(
                query(
                    route(
                        "put",
                        "/projects/{id}/docs/{*path}",
                        "docs",
                        "Write a doc (If-Match: its digest; If-None-Match: * creates) and sync it",
                    ),
                    inline::<docs::PairQuery>,
                ),
                s::<docs::DocBody>,
            ),
            &[400, 404, 409, 412, 413, 428],
        ),
        Reply::Json(&[200, 201], "The doc as written (201: the write created it)", s::<docs::DocWritten>),
    ),
    ok(
        errors(
            query(route("get", "/projects/{id}/drift", "hub", "What differs, per pair"), inline::<routes::PairQuery>),
            &[400, 404],
        ),
        Reply::Json(&[200], "", s::<routes::DriftAnswer>),
    ),
    ok(
        errors(
            body(route("post", "/projects/{id}/operations", "hub", "A sync, or a dry run"), s::<routes::OperationBody>),
            &[400, 404, 409],
        ),
        Reply::Json(&[200], "", s::<routes::OperationAnswer>),
    ),
    ok(
        errors(
            body(route("post", "/projects/{id}/undo", "hub", "Undo an operation"), s::<routes::UndoBody>),
            &[400, 404, 409, 410],
        ),
        Reply::Json(&[200], "The undo report", s::<UndoReport>),
    ),
    ok(
        query(route("get", "/projects/{id}/history", "hub", "Operations, newest first"), inline::<routes::PairQuery>),
        Reply::Json(&[200], "", s::<routes::HistoryAnswer>),
    ),
    ok(
        query(route("get", "/projects/{id}/events", "hub", "Outbox events after `since`"), inline::<routes::PairQuery>),
        Reply::Json(&[200], "", s::<routes::EventsAnswer>),
    ),
    ok(
        errors(
            query(
                route("get", "/projects/{id}/coverage", "hub", "Story coverage of a design pair"),
                inline::<coverage::CoverageQuery>,
            ),
            &[400, 404],
        ),
        Reply::Json(&[200], "", s::<coverage::CoverageAnswer>),
    ),
    ok(
        access(route("get", "/projects/{id}/credentials", "hub", "Credentials, metadata only"), Admin),
        Reply::Json(&[200], "", s::<credentials::CredentialList>),
    ),
    ok(
        errors(
            body(
                access(
                    route(
                        "post",
                        "/projects/{id}/credentials",
                        "hub",
                        "Add a credential (the value is sealed, never shown again)",
                    ),
                    Admin,
                ),
                s::<credentials::NewCredentialBody>,
            ),
            &[400, 404, 409, 413],
        ),
        Reply::Json(&[201], "The credential's metadata", s::<CredentialRecord>),
    ),
    ok(
        route("get", "/projects/{id}/schedule", "hub", "The nightly sync"),
        Reply::Json(&[200], "", s::<schedule::ScheduleAnswer>),
    ),
    ok(
        errors(
            body(
                route("post", "/projects/{id}/schedule", "hub", "Turn the nightly sync on or off"),
                s::<schedule::ScheduleBody>,
            ),
            &[400, 404],
        ),
        Reply::Json(&[200], "", s::<schedule::ScheduleAnswer>),
    ),
    ok(
        errors(
            body(
                route("post", "/projects/{id}/browser-sessions", "hub", "Start a browser test session"),
                s::<sessions::StartBody>,
            ),
            &[400, 404],
        ),
        Reply::Json(&[201], "The session", s::<TestSession>),
    ),
    ok(
        query(
            route("get", "/projects/{id}/browser-sessions", "hub", "Browser test sessions, newest first"),
            inline::<sessions::ListQuery>,
        ),
        Reply::Json(&[200], "", s::<sessions::SessionList>),
    ),
    ok(
        route("get", "/projects/{id}/browser-sessions/{sid}", "hub", "One browser test session"),
        Reply::Json(&[200], "The session", s::<TestSession>),
    ),
    ok(
        errors(
            body(
                route("post", "/projects/{id}/browser-sessions/{sid}/finish", "hub", "Finish a browser test session"),
                s::<sessions::FinishBody>,
            ),
            &[400, 404, 409],
        ),
        Reply::Json(&[200], "The finished session", s::<TestSession>),
    ),
    ok(
        route("get", "/projects/{id}/lock", "lock", "The project lock"),
        Reply::Json(&[200], "", s::<routes::LockState>),
    ),
    ok(
        errors(
            body(route("post", "/projects/{id}/lock", "lock", "Take the lock"), s::<routes::LockBody>),
            &[400, 404, 409],
        ),
        Reply::Json(&[201], "Taken", s::<routes::LockState>),
    ),
    ok(
        errors(
            query(
                route("delete", "/projects/{id}/lock", "lock", "Release the lock (its owner only)"),
                inline::<routes::OwnerQuery>,
            ),
            &[400, 404, 409],
        ),
        Reply::Json(&[200], "Released", s::<routes::Unlocked>),
    ),
    ok(
        route("get", "/projects/{id}/metrics", "server", "Prometheus metrics of the project"),
        Reply::Media(200, "application/openmetrics-text", "OpenMetrics text"),
    ),
    ok(
        access(route("get", "/projects/{id}/api-keys", "keys", "API keys (never a key)"), Admin),
        Reply::Json(&[200], "", s::<keys::KeyList>),
    ),
    ok(
        errors(
            body(
                access(route("post", "/projects/{id}/api-keys", "keys", "Create an API key (shown once)"), Admin),
                s::<keys::NewKey>,
            ),
            &[400, 404],
        ),
        Reply::Json(&[201], "The key, shown once", s::<keys::CreatedKey>),
    ),
    ok(
        access(route("delete", "/projects/{id}/api-keys/{kid}", "keys", "Revoke an API key"), Admin),
        Reply::Json(&[200], "The revoked key's metadata", s::<ApiKeyInfo>),
    ),
    ok(
        access(route("get", "/hook/status/{id}", "hook", "Lock status for editor hooks"), Key),
        Reply::Json(&[200], "", s::<hooks::HookStatus>),
    ),
    ok(
        query(access(route("get", "/hook/docs/{id}", "hook", "The docs tree digest"), Key), inline::<hooks::PairOnly>),
        Reply::Json(&[200], "", s::<hooks::HookDocs>),
    ),
    ok(
        errors(
            body(access(route("post", "/hook/sync/{id}", "hook", "Sync the docs"), Key), s::<hooks::HookSync>),
            &[400, 404, 409],
        ),
        Reply::Json(&[200], "", s::<docs::DocsSynced>),
    ),
    ok(
        errors(
            route(
                "get",
                "/projects/{id}/ws",
                "live",
                "Live events over WebSocket (`?since=ID` replays what was missed)",
            ),
            &[400, 404],
        ),
        Reply::Empty(101, "Switching to WebSocket; each message is an outbox event as JSON"),
    ),
    ok(
        route(
            "get",
            "/projects/{id}/events/stream",
            "live",
            "Live events as Server-Sent Events (`Last-Event-ID` or `?since=ID` resumes)",
        ),
        Reply::Media(200, "text/event-stream", "One event per outbox event, `id:` its outbox id"),
    ),
    ok(
        access(route("get", "/mcp", "mcp", "MCP Streamable HTTP: the server's event stream"), Key),
        Reply::Media(200, "text/event-stream", ""),
    ),
    ok(
        access(route("post", "/mcp", "mcp", "MCP Streamable HTTP: a JSON-RPC message"), Key),
        Reply::Object(200, "JSON-RPC"),
    ),
    ok(access(route("delete", "/mcp", "mcp", "MCP Streamable HTTP: end the session"), Key), Reply::Empty(200, "Ended")),
];

/// The ROUTES path in OpenAPI's spelling: `{*path}` is `{path}`.
pub fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "Bad input (the message names the item and the problem)",
        401 => "No credentials, or not the admin token",
        403 => "A revoked API key, or one of another project or not allowed here",
        404 => "No such project or item",
        409 => "Conflict: the lock is held, or the item exists or already ended",
        410 => "Expired: past the undo window",
        412 => "The doc changed since the digest sent",
        413 => "The body is over the server's limit",
        428 => "A write must send If-Match or If-None-Match: *",
        _ => "Error",
    }
}

fn parameters(r: &Route, g: &mut SchemaGenerator) -> Vec<Value> {
    let mut out = Vec::new();
    for seg in r.path.split('/') {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let name = name.trim_start_matches('*');
            out.push(json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }));
        }
    }
    if let Some(q) = r.query {
        let schema = q(g).to_value();
        let required: Vec<&str> =
            schema["required"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if let Some(props) = schema["properties"].as_object() {
            for (name, prop) in props {
                let mut p = json!({ "name": name, "in": "query", "required": required.contains(&name.as_str()) });
                let mut prop = prop.clone();
                if let Some(d) = prop.as_object_mut().and_then(|o| o.remove("description")) {
                    p["description"] = d;
                }
                p["schema"] = prop;
                out.push(p);
            }
        }
    }
    if r.path.contains("/ws") || r.path.ends_with("/events/stream") {
        out.push(json!({ "name": "since", "in": "query", "required": false,
            "description": "Replay the outbox events after this id first", "schema": { "type": "integer", "minimum": 0 } }));
    }
    if r.path == "/projects/{id}/docs/{*path}" && r.method == "put" {
        for h in ["If-Match", "If-None-Match"] {
            out.push(json!({ "name": h, "in": "header", "required": false, "schema": { "type": "string" } }));
        }
    }
    out
}

fn security(a: Access) -> Value {
    let token = json!([{}, { "bearer": [] }, { "cookie": [] }, { "query": [] }]);
    match a {
        Access::Public => json!([]),
        Access::Project | Access::Admin => token,
        Access::Key => json!([{ "bearer": [] }]),
    }
}

/// The schema generators of one document: what requests carry is described as serde reads
/// it, what answers carry as serde writes it (see the module docs).
struct Generators {
    requests: SchemaGenerator,
    answers: SchemaGenerator,
}

fn operation(r: &Route, gens: &mut Generators) -> Value {
    let g = &mut gens.requests;
    let mut op = json!({
        "operationId": format!("{}{}", r.method, openapi_path(r.path).replace(['{', '}', '.'], "").replace(['/', '-'], "_")),
        "summary": r.summary,
        "tags": [r.tag],
        "security": security(r.access),
    });
    let params = parameters(r, g);
    if !params.is_empty() {
        op["parameters"] = json!(params);
    }
    if let Some(b) = r.body {
        op["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": b(g).to_value() } } });
    }
    let g = &mut gens.answers;
    let mut responses = Map::new();
    let answers: Vec<(u16, Value)> = match &r.ok {
        Reply::Json(sts, d, f) => {
            let d = if d.is_empty() { "OK" } else { d };
            let answer = json!({ "description": d, "content": { "application/json": { "schema": f(g).to_value() } } });
            sts.iter().map(|st| (*st, answer.clone())).collect()
        }
        Reply::Object(st, d) => vec![(
            *st,
            json!({ "description": d, "content": { "application/json": { "schema": { "type": "object" } } } }),
        )],
        Reply::Media(st, media, d) => {
            let d = if d.is_empty() { "OK" } else { d };
            vec![(*st, json!({ "description": d, "content": { *media: { "schema": { "type": "string" } } } }))]
        }
        Reply::Empty(st, d) => vec![(*st, json!({ "description": d }))],
    };
    for (status, answer) in answers {
        responses.insert(status.to_string(), answer);
    }
    let mut statuses: Vec<u16> = r.errors.to_vec();
    match r.access {
        Access::Public => {}
        _ => statuses.extend([401, 403]),
    }
    statuses.sort_unstable();
    statuses.dedup();
    for st in statuses {
        let schema = s::<error::ErrorBody>(g).to_value();
        responses.insert(
            st.to_string(),
            json!({ "description": status_text(st), "content": { "application/json": { "schema": schema } } }),
        );
    }
    op["responses"] = Value::Object(responses);
    op
}

/// The whole document.
pub fn document() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    });
    let mut gens = Generators {
        requests: settings.clone().for_deserialize().into_generator(),
        answers: settings.for_serialize().into_generator(),
    };
    let mut paths = Map::new();
    for r in ROUTES {
        let item = paths.entry(openapi_path(r.path)).or_insert_with(|| json!({}));
        item[r.method] = operation(r, &mut gens);
    }
    let mut schemas = gens.requests.take_definitions(true);
    for (name, schema) in gens.answers.take_definitions(true) {
        // One name, two schemas: a type read and written differently. Both would need a
        // name of their own; none does today, so it is a bug of a new route's types.
        if let Some(read) = schemas.get(&name) {
            assert_eq!(read, &schema, "{name} is described differently as a request and as an answer");
        }
        schemas.insert(name, schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "twinsync serve",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The team platform's server: projects, docs, the lock, the hub (sync, drift, undo, \
                coverage, credentials, schedule, browser sessions), API keys and the hook API, live events, \
                MCP over HTTP. Errors are `{\"error\": {\"code\", \"message\"}}`. On loopback the routes need no \
                credentials except the hook routes and /mcp (an API key); beyond loopback they need the admin \
                token, or for a project's own routes an API key of it.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [{ "url": "http://127.0.0.1:7878" }],
        "paths": paths,
        "components": {
            "schemas": Value::Object(schemas),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer",
                    "description": "The admin token, or an API key (`tsk_...`) of the project" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "twinsync_token" },
                "query": { "type": "apiKey", "in": "query", "name": "access_token" },
            },
        },
    })
}

/// The document as served and checked in: pretty JSON with a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("the document serialises");
    text.push('\n');
    text
}

/// Every route as `(method, path)`, as the router spells the path.
pub fn route_list() -> Vec<(&'static str, &'static str)> {
    ROUTES.iter().map(|r| (r.method, r.path)).collect()
}

pub(crate) async fn serve() -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "application/json")], document_text()).into_response()
}
