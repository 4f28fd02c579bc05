//! The users report: everyone seen as an actor, most recently active first, with first and
//! last activity, events (in the range; all of them for `range=all`) and last login. And one
//! person's statistics: their events in the range counted by action (from the index, one
//! bitmap count per action the tenant has) and per day (the timeline's buckets), for managers
//! and up or that person.

use jiff::{Timestamp, tz::TimeZone};
use serde::Serialize;
use trail_core::{TenantId, filter::Filter, ids::Scope};
use trail_store::{ActorSummary, RecentPage, Store};

use super::{bounded, count_in_range, person, rollup_page};
use crate::{AppError, AppResult, access::Principal};

/// One row of the users report.
#[derive(Serialize)]
pub struct UserRow {
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(with = "trail_core::time::serde_rfc3339")]
    pub first_seen_at: Timestamp,
    #[serde(with = "trail_core::time::serde_rfc3339")]
    pub last_seen_at: Timestamp,
    pub event_count: u64,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub last_login_at: Option<Timestamp>,
    /// What the `actor` filter finds this person by (the actor id, else the e-mail).
    pub key: String,
}

/// One page of the users report for filter `f`, after the row `after`.
pub async fn user_rows(
    store: &dyn Store,
    t: &TenantId,
    f: &Filter,
    limit: usize,
    after: Option<(Timestamp, String)>,
) -> AppResult<(Vec<UserRow>, Option<String>)> {
    let (page, next) = rollup_page::<ActorSummary>(store, t, f, limit, after).await?;
    let mut rows = Vec::with_capacity(page.len());
    for a in page {
        let event_count =
            if bounded(f) { count_in_range(store, t, f, person(&a.key, &[])).await? } else { a.event_count };
        rows.push(UserRow {
            actor_id: a.actor_id,
            name: a.name,
            email: a.email,
            first_seen_at: a.first_seen_at,
            last_seen_at: a.last_seen_at,
            event_count,
            last_login_at: a.last_login_at,
            key: a.key,
        });
    }
    Ok((rows, next))
}

#[derive(Serialize)]
pub struct ActionStat {
    pub action: String,
    pub report_type: String,
    pub count: u64,
}

/// One person's statistics (`GET .../reports/users/{actor}/stats`, the console's statistics page).
#[derive(Serialize)]
pub struct UserStats {
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub key: String,
    pub event_count: u64,
    pub by_action: Vec<ActionStat>,
    pub by_day: Vec<crate::timeline::Row>,
    pub time_zone: String,
}

/// Allows reading `actor`'s statistics: managers and up may read anyone's, a member only their
/// own (anyone else's is the same "not found" as nobody's).
pub async fn may_see_stats(store: &dyn Store, who: &Principal, t: &TenantId, actor: &str) -> AppResult<()> {
    who.require(t, Scope::Read)?;
    if let Some(owner) = who.owner()
        && !crate::identity::owner(store, t, owner).await?.is(actor)
    {
        return Err(AppError::NotFound(format!("user {actor}")));
    }
    Ok(())
}

/// The statistics of the person `actor` (actor id or e-mail) over `filter`'s time range, by
/// day of the tenant's time zone `tz` (named `time_zone`), as the timeline counts days.
pub async fn user_stats(
    store: &dyn Store,
    t: &TenantId,
    actor: &str,
    filter: &Filter,
    tz: &TimeZone,
    time_zone: &str,
) -> AppResult<UserStats> {
    let found = store.actors(t, &RecentPage { only: vec![actor.to_owned()], ..RecentPage::first(1) }).await?;
    let Some(a) = found.into_iter().next() else {
        return Err(AppError::NotFound(format!("user {actor}: nobody with this actor id or e-mail has events")));
    };
    // Count by the rollup's key so a person found by e-mail counts their events by id too.
    let mut by_action = Vec::new();
    for action in store.actions(t).await? {
        let count = count_in_range(store, t, filter, person(&a.key, &[action.action.as_str()])).await?;
        if count > 0 {
            by_action.push(ActionStat {
                report_type: trail_core::catalogue::report_type(&action.action),
                action: action.action,
                count,
            });
        }
    }
    by_action.sort_by(|x, y| y.count.cmp(&x.count).then_with(|| x.action.cmp(&y.action)));
    let mut scope = person(&a.key, &[]);
    scope.time = filter.time;
    scope.redaction = filter.redaction;
    // Days, or months or years for an open range starting decades back.
    let by_day = by_day(store, t, &scope, tz).await?;
    Ok(UserStats {
        event_count: by_action.iter().map(|x| x.count).sum::<u64>(),
        actor_id: a.actor_id,
        name: a.name,
        email: a.email,
        key: a.key,
        by_action,
        by_day,
        time_zone: time_zone.to_owned(),
    })
}

/// The events `scope` selects counted per day over its time range (from the tenant's first
/// event when it has no start, to now when it has no end), as the timeline counts them.
async fn by_day(
    store: &dyn Store,
    t: &TenantId,
    scope: &Filter,
    tz: &TimeZone,
) -> AppResult<Vec<crate::timeline::Row>> {
    use crate::timeline::{Coarsen, Interval, count};
    Ok(count(store, t, scope, Interval::Day, tz, Coarsen::WhenOpen).await?.rows(tz))
}
