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
