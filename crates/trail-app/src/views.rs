//! `GET /v1/tenants/{t}/views/{view}`: one of the catalogue's event views (`api`, `panel`,
//! `messages`, `sms`, `documents`, `link-access`, or `activity`) as JSON rows: the events
//! query with section 4's filters, the view's actions unless the caller narrows by `action`,
//! and each event projected to the columns the view's exports have, keyed as in NDJSON
//! report rows. SMS phones are masked for everyone but admins, as in exports.

use axum::{
    Json,
    extract::{Path, State},
    http::Uri,
};
use serde_json::{Map, Value};
use trail_core::{
    TenantId,
    filter::{ActionPattern, Filter, Page},
    ids::Scope,
};
use trail_export::{
    Cell,
    views::{View, ViewKind},
};
use trail_store::Store;

use super::page::{ColumnHead, ViewPage, body};
use crate::{
    AppState,
    api::{events::filtered, extract::TenantPath},
    auth::Principal,
    error::{ApiError, ApiResult},
    export::link_key,
};

pub async fn view(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, name)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    who.require(&t, Scope::Read)?;
    let kind = ViewKind::parse(&name).map_err(|m| ApiError::not_found(format!("view {name:?}: {m}")))?;
    if kind.is_report() {
        return Err(ApiError::not_found(format!(
            "view {name:?}: it is a report, at /v1/tenants/{t}/reports/{}",
            kind.name()
        )));
    }
    let f = filtered(&s, &who, &t, &uri, &[]).await?;
    let redaction = f.filter.redaction;
    let view =
        View { kind, tz: f.tz.clone(), link_key: link_key(&s.config.signing_key), mask_phone: redaction.mask_phones };
    let (rows, next_cursor) = view_rows(&*s.store, &t, &view, redaction, f.filter, f.page).await?;
    body(ViewPage { rows, next_cursor, columns: kind.columns().iter().map(ColumnHead::from).collect() })
}

/// Narrows `filter` to the view's actions, unless the caller chose actions.
pub fn view_filter(kind: ViewKind, mut filter: Filter) -> Filter {
    if let (Some(actions), true) = (kind.actions(), filter.actions.is_empty()) {
        filter.actions =
            actions.iter().map(|a| ActionPattern::parse(a).expect("the views' action patterns are valid")).collect();
    }
    filter
}

/// One page of an event view: each event as `{seq, <column key>: value, ...}` (dates as RFC
/// 3339 in the tenant's time zone), and the next page's cursor.
pub async fn view_rows(
    store: &dyn Store,
    t: &TenantId,
    view: &View,
    redaction: crate::redact::Redaction,
    filter: Filter,
    page: Page,
) -> ApiResult<(Vec<Map<String, Value>>, Option<String>)> {
    let mut filter = view_filter(view.kind, filter);
    // What the rows show is what the filter matches.
    filter.redaction = redaction;
    let mut result = store.query(t, &filter, page).await?;
    result.events.iter_mut().for_each(|e| crate::redact::event(e, redaction));
    let mut cells = Vec::new();
    let rows = result
        .events
        .iter()
        .map(|e| {
            cells.clear();
            view.cells(e, &mut cells);
            let mut row = Map::new();
            row.insert("seq".into(), e.seq.into());
            for (c, cell) in view.kind.columns().iter().zip(cells.drain(..)) {
                row.insert(c.key.into(), json_of(cell));
            }
            row
        })
        .collect();
    Ok((rows, result.next_cursor.map(|c| c.encode())))
}

fn json_of(cell: Cell<'_>) -> Value {
    match cell {
        Cell::Empty => Value::Null,
        Cell::Text(s) => Value::String(s.into_owned()),
        Cell::Int(n) => n.into(),
        Cell::Date(z) => Value::String(z.strftime("%Y-%m-%dT%H:%M:%S%.f%:z").to_string()),
    }
}
