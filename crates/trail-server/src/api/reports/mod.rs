//! The routes of the reports that come from rollups, of one message's entry, and of the
//! catalogue's event views (`views.rs`), docs/api.md. Each reads its request, calls
//! `trail_app::reports` or `trail_app::views` (where the rows, their paging and who may read
//! them are decided), and shapes the body (`page.rs`).
//!
//! - `GET /v1/tenants/{t}/reports/logins`, `/reports/usage`, `/reports/users`, `/links`: a
//!   page of the report's rows and the next page's cursor.
//! - `GET /v1/tenants/{t}/reports/users/{actor}/stats`: one person's events by action and by
//!   day, for managers and up or that person.
//! - `GET /v1/tenants/{t}/messages/{message_id}`: one message's log entry.

mod page;
mod views;

use axum::{
    Json,
    extract::{Path, State},
    http::Uri,
};
use serde_json::Value;
use trail_app::reports::{self, MessageEntry, UserStats};
use trail_core::TenantId;

pub use views::{access_log, view};

use self::page::{RowsPage, body};
use super::{events::filtered, extract::TenantPath};
use crate::{AppState, auth::Principal, error::ApiResult, params::query_pairs};

/// A rollup report's request from the query string (see `trail_app::reports::report_request`).
async fn request(
    s: &AppState,
    who: &Principal,
    t: &TenantId,
    uri: &Uri,
    report: &str,
    actors: bool,
) -> ApiResult<reports::ReportRequest> {
    Ok(reports::report_request(&s.app, who, t, query_pairs(uri.query()), report, actors).await?)
}

pub async fn logins(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let r = request(&s, &who, &t, &uri, "login", true).await?;
    let (rows, next_cursor) = reports::login_rows(&*s.store, &t, &r.filter, r.limit, r.after).await?;
    body(RowsPage { rows, next_cursor })
}

pub async fn usage(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let r = request(&s, &who, &t, &uri, "usage", true).await?;
    let (rows, next_cursor) = reports::usage_rows(&*s.store, &t, &r.filter, r.limit, r.after).await?;
    body(RowsPage { rows, next_cursor })
}

pub async fn users(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let r = request(&s, &who, &t, &uri, "users", true).await?;
    let (rows, next_cursor) = reports::user_rows(&*s.store, &t, &r.filter, r.limit, r.after).await?;
    body(RowsPage { rows, next_cursor })
}

pub async fn links(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let r = request(&s, &who, &t, &uri, "link", false).await?;
    let (rows, next_cursor) = reports::link_rows(&*s.store, &t, &r.filter, r.limit, r.after).await?;
    body(RowsPage { rows, next_cursor })
}

pub async fn stats(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, actor)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult<Json<UserStats>> {
    reports::may_see_stats(&*s.store, &who, &t, &actor).await?;
    let f = filtered(&s, &who, &t, &uri, &[]).await?;
    reports::only_time_filters(&f.filter, "user statistics", false)?;
    let stats = reports::user_stats(&*s.store, &t, &actor, &f.filter, &f.tz, &f.tenant.time_zone).await?;
    Ok(Json(stats))
}

pub async fn message(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<MessageEntry>> {
    Ok(Json(reports::message_for(&s.app, &who, &t, &id).await?))
}
