//! `/v1/tenants/{t}/members` (console accounts) and `/v1/tenants/{t}/viewer-tokens`.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use trail_app::members::{self, MemberRequest};
use trail_core::ids::{Role, Scope};
use trail_store::{Member, MemberPatch};

use super::extract::{JsonBody, TenantPath};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
};
use trail_app::{own_events::Origin, viewer};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMember {
    email: String,
    name: String,
    role: String,
    password: String,
    #[serde(default)]
    actor_id: Option<String>,
}

pub async fn create(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    JsonBody(b): JsonBody<CreateMember>,
) -> ApiResult<(StatusCode, Json<Member>)> {
    who.require_manage(&t, "add members")?;
    trail_app::queries::tenant(&*s.store, &t).await?;
    let req = MemberRequest { email: b.email, name: b.name, role: b.role, password: b.password, actor_id: b.actor_id };
    Ok((StatusCode::CREATED, Json(members::add_member(&s.app, &origin, &who, &t, req).await?)))
}

pub async fn list(State(s): State<AppState>, who: Principal, TenantPath(t): TenantPath) -> ApiResult<Json<Value>> {
    who.require(&t, Scope::Admin)?;
    trail_app::queries::tenant(&*s.store, &t).await?;
    Ok(Json(json!({ "members": s.store.members(&t).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeMember {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    password: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    actor_id: Option<Option<String>>,
}

/// Tells "absent" (`None`) from "null" (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

pub async fn change(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    Path((_, id)): Path<(String, String)>,
    JsonBody(b): JsonBody<ChangeMember>,
) -> ApiResult<Json<Member>> {
    who.require_manage(&t, "change members")?;
    let role = b.role.as_deref().map(members::parse_role).transpose()?;
    let patch = MemberPatch { name: b.name, role, actor_id: b.actor_id, password_hash: None };
    Ok(Json(members::change_member(&s.app, &origin, &who, &t, &id, patch, b.password).await?))
}

pub async fn remove(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    who.require_manage(&t, "remove members")?;
    members::remove_member(&s.app, &origin, &who, &t, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateViewerToken {
    role: String,
    #[serde(default)]
    actor_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    ttl_s: Option<u64>,
}

/// `POST /v1/tenants/{t}/viewer-tokens`: `{token, url, expires_at}`; `url` opens the console
/// signed in (relative to this server: the SaaS prefixes its public address).
pub async fn viewer_token(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    JsonBody(b): JsonBody<CreateViewerToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    who.require_manage(&t, "create viewer tokens")?;
    trail_app::queries::tenant(&*s.store, &t).await?;
    let role = members::parse_role(&b.role)?;
    members::check_may_touch(&who, role)?;
    if role == Role::Member && b.actor_id.as_deref().unwrap_or("").is_empty() {
        return Err(ApiError::unprocessable(
            "missing_actor_id",
            "a viewer token for role member needs actor_id: the actor whose own events it shows",
        )
        .with_field("actor_id"));
    }
    let ttl = b.ttl_s.unwrap_or(viewer::DEFAULT_TTL_S);
    if ttl == 0 || ttl > viewer::MAX_TTL_S {
        return Err(ApiError::unprocessable(
            "invalid_ttl",
            format!("ttl_s is 1 to {} seconds (an hour); the default is {}", viewer::MAX_TTL_S, viewer::DEFAULT_TTL_S),
        )
        .with_field("ttl_s"));
    }
    let expires = Timestamp::now().as_second() + ttl as i64;
    let claims =
        viewer::Claims { tenant: t.to_string(), role, actor_id: b.actor_id, name: b.name.unwrap_or_default(), expires };
    let token = viewer::sign(&s.config.signing_key, &claims);
    let expires_at = Timestamp::from_second(expires).map_err(ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": token,
            "url": format!("/console/viewer?token={token}"),
            "expires_at": trail_core::time::format_rfc3339(expires_at),
        })),
    ))
}
