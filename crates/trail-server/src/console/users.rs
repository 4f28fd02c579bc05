//! The Users page (docs/console.md): everyone seen as an actor, most recently active first, each with a
//! Logs button that opens the activity log filtered to them. Managers and up only. Rows come
//! from the same function as `GET /v1/tenants/{t}/reports/users`; all time unless a range is
//! chosen.

use askama::Template;
use axum::{
    extract::State,
    http::request::Parts,
    response::{IntoResponse, Response},
};
use jiff::{Timestamp, tz::TimeZone};
use trail_app::reports::{parse_cursor, user_rows};
use trail_core::{
    filter::parse_params,
    time::{RangePreset, time_zone},
};

use super::{Nav, activity::encode, manager_page, render};
use crate::{AppState, error::ApiError, params::query_pairs};

/// People a page lists.
const PAGE: usize = 100;

pub(crate) struct UserRow {
    name: String,
    email: String,
    key: String,
    first_seen: String,
    last_seen: String,
    events: u64,
    last_login: String,
    logs: String,
    stats: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Option<Nav>,
    ranges: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<UserRow>,
    more: Option<String>,
    tz: String,
    downloads: Vec<super::activity::Download>,
    download_note: Option<String>,
}

/// `GET /console/users?range=...`: the users report (all time unless a range is chosen).
pub async fn page(State(s): State<AppState>, parts: Parts) -> Response {
    let (_, tenant, nav) = match manager_page(&parts, &s, "/console/users").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let tz = time_zone(&tenant.time_zone).unwrap_or(TimeZone::UTC);
    let pairs = query_pairs(parts.uri.query());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let range = get("range").filter(|r| RangePreset::parse(r).is_ok()).unwrap_or("all");
    let after = get("cursor").and_then(parse_cursor);
    let (f, _) = parse_params([("range", range)], &tz, Timestamp::now(), &[]).expect("a preset parses");
    let (people, next) = match user_rows(&*s.store, &tenant.id, &f, PAGE, after).await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let day = |t: jiff::Timestamp| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
    let rows = people
        .into_iter()
        .map(|a| UserRow {
            name: a.name.clone().unwrap_or_default(),
            email: a.email.clone().unwrap_or_default(),
            first_seen: day(a.first_seen_at),
            last_seen: day(a.last_seen_at),
            events: a.event_count,
            last_login: a.last_login_at.map(day).unwrap_or_default(),
            logs: format!(
                "/console/activity?{}",
                encode(&[("range".into(), range.into()), ("actor".into(), a.key.clone())])
            ),
            stats: format!(
                "/console/users/{}?{}",
                super::report::encode_path(&a.key),
                encode(&[("range".into(), range.into())])
            ),
            key: a.key,
        })
        .collect();
    let more =
        next.map(|c| format!("/console/users?{}", encode(&[("range".into(), range.into()), ("cursor".into(), c)])));
    let ranges =
        RangePreset::ALL.iter().map(|p| (p.as_str(), super::activity::range_label(*p), p.as_str() == range)).collect();
    let (downloads, download_note) = super::report_downloads(&s, &tenant, "users", range);
    render(&UsersPage { nav: Some(nav), ranges, rows, more, tz: tenant.time_zone.clone(), downloads, download_note })
}
