//! The reports of SPEC 5 that come from rollups (issue 7 adds the rest).
//!
//! `GET /v1/tenants/{t}/reports/logins`: per person seen in `auth.login.*`, the status of their
//! latest attempt, their latest success and failure, their failed attempts in the range, and
//! where the latest attempt came from. Rows come from the login rollup, latest attempt first,
//! so a page costs O(rows shown): the people whose latest attempt falls after the range's start
//! are exactly those with an attempt in an open range (`last_30_days`, `today`, ...); for a
//! range with an end, a person whose latest attempt is after it is kept when the term index
//! counts an attempt inside it. Failed attempts in the range are counted from the term index
//! per row (an exact plan: bitmaps only, no event is read).

use axum::{Json, extract::State, http::Uri};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use trail_core::{
    filter::{ActionPattern, Filter, parse_params},
    ids::Scope,
    time::time_zone,
};

use super::{TenantPath, events::tenant, extract::query_pairs};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
};

fn cursor_of(at: Timestamp, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{key}", at.as_microsecond()))
}

/// The row a login report cursor names.
pub fn parse_cursor(c: &str) -> Option<(Timestamp, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let (at, key) = text.split_once(':')?;
    Some((Timestamp::from_microsecond(at.parse().ok()?).ok()?, key.to_owned()))
}

/// How many of `key`'s events match `actions` within the filter's time range, from the index.
async fn count(s: &AppState, t: &trail_core::TenantId, f: &Filter, key: &str, actions: &[&str]) -> ApiResult<u64> {
    let filter = Filter {
        time: f.time,
        actors: vec![key.to_owned()],
        actions: actions.iter().map(|a| ActionPattern::parse(a).expect("catalogue actions")).collect(),
        ..Filter::default()
    };
    let bounds = [f.time.from.unwrap_or(Timestamp::MIN), f.time.to.unwrap_or(Timestamp::MAX)];
    Ok(s.store.count_buckets(t, &filter, &bounds).await?.first().copied().unwrap_or(0))
}

pub async fn logins(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    who.require(&t, Scope::Read)?;
    if who.owner().is_some() {
        return Err(ApiError::forbidden("the login report is for managers and up: role member sees its own events"));
    }
    let tenant = tenant(&s, &t).await?;
    let tz = time_zone(&tenant.time_zone).map_err(ApiError::internal)?;
    let mut pairs = query_pairs(uri.query());
    let cursor = pairs.iter().position(|(k, _)| k == "cursor").map(|i| pairs.remove(i).1);
    let (f, page) = parse_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &tz, Timestamp::now(), &[])?;
    let unsupported = [
        ("action", !f.actions.is_empty()),
        ("category", !f.categories.is_empty()),
        ("outcome", !f.outcomes.is_empty()),
        ("target", !f.targets.is_empty()),
        ("ip", !f.ips.is_empty()),
        ("country", !f.countries.is_empty()),
        ("session", !f.sessions.is_empty()),
        ("q", f.q.is_some()),
    ];
    if let Some((name, _)) = unsupported.iter().find(|(_, given)| *given) {
        return Err(ApiError::bad_request(
            "unsupported_filter",
            format!("the login report takes range, from, to, tz and actor; {name} is not supported here: filter the activity log with action=auth.* instead"),
        )
        .with_field(*name));
    }
    let after = match cursor {
        Some(c) => Some(parse_cursor(&c).ok_or_else(|| {
            ApiError::bad_request("invalid_parameter", "cursor is not one this report gave: start again without it")
                .with_field("cursor")
        })?),
        None => None,
    };
    let (rows, next_cursor) = login_rows(&s, &t, &f, page.limit, after).await?;
    Ok(Json(json!({"rows": rows, "next_cursor": next_cursor})))
}

/// One row of the login report.
#[derive(Serialize)]
pub struct LoginRow {
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// `succeeded` or `failed`.
    pub last_status: &'static str,
    #[serde(with = "trail_core::time::serde_rfc3339")]
    pub last_attempt_at: Timestamp,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub last_success_at: Option<Timestamp>,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub last_failure_at: Option<Timestamp>,
    pub failed_count: u64,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    /// What the `actor` filter finds this person by.
    #[serde(skip)]
    pub key: String,
}

/// One page of the login report for filter `f` (its time range and actors), after the row
/// `after`: the rows and the next page's cursor.
pub async fn login_rows(
    s: &AppState,
    t: &trail_core::TenantId,
    f: &Filter,
    limit: usize,
    mut after: Option<(Timestamp, String)>,
) -> ApiResult<(Vec<LoginRow>, Option<String>)> {
    let mut rows: Vec<LoginRow> = Vec::new();
    loop {
        let batch = s.store.logins(t, f.time.from, after.clone(), limit + 1, &f.actors).await?;
        let exhausted = batch.len() <= limit;
        for l in batch {
            after = Some((l.last_attempt_at, l.key.clone()));
            if f.time.to.is_some_and(|to| l.last_attempt_at >= to)
                && count(s, t, f, &l.key, &["auth.login.succeeded", "auth.login.failed"]).await? == 0
            {
                continue;
            }
            if rows.len() == limit {
                // One more row exists: the page ends with the previous one.
                let next = rows.last().map(|last| cursor_of(last.last_attempt_at, &last.key));
                return Ok((rows, next));
            }
            let failed_count = count(s, t, f, &l.key, &["auth.login.failed"]).await?;
            rows.push(LoginRow {
                last_status: if l.last_succeeded { "succeeded" } else { "failed" },
                actor_id: l.actor_id,
                name: l.name,
                email: l.email,
                last_attempt_at: l.last_attempt_at,
                last_success_at: l.last_success_at,
                last_failure_at: l.last_failure_at,
                failed_count,
                ip: l.ip,
                country: l.country,
                region: l.region,
                city: l.city,
                key: l.key,
            });
        }
        if exhausted {
            return Ok((rows, None));
        }
    }
}
