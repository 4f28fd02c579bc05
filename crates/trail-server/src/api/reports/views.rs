//! The event views' routes: `GET /v1/tenants/{t}/views/{view}` (one of the catalogue's event
//! views as JSON rows, with its columns) and `GET /v1/tenants/{t}/links/{link_id}/access-log`
//! (one link's `link-access` view, or with `format=` the file: CSV with exactly the link access
//! log's fixed header). The rows are `trail_app::views`'; the link access log is for managers
//! and up.

use axum::{
    Json,
    extract::{Path, State},
    http::Uri,
    response::{IntoResponse, Response},
};
use serde_json::Value;
use trail_app::{own_events::Origin, reports, views};
use trail_core::ids::Scope;
use trail_export::views::ViewKind;

use super::page::{ColumnHead, RowsPage, ViewPage, body};
use crate::{
    AppState,
    api::{events::filtered, extract::TenantPath},
    auth::Principal,
    error::ApiResult,
};

pub async fn view(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, name)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    who.require(&t, Scope::Read)?;
    let kind = views::event_view(&t, &name)?;
    let f = filtered(&s, &who, &t, &uri, &[]).await?;
    let redaction = f.filter.redaction;
    let view = views::view_for(kind, f.tz.clone(), s.app.config(), redaction);
    let (rows, next_cursor) = views::view_rows(&*s.store, &t, &view, redaction, f.filter, f.page).await?;
    body(ViewPage { rows, next_cursor, columns: kind.columns().iter().map(ColumnHead::from).collect() })
}

pub async fn access_log(
    State(s): State<AppState>,
    who: Principal,
    origin: Origin,
    TenantPath(t): TenantPath,
    Path((_, link_id)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult<Response> {
    reports::managers_only(&who, &t, "link access logs are for managers and up: role member sees its own events")?;
    let mut f = filtered(&s, &who, &t, &uri, &["format"]).await?;
    reports::narrow_to_link(&*s.store, &t, &link_id, &mut f.filter).await?;
    if let Some(format) = f.param("format").map(str::to_owned) {
        let given = vec![("link".to_owned(), link_id)];
        return crate::api::export::respond(&s, &who, &origin, f, &format, ViewKind::LinkAccess, given).await;
    }
    let redaction = f.filter.redaction;
    let view = views::view_for(ViewKind::LinkAccess, f.tz.clone(), s.app.config(), redaction);
    let (rows, next_cursor) = views::view_rows(&*s.store, &t, &view, redaction, f.filter, f.page).await?;
    Ok(body(RowsPage { rows, next_cursor })?.into_response())
}
