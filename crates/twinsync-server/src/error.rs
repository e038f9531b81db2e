//! One error shape for every route, `{"error": {"code", "message"}}`, with the status
//! the code calls for.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Listening beyond loopback without an admin token, or a bad setting.
    #[error("{0}")]
    Config(String),
    /// The server could not start.
    #[error("the server did not start: {0}")]
    Start(String),
    /// A socket, file or thread failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The failure.
        source: std::io::Error,
    },
}

/// An error answer: a status and `{"error": {"code", "message"}}`. Other routes of this
/// crate (and embedding code) build on it through [`crate::project_for_key`].
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The code (`UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// What went wrong, for people; never a secret.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_INPUT", message)
    }
}

impl From<twinsync::Error> for ApiError {
    fn from(e: twinsync::Error) -> ApiError {
        let code = twinsync::api::error_code(&e);
        let status = match code {
            "INVALID_INPUT" => StatusCode::BAD_REQUEST,
            "NOT_FOUND" => StatusCode::NOT_FOUND,
            "CONFLICT" | "LOCKED" => StatusCode::CONFLICT,
            "EXPIRED" => StatusCode::GONE,
            "UNSAFE" => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError { status, code, message: e.to_string() }
    }
}

/// The body of every error answer (and its schema in `/openapi.json`).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorDetail {
    /// A stable code: `INVALID_INPUT`, `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, `CONFLICT`,
    /// `LOCKED`, `PRECONDITION_FAILED`, `PRECONDITION_REQUIRED`, `TOO_LARGE`, `TIMEOUT`, ...
    code: &'static str,
    /// For people; never a secret.
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message } };
        (self.status, Json(body)).into_response()
    }
}
