//! `/v1/tenants/{t}/keys`: API keys, shown once, stored hashed.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Value, json};
use trail_app::keys;
use trail_core::ids::Scope;
use trail_store::ApiKey;

use super::extract::{JsonBody, TenantPath};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
};
use trail_app::own_events::Origin;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    name: String,
    scopes: Vec<String>,
}

pub async fn create(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    JsonBody(body): JsonBody<CreateKey>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    who.require_manage(&t, "create API keys")?;
    let mut scopes = Vec::new();
    for (i, sc) in body.scopes.iter().enumerate() {
        let sc = Scope::parse(sc)
            .map_err(|e| ApiError::unprocessable("invalid_scopes", e.0).with_field(format!("scopes[{i}]")))?;
        if !scopes.contains(&sc) {
            scopes.push(sc);
        }
    }
    let (key, token) = keys::issue_api_key(&s.app, &origin, who.actor(), &t, body.name, scopes).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": key.id, "name": key.name, "scopes": key.scopes, "token": token, "created_at": trail_core::time::format_rfc3339(key.created_at)}),
        ),
    ))
}

pub async fn list(State(s): State<AppState>, who: Principal, TenantPath(t): TenantPath) -> ApiResult<Json<Value>> {
    who.require(&t, Scope::Admin)?;
    let keys = s.store.api_keys(&t).await?;
    Ok(Json(json!({ "keys": keys })))
}

pub async fn revoke(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    Path((_, key_id)): Path<(String, String)>,
) -> ApiResult<Json<ApiKey>> {
    who.require_manage(&t, "revoke API keys")?;
    Ok(Json(keys::revoke_api_key(&s.app, &origin, who.actor(), &t, &key_id).await?))
}
