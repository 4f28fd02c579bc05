//! Extractors that turn request parts into typed values, with errors in the API's format.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;
use trail_core::TenantId;

use crate::{AppState, error::ApiError};

/// The `{t}` of a tenant path. An id that cannot exist is a 404, like one that does not.
pub struct TenantPath(pub TenantId);

impl FromRequestParts<AppState> for TenantPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params): Path<Vec<(String, String)>> =
            Path::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found("route"))?;
        let raw = params.iter().find(|(k, _)| k == "t").map(|(_, v)| v.as_str()).unwrap_or_default();
        TenantId::parse(raw).map(TenantPath).map_err(|_| ApiError::not_found(format!("tenant {raw}")))
    }
}

/// A JSON request body decoded into `T`, whose errors name the offending field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_body", format!("cannot read the request body: {e}")))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de).map(JsonBody).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let err = if inner.is_data() {
                ApiError::unprocessable("invalid_body", format!("{path}: {inner}"))
            } else {
                ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {inner}"))
            };
            if path == "." || path.is_empty() { err } else { err.with_field(path) }
        })
    }
}
