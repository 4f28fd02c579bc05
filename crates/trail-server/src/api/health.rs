use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde_json::json;

use crate::{AppState, error::ApiError};

/// Liveness: the process answers.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Readiness: the store answers.
pub async fn readyz(State(s): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    s.store.ping().await?;
    Ok(Json(json!({"status": "ready"})))
}

pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let mut out = s.metrics.render();
    s.tails.render(&mut out);
    s.admission.render(&mut out);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route: see docs/api.md for the routes Trail serves")
}

/// A route that exists but not with this method. axum's own answer has an empty body; every
/// error Trail gives has the JSON error shape (axum still adds the `Allow` header).
pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} does not answer {method}: the Allow header lists the methods it takes (docs/api.md lists every route)",
            uri.path()
        ),
    )
}
