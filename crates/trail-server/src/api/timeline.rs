//! `GET /v1/tenants/{t}/reports/timeline`: event counts per hour or day in the tenant's time zone.
//! The buckets' boundaries come from `crate::timeline_math`.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, Uri},
};
use jiff::{Timestamp, tz::TimeZone};
use serde::Serialize;
use trail_core::ids::Scope;

use super::{events::filtered, extract::TenantPath};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
    timeline_math::{Interval, fitted_boundaries},
};

#[derive(Serialize)]
pub struct Row {
    /// The bucket's first instant, in the tenant's time zone.
    pub start: String,
    pub count: u64,
}

#[derive(Serialize)]
pub struct TimelineResponse {
    rows: Vec<Row>,
    next_cursor: Option<String>,
    interval: &'static str,
    time_zone: String,
}

/// The events `filter` selects counted per interval over its time range (from the tenant's
/// first event when it has no start, to now when it has no end), in time zone `tz`, with the
/// interval used (longer than `interval` for an open start too long for it).
pub async fn buckets(
    s: &AppState,
    t: &trail_core::TenantId,
    filter: &trail_core::filter::Filter,
    interval: Interval,
    tz: &TimeZone,
) -> ApiResult<(Interval, Vec<Row>)> {
    let now = Timestamp::now();
    let from = match filter.time.from {
        Some(from) => Some(from),
        None => s.store.first_occurred_at(t).await?,
    };
    let to = filter.time.to.unwrap_or(now).max(from.unwrap_or(now));
    let Some(from) = from else { return Ok((interval, Vec::new())) };
    let open_start = filter.time.from.is_none();
    let (interval, bounds) = fitted_boundaries(from, to, interval, tz, open_start)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", m).with_field("interval"))?;
    let counts = s.store.count_buckets(t, filter, &bounds).await?;
    let rows = bounds
        .iter()
        .zip(counts)
        .map(|(b, count)| Row { start: b.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(), count })
        .collect();
    Ok((interval, rows))
}

pub async fn timeline(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<TimelineResponse>> {
    who.require(&t, Scope::Read)?;
    let f = filtered(&s, &who, &t, &uri, &["interval"]).await?;
    let asked = f.param("interval").unwrap_or("day");
    let Some(interval) = Interval::parse(asked) else {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("interval {asked:?} is invalid: use hour, day, month or year"),
        )
        .with_field("interval"));
    };
    let (interval, rows) = buckets(&s, &t, &f.filter, interval, &f.tz).await?;
    Ok(Json(TimelineResponse { rows, next_cursor: None, interval: interval.as_str(), time_zone: f.tenant.time_zone }))
}
