//! `POST /v1/tenants/{t}/erasure` (docs/api.md): erase one person's personal data while the tree
//! still verifies. The request names the person; what erasure does is `trail_app::erasure`.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use trail_app::{erasure::Subject, own_events::Origin};

use crate::{
    AppState,
    api::extract::{JsonBody, TenantPath},
    auth::Principal,
    error::ApiResult,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureBody {
    actor_id: Option<String>,
    email: Option<String>,
}

pub async fn erase(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    JsonBody(body): JsonBody<ErasureBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    who.require_manage(&t, "erase a person's data")?;
    let person = Subject::from_request(body.actor_id, body.email)?;
    let done = trail_app::erasure::erase(&s.app, &t, &person, who.actor(), &origin, &|_| {}).await?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "events": done.events,
            "remarks": done.remarks,
            "fields_erased": done.fields_erased,
            "rollup_rows": done.rollup_rows,
        })),
    ))
}
