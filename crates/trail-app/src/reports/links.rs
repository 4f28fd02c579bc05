//! Shared links. `GET /v1/tenants/{t}/links`: every link seen in `link.*` events, most recently
//! active first, with what `link.created` said, its state, and its views and saves (in the
//! range; all of them for `range=all`). `GET /v1/tenants/{t}/links/{link_id}/access-log`: its
//! `link.viewed` / `link.saved` events as the link access log's rows (the link access log's fields, docs/api.md), or
//! with `format=` the file (CSV with exactly the link access log's fixed header). Managers and up.

use axum::{
    Json,
    extract::{Path, State},
    http::Uri,
    response::{IntoResponse, Response},
};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use trail_core::{
    TenantId,
    filter::{ActionPattern, Filter, TargetRef},
    ids::Scope,
    vocabulary::actions,
};
use trail_export::views::{View, ViewKind};
use trail_store::{LinkSummary, RecentPage, Store};

use super::{
    bounded, count_in_range,
    page::{RowsPage, body},
    report_request, rollup_page,
    views::view_rows,
};
use crate::{
    AppState,
    api::{events::filtered, extract::TenantPath},
    auth::Principal,
    error::{ApiError, ApiResult},
    export::link_key,
};

/// A filter for one link's events of the given actions.
pub(crate) fn of_link(id: &str, actions: &[&str]) -> Filter {
    Filter {
        targets: vec![TargetRef { kind: Some("link".into()), id: id.to_owned() }],
        actions: actions.iter().map(|a| ActionPattern::parse(a).expect("catalogue actions parse")).collect(),
        ..Filter::default()
    }
}

/// One row of the link list.
#[derive(Serialize)]
pub struct LinkRow {
    pub link_id: String,
    pub name: Option<String>,
    pub file_name: Option<String>,
    pub created_by: Option<String>,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub created_at: Option<Timestamp>,
    pub expires_at: Option<String>,
    pub require_email: bool,
    /// `active`, `revoked` or `expired`.
    pub state: String,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub ended_at: Option<Timestamp>,
    pub views: u64,
    pub saves: u64,
    #[serde(with = "trail_core::time::serde_rfc3339")]
    pub last_activity_at: Timestamp,
}

pub async fn list(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let r = report_request(&s, &who, &t, &uri, "link", false).await?;
    let (rows, next_cursor) = link_rows(&*s.store, &t, &r.filter, r.limit, r.after).await?;
    body(RowsPage { rows, next_cursor })
}

/// One page of the link list for filter `f` (its time range), after the row `after`.
pub async fn link_rows(
    store: &dyn Store,
    t: &TenantId,
    f: &Filter,
    limit: usize,
    after: Option<(Timestamp, String)>,
) -> ApiResult<(Vec<LinkRow>, Option<String>)> {
    let (page, next) = rollup_page::<LinkSummary>(store, t, f, limit, after).await?;
    let mut rows = Vec::with_capacity(page.len());
    for l in page {
        let (views, saves) = if bounded(f) {
            (
                count_in_range(store, t, f, of_link(&l.key, &[actions::LINK_VIEWED])).await?,
                count_in_range(store, t, f, of_link(&l.key, &[actions::LINK_SAVED])).await?,
            )
        } else {
            (l.views, l.saves)
        };
        rows.push(LinkRow {
            link_id: l.key,
            name: l.name,
            file_name: l.file_name,
            created_by: l.created_by,
            created_at: l.created_at,
            expires_at: l.expires_at,
            require_email: l.require_email,
            state: l.state,
            ended_at: l.ended_at,
            views,
            saves,
            last_activity_at: l.last_activity_at,
        });
    }
    Ok((rows, next))
}

/// The link, or the same 404 for a link this tenant has never seen.
pub async fn find_link(store: &dyn Store, t: &TenantId, id: &str) -> ApiResult<LinkSummary> {
    let found = store.links(t, &RecentPage { only: vec![id.to_owned()], ..RecentPage::first(1) }).await?;
    found.into_iter().next().ok_or_else(|| ApiError::not_found(format!("link {id}")))
}

pub async fn access_log(
    State(s): State<AppState>,
    who: Principal,
    origin: crate::audit::Origin,
    TenantPath(t): TenantPath,
    Path((_, link_id)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult<Response> {
    who.require(&t, Scope::Read)?;
    if who.owner().is_some() {
        return Err(ApiError::forbidden("link access logs are for managers and up: role member sees its own events"));
    }
    let mut f = filtered(&s, &who, &t, &uri, &["format"]).await?;
    if !f.filter.targets.is_empty() {
        return Err(ApiError::bad_request(
            "unsupported_filter",
            "the link is in the path: a link access log takes no target filter",
        )
        .with_field("target"));
    }
    find_link(&*s.store, &t, &link_id).await?;
    f.filter.targets = vec![TargetRef { kind: Some("link".into()), id: link_id.clone() }];
    if let Some(format) = f.param("format").map(str::to_owned) {
        let given = vec![("link".to_owned(), link_id)];
        return crate::api::export::respond(&s, &who, &origin, &t, f, &format, ViewKind::LinkAccess, given).await;
    }
    let redaction = f.filter.redaction;
    let view = View {
        kind: ViewKind::LinkAccess,
        tz: f.tz.clone(),
        link_key: link_key(&s.config.signing_key),
        mask_phone: redaction.mask_phones,
    };
    let (rows, next_cursor) = view_rows(&*s.store, &t, &view, redaction, f.filter, f.page).await?;
    Ok(body(RowsPage { rows, next_cursor })?.into_response())
}
