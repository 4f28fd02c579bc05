//! Errors become responses here, and only here.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use trail_app::AppError;
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

/// The one mapping from what went wrong to what a client is told: a status, a stable code, the
/// message and the field at fault. The application's errors carry no HTTP; the statuses are
/// chosen here and only here (`tests/api/errors.rs` pins the bodies).
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let message = e.to_string();
        match e {
            AppError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            AppError::Unauthenticated(_) => ApiError::unauthorized(message),
            AppError::Forbidden(_) => ApiError::forbidden(message),
            AppError::PlanRequired { format: _, .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "plan_required", message).with_field("format")
            }
            AppError::Withheld(_) => ApiError::new(StatusCode::FORBIDDEN, "leaf_withheld", message),
            AppError::Invalid { what, field, .. } => {
                let status = if what.query() { StatusCode::BAD_REQUEST } else { StatusCode::UNPROCESSABLE_ENTITY };
                ApiError { status, code: what.code(), message, field, cause: None }
            }
            AppError::UnsupportedFilter { param, .. } => {
                ApiError::bad_request("unsupported_filter", message).with_field(param)
            }
            AppError::TooManyRows(_) => ApiError::unprocessable("too_many_rows", message),
            AppError::AlreadyExists(_) => ApiError::new(StatusCode::CONFLICT, "already_exists", message),
            AppError::Conflict { index, .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message).with_field(format!("events[{index}].id"))
            }
            AppError::Batch(b) => {
                let status = match b.kind {
                    BatchErrorKind::Malformed => StatusCode::BAD_REQUEST,
                    BatchErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                    BatchErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                };
                ApiError { status, code: b.code, message, field: b.field, cause: None }
            }
            AppError::Unavailable(why) => {
                let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
                e.cause = Some(why);
                e
            }
            AppError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        AppError::from(e).into()
    }
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        AppError::from(e).into()
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

#[cfg(test)]
mod tests {
    use trail_app::Invalid;

    use super::*;

    #[test]
    fn each_application_error_keeps_its_status_code_and_field() {
        let e = ApiError::from(AppError::invalid(Invalid::Parameter, "limit is 1 to 1000").with_field("limit"));
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (StatusCode::BAD_REQUEST, "invalid_parameter", Some("limit"))
        );
        let e = ApiError::from(AppError::invalid(Invalid::Password, "too short"));
        assert_eq!((e.status, e.code, e.field), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_password", None));
        let e = ApiError::from(AppError::PlanRequired { format: "pdf".into(), message: "no".into() });
        assert_eq!((e.status, e.code, e.field.as_deref()), (StatusCode::FORBIDDEN, "plan_required", Some("format")));
        let e = ApiError::from(AppError::NotFound("tenant acme".into()));
        assert_eq!((e.status, e.message.as_str()), (StatusCode::NOT_FOUND, "tenant acme not found"));
        let e = ApiError::from(StoreError::Conflict { index: 2, id: "e1".into(), seq: 9 });
        assert_eq!((e.status, e.code, e.field.as_deref()), (StatusCode::CONFLICT, "conflict", Some("events[2].id")));
        let e = ApiError::from(StoreError::Unavailable("disk full".into()));
        assert_eq!((e.status, e.cause.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("disk full")));
        assert!(!e.message.contains("disk"), "a cause is logged, never shown");
    }
}
