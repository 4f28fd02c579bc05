//! The Users page (SPEC 7): everyone seen as an actor, most recently active first, each with a
//! Logs button that opens the activity log filtered to them. Managers and up only.

use askama::Template;
use axum::{
    extract::State,
    http::request::Parts,
    response::{IntoResponse, Response},
};
use jiff::tz::TimeZone;
use trail_core::time::time_zone;

use super::{Nav, activity::encode, manager_page, render};
use crate::{AppState, error::ApiError};

/// People listed at most.
const MAX_ROWS: usize = 1000;

pub(crate) struct UserRow {
    name: String,
    email: String,
    key: String,
    first_seen: String,
    last_seen: String,
    events: u64,
    last_login: String,
    logs: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Option<Nav>,
    rows: Vec<UserRow>,
    capped: bool,
}

pub async fn page(State(s): State<AppState>, parts: Parts) -> Response {
    let (_, tenant, nav) = match manager_page(&parts, &s, "/console/users").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let nav = Some(nav);
    let actors = match s.store.actors(&tenant.id, MAX_ROWS + 1).await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let tz = time_zone(&tenant.time_zone).unwrap_or(TimeZone::UTC);
    let day = |t: jiff::Timestamp| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
    let capped = actors.len() > MAX_ROWS;
    let rows = actors
        .iter()
        .take(MAX_ROWS)
        .map(|a| UserRow {
            name: a.name.clone().unwrap_or_default(),
            email: a.email.clone().unwrap_or_default(),
            key: a.key.clone(),
            first_seen: day(a.first_seen_at),
            last_seen: day(a.last_seen_at),
            events: a.event_count,
            last_login: a.last_login_at.map(day).unwrap_or_default(),
            logs: format!(
                "/console/activity?{}",
                encode(&[("range".into(), "all".into()), ("actor".into(), a.key.clone())])
            ),
        })
        .collect();
    render(&UsersPage { nav, rows, capped })
}
