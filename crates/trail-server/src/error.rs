//! Errors become responses here, and only here.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use trail_core::{event::BatchError, event::BatchErrorKind, filter::ParamError};
use trail_store::StoreError;

/// An error as the API reports it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Logged (not shown) for a 5xx.
    cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, cause: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// The server is at one of its admission limits (`admission.rs`): a 503 with `Retry-After`,
    /// not logged as a failure (under overload, one log line per refusal would add to it).
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Trail failed to handle this request; the cause is in the server log",
        );
        e.cause = Some(cause.to_string());
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::AlreadyExists(what) => ApiError::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!("{what} already exists: choose another id"),
            ),
            StoreError::Conflict { index, id, seq } => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "events[{index}].id {id:?} was already used by event seq {seq} with a different body; nothing of this request was stored: use a new id for a new event, or resend the original unchanged"
                ),
            )
            .with_field(format!("events[{index}].id")),
            StoreError::Unavailable(why) => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Trail cannot store or read events right now; nothing of this request was stored: retry later",
                );
                e.cause = Some(why);
                e
            }
            StoreError::Internal(cause) => {
                let mut chain = cause.to_string();
                let mut src = cause.source();
                while let Some(s) = src {
                    chain.push_str(": ");
                    chain.push_str(&s.to_string());
                    src = s.source();
                }
                ApiError::internal(chain)
            }
        }
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        let status = match e.kind {
            BatchErrorKind::Malformed => StatusCode::BAD_REQUEST,
            BatchErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            BatchErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        };
        let message = format!("{}; nothing of this request was stored", e.message);
        ApiError { status, code: e.code, message, field: e.field, cause: None }
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::bad_request("invalid_parameter", e.message).with_field(e.param)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() && self.code != "overloaded" {
            tracing::error!(
                status = self.status.as_u16(),
                code = self.code,
                cause = self.cause.as_deref().unwrap_or(""),
                "request failed"
            );
        }
        let mut body = json!({"code": self.code, "message": self.message});
        if let Some(f) = self.field {
            body["field"] = f.into();
        }
        let mut resp = (self.status, Json(json!({ "error": body }))).into_response();
        if matches!(self.status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        resp
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;
