//! The Logins page (docs/console.md): the login report for a date range, each person with a Logs
//! button that opens their login events. Managers and up. Rows come from the same function as
//! `GET /v1/tenants/{t}/reports/logins` (`trail_app::reports`), so the page and the API always
//! agree.

use askama::Template;
use axum::{
    extract::State,
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use jiff::{Timestamp, tz::TimeZone};
use trail_app::reports::{LoginRow, login_rows, parse_cursor};
use trail_core::{
    filter::parse_params,
    time::{RangePreset, time_zone},
    vocabulary::actions,
};

use super::{Nav, activity::encode, manager_page, render};
use crate::{AppState, error::ApiError, params::query_pairs};

/// People a page shows.
const PAGE: usize = 100;

struct Row {
    name: String,
    email: String,
    failed: bool,
    last_success: String,
    last_failure: String,
    failed_count: u64,
    ip: String,
    place: String,
    logs: String,
}

#[derive(Template)]
#[template(path = "logins.html")]
struct LoginsPage {
    nav: Option<Nav>,
    ranges: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<Row>,
    more: Option<String>,
    error: Option<String>,
    tz: String,
    downloads: Vec<super::activity::Download>,
    download_note: Option<String>,
}

fn row(r: LoginRow, range: &str, tz: &TimeZone) -> Row {
    let when = |t: Option<Timestamp>| t.map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string());
    let place: Vec<&str> =
        [r.city.as_deref(), r.region.as_deref(), r.country.as_deref()].into_iter().flatten().collect();
    let logs = encode(&[
        ("range".into(), range.into()),
        ("actor".into(), r.key.clone()),
        ("action".into(), actions::AUTH_LOGIN_SUCCEEDED.into()),
        ("action".into(), actions::AUTH_LOGIN_FAILED.into()),
    ]);
    Row {
        name: r.name.clone().unwrap_or_else(|| r.key.clone()),
        email: r.email.unwrap_or_default(),
        failed: r.last_status == "failed",
        last_success: when(r.last_success_at).unwrap_or_default(),
        last_failure: when(r.last_failure_at).unwrap_or_default(),
        failed_count: r.failed_count,
        ip: r.ip.unwrap_or_default(),
        place: place.join(", "),
        logs: format!("/console/activity?{logs}"),
    }
}

/// `GET /console/logins?range=...`.
pub async fn page(State(s): State<AppState>, parts: Parts) -> Response {
    let (_, tenant, nav) = match manager_page(&parts, &s, "/console/logins").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let tz = time_zone(&tenant.time_zone).unwrap_or(TimeZone::UTC);
    let pairs = query_pairs(parts.uri.query());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let range = get("range").filter(|r| RangePreset::parse(r).is_ok()).unwrap_or("last_30_days");
    let after = get("cursor").and_then(parse_cursor);
    let (f, _) = parse_params([("range", range)], &tz, Timestamp::now(), &[]).expect("a preset parses");
    let (rows, more, error) = match login_rows(&*s.store, &tenant.id, &f, PAGE, after).await.map_err(ApiError::from) {
        Ok((rows, next)) => (
            rows.into_iter().map(|r| row(r, range, &tz)).collect(),
            next.map(|c| {
                format!("/console/logins?{}", encode(&[("range".into(), range.into()), ("cursor".into(), c)]))
            }),
            None,
        ),
        Err(e) if e.status.is_server_error() => return e.into_response(),
        Err(e) => (Vec::new(), None, Some(e.message)),
    };
    let ranges =
        RangePreset::ALL.iter().map(|p| (p.as_str(), super::activity::range_label(*p), p.as_str() == range)).collect();
    let (downloads, download_note) = super::report_downloads(&s, &tenant, "logins", range);
    let mut resp = render(&LoginsPage {
        nav: Some(nav),
        ranges,
        rows,
        more,
        tz: tenant.time_zone.clone(),
        error: error.clone(),
        downloads,
        download_note,
    });
    if error.is_some() {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    resp
}
