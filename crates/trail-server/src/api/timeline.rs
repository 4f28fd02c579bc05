//! `GET /v1/tenants/{t}/reports/timeline`: event counts per hour or day in the tenant's time zone.
//! The counting is `trail_app::timeline`'s; here the buckets become rows.

use axum::{Json, extract::State, http::Uri};
use jiff::tz::TimeZone;
use serde::Serialize;
use trail_app::timeline::{self, Coarsen, Interval, Row};
use trail_core::ids::Scope;

use super::{events::filtered, extract::TenantPath};
use crate::{AppState, auth::Principal, error::ApiResult};

#[derive(Serialize)]
pub struct TimelineResponse {
    rows: Vec<Row>,
    next_cursor: Option<String>,
    interval: &'static str,
    time_zone: String,
}

/// The events `filter` selects counted per interval as rows (see `trail_app::timeline::count`;
/// an open start too long for `interval` takes a longer one, which is returned).
pub async fn buckets(
    s: &AppState,
    t: &trail_core::TenantId,
    filter: &trail_core::filter::Filter,
    interval: Interval,
    tz: &TimeZone,
) -> ApiResult<(Interval, Vec<Row>)> {
    let counted = timeline::count(&**s.app.store(), t, filter, interval, tz, Coarsen::WhenOpen).await?;
    let rows = counted.rows(tz);
    Ok((counted.interval, rows))
}

pub async fn timeline(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<TimelineResponse>> {
    who.require(&t, Scope::Read)?;
    let f = filtered(&s, &who, &t, &uri, &["interval"]).await?;
    let interval = Interval::from_param(f.param("interval").unwrap_or("day"))?;
    let (interval, rows) = buckets(&s, &t, &f.filter, interval, &f.tz).await?;
    Ok(Json(TimelineResponse { rows, next_cursor: None, interval: interval.as_str(), time_zone: f.tenant.time_zone }))
}
