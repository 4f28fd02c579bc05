//! `GET /v1/tenants/{t}/reports/timeline`: event counts per hour or day in the tenant's time zone.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, Uri},
};
use jiff::{Timestamp, ToSpan, Zoned, tz::TimeZone};
use serde::Serialize;
use trail_core::ids::Scope;

use super::{TenantPath, events::filtered};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
};

/// The most buckets one answer may hold.
const MAX_BUCKETS: usize = 10_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Interval {
    Hour,
    Day,
}

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

/// The start of the bucket holding `at`.
fn floor(at: Timestamp, interval: Interval, tz: &TimeZone) -> Option<Zoned> {
    let z = at.to_zoned(tz.clone());
    match interval {
        Interval::Day => z.start_of_day().ok(),
        Interval::Hour => z.with().minute(0).second(0).subsec_nanosecond(0).build().ok(),
    }
}

/// Bucket boundaries covering `[from, to)`: the first is at or before `from`, the last at or
/// after `to`. Days follow the zone's calendar (a day may be 23 or 25 hours long).
pub fn boundaries(from: Timestamp, to: Timestamp, interval: Interval, tz: &TimeZone) -> Result<Vec<Timestamp>, String> {
    let mut z = floor(from, interval, tz).ok_or("the range starts outside the supported dates")?;
    let mut out = vec![z.timestamp()];
    while z.timestamp() < to {
        z = match interval {
            Interval::Day => {
                z.date().tomorrow().ok().and_then(|d| d.to_zoned(tz.clone()).ok()).and_then(|d| d.start_of_day().ok())
            }
            Interval::Hour => z.checked_add(1.hour()).ok(),
        }
        .ok_or("the range ends outside the supported dates")?;
        out.push(z.timestamp());
        if out.len() > MAX_BUCKETS + 1 {
            return Err(format!(
                "the range holds more than {MAX_BUCKETS} {}s: use interval=day or a shorter range",
                if interval == Interval::Hour { "hour" } else { "day" }
            ));
        }
    }
    Ok(out)
}

/// The events `filter` selects counted per interval over its time range (from the tenant's
/// first event when it has no start, to now when it has no end), in time zone `tz`.
pub async fn buckets(
    s: &AppState,
    t: &trail_core::TenantId,
    filter: &trail_core::filter::Filter,
    interval: Interval,
    tz: &TimeZone,
) -> ApiResult<Vec<Row>> {
    let now = Timestamp::now();
    let from = match filter.time.from {
        Some(from) => Some(from),
        None => s.store.first_occurred_at(t).await?,
    };
    let to = filter.time.to.unwrap_or(now).max(from.unwrap_or(now));
    let Some(from) = from else { return Ok(Vec::new()) };
    let bounds = boundaries(from, to, interval, tz)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", m).with_field("interval"))?;
    let counts = s.store.count_buckets(t, filter, &bounds).await?;
    Ok(bounds
        .iter()
        .zip(counts)
        .map(|(b, count)| Row { start: b.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(), count })
        .collect())
}

pub async fn timeline(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<TimelineResponse>> {
    who.require(&t, Scope::Read)?;
    let f = filtered(&s, &who, &t, &uri, &["interval"]).await?;
    let interval = match f.param("interval").unwrap_or("day") {
        "day" => Interval::Day,
        "hour" => Interval::Hour,
        other => {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("interval {other:?} is invalid: use hour or day"),
            )
            .with_field("interval"));
        }
    };
    let rows = buckets(&s, &t, &f.filter, interval, &f.tz).await?;
    Ok(Json(TimelineResponse {
        rows,
        next_cursor: None,
        interval: if interval == Interval::Hour { "hour" } else { "day" },
        time_zone: f.tenant.time_zone,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_zone_calendar() {
        let tz = TimeZone::get("Europe/London").unwrap();
        // The clocks go back on 2026-10-25: that day has 25 hours.
        let b = boundaries(
            "2026-10-24T12:00:00Z".parse().unwrap(),
            "2026-10-26T12:00:00Z".parse().unwrap(),
            Interval::Day,
            &tz,
        )
        .unwrap();
        let expect: Vec<Timestamp> =
            ["2026-10-23T23:00:00Z", "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z", "2026-10-27T00:00:00Z"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        assert_eq!(b, expect);
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        let h = boundaries(
            "2026-11-22T10:10:00Z".parse().unwrap(),
            "2026-11-22T11:00:00Z".parse().unwrap(),
            Interval::Hour,
            &kolkata,
        )
        .unwrap();
        assert_eq!(h[0], "2026-11-22T09:30:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(h.len(), 3);
        assert!(
            boundaries(
                "2000-01-01T00:00:00Z".parse().unwrap(),
                "2026-01-01T00:00:00Z".parse().unwrap(),
                Interval::Hour,
                &tz
            )
            .is_err()
        );
    }
}
