//! `/v1/tenants`: create, list, read, change.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value};
use trail_app::tenants::{self, TenantRequest};
use trail_core::ids::Scope;
use trail_store::{Tenant, TenantPatch};

use super::extract::{JsonBody, TenantPath};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
};
use trail_app::own_events::Origin;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    id: String,
    name: Option<String>,
    plan: Option<String>,
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTenant {
    name: Option<String>,
    plan: Option<String>,
    time_zone: Option<String>,
    settings: Option<Map<String, Value>>,
}

pub async fn create(
    State(s): State<AppState>,
    who: Principal,
    JsonBody(body): JsonBody<CreateTenant>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    who.require_operator("create tenants")?;
    let req = TenantRequest { id: body.id, name: body.name, plan: body.plan, time_zone: body.time_zone };
    let t = tenants::create_tenant(&*s.store, &s.config, req).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

pub async fn list(State(s): State<AppState>, who: Principal) -> ApiResult<Json<Value>> {
    who.require_operator("list all tenants")?;
    let tenants = s.store.tenants().await?;
    Ok(Json(serde_json::json!({ "tenants": tenants })))
}

pub async fn get(State(s): State<AppState>, who: Principal, TenantPath(t): TenantPath) -> ApiResult<Json<Tenant>> {
    who.require(&t, Scope::Admin)?;
    let tenant = s.store.tenant(&t).await?.ok_or_else(|| ApiError::not_found(format!("tenant {t}")))?;
    Ok(Json(tenant))
}

pub async fn patch(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    JsonBody(body): JsonBody<PatchTenant>,
) -> ApiResult<Json<Tenant>> {
    who.require_manage(&t, "change the tenant's settings")?;
    let patch = TenantPatch { name: body.name, plan: body.plan, time_zone: body.time_zone, settings: body.settings };
    Ok(Json(tenants::change_tenant(&s.app, &origin, &who, &t, patch).await?))
}
