//! The reports that come from rollups (docs/api.md): their typed rows, one file per report,
//! and the paging they share.
//!
//! Rollup reports (logins, usage, users, links) read a rollup table ordered by each row's
//! latest activity, so a page costs O(rows shown) at any depth: the rows whose latest activity
//! falls after the range's start are exactly those with activity in an open range
//! (`last_30_days`, `today`, ...); for a range with an end, a row whose latest activity is after
//! it is kept when the term index counts one of its events inside the range. Counts "in the
//! range" (failed logins, uploads, events) come from the term index per row: bitmaps only, no
//! event is read. Figures that are a state rather than a count (files held, storage used, a
//! link's state) are as of now.
//!
//! The HTTP API (`trail-server`'s `api/reports/`), the console's report pages and exports of a
//! report view all take their rows from here, so they always agree. The catalogue's event
//! views are [`crate::views`].

mod links;
mod logins;
mod messages;
mod usage;
mod users;

use futures::future::BoxFuture;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jiff::Timestamp;
use trail_core::{
    TenantId,
    filter::{ActionPattern, Filter, parse_params},
    ids::Scope,
    time::time_zone,
    vocabulary::actions::{self, pattern},
};
use trail_store::{
    ACTIVITY_BUCKET_US, ActorSummary, LinkSummary, LoginSummary, RecentPage, RollupKind, Store, StoreResult,
    UsageSummary,
};

pub use links::{LinkRow, find_link, link_rows, narrow_to_link};
pub use logins::{LoginRow, login_rows};
pub use messages::{Interaction, MessageEntry, Who, message_entry, message_for};
pub use usage::{UsageRow, usage_rows};
pub use users::{ActionStat, UserRow, UserStats, may_see_stats, user_rows, user_stats};

use crate::{App, AppError, AppResult, Invalid, access::Principal, queries::tenant};

fn cursor_of(at: Timestamp, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{key}", at.as_microsecond()))
}

/// The row a rollup report's cursor names.
pub fn parse_cursor(c: &str) -> Option<(Timestamp, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let (at, key) = text.split_once(':')?;
    Some((Timestamp::from_microsecond(at.parse().ok()?).ok()?, key.to_owned()))
}

/// Allows a read of `t` that is for managers and up: the read scope, and not a `member` (who
/// sees their own events only); `refusal` says so to a member.
pub fn managers_only(who: &Principal, t: &TenantId, refusal: impl Into<String>) -> AppResult<()> {
    who.require(t, Scope::Read)?;
    if who.owner().is_some() {
        return Err(AppError::Forbidden(refusal.into()));
    }
    Ok(())
}

/// A rollup report's request: its filter (time range and actors only), page size and the row
/// after which the page starts.
pub struct ReportRequest {
    pub filter: Filter,
    pub limit: usize,
    pub after: Option<(Timestamp, String)>,
}

/// Reads a rollup report's request, given as query parameters (`pairs`), for managers and up:
/// the time filters and `actor` (when `actors` is true), `limit` and `cursor`; any other filter
/// is refused clearly rather than silently ignored.
pub async fn report_request(
    app: &App,
    who: &Principal,
    t: &TenantId,
    mut pairs: Vec<(String, String)>,
    report: &str,
    actors: bool,
) -> AppResult<ReportRequest> {
    managers_only(who, t, format!("the {report} report is for managers and up: role member sees its own events"))?;
    let tenant = tenant(&**app.store(), t).await?;
    let tz = time_zone(&tenant.time_zone).map_err(AppError::internal)?;
    let cursor = pairs.iter().position(|(k, _)| k == "cursor").map(|i| pairs.remove(i).1);
    let (mut f, page) = parse_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &tz, Timestamp::now(), &[])?;
    only_time_filters(&f, report, actors)?;
    // Each row's counts are of the events as this reader is shown them (`count_in_range`).
    f.redaction = crate::redact::of(who, t, app.config(), &tenant.plan);
    crate::identity::resolve(&**app.store(), t, &mut f).await?;
    let after = match cursor {
        Some(c) => Some(parse_cursor(&c).ok_or_else(|| {
            AppError::invalid(Invalid::Parameter, "cursor is not one this report gave: start again without it")
                .with_field("cursor")
        })?),
        None => None,
    };
    Ok(ReportRequest { filter: f, limit: page.limit, after })
}

/// Refuses every filter but time (and `actor` when `actors` is true), for the reports that
/// cannot apply them, rather than silently ignoring them.
pub fn only_time_filters(f: &Filter, report: &str, actors: bool) -> AppResult<()> {
    let unsupported = [
        ("actor", !actors && !f.actors.is_empty()),
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
        let takes = if actors { "range, from, to, tz and actor" } else { "range, from, to and tz" };
        Err(AppError::UnsupportedFilter {
            param: (*name).to_owned(),
            message: format!(
                "the {report} report takes {takes}; {name} is not supported here: filter the activity log instead"
            ),
        })
    } else {
        Ok(())
    }
}

/// How many events `scope` selects within `f`'s time range, as `f`'s reader is shown them
/// (`f.redaction`), from the index; a person in `scope.actors` counts by every identifier
/// linked to them.
///
/// A scope names a person or a link the reader may have chosen (a user's page), and on a plan
/// without link detail a visitor known only by e-mail must not be counted as that person. Such
/// a count cannot come from the index alone (see `trail_index::terms`); rather than read every
/// event of the person, the index counts them exactly as stored, and only the events of the
/// actions the redaction changes (SMS, link access) are read, to count them as shown.
pub(crate) async fn count_in_range(store: &dyn Store, t: &TenantId, f: &Filter, mut scope: Filter) -> AppResult<u64> {
    scope.time = f.time;
    scope.redaction = f.redaction;
    crate::identity::resolve(store, t, &mut scope).await?;
    let bounds = [f.time.from.unwrap_or(Timestamp::MIN), f.time.to.unwrap_or(Timestamp::MAX)];
    let count = async |scope: &Filter| -> AppResult<u64> {
        Ok(store.count_buckets(t, scope, &bounds).await?.first().copied().unwrap_or(0))
    };
    if !scope.sees_redacted() || !scope.actions.is_empty() || scope.q.is_some() {
        return count(&scope).await;
    }
    let changed = scope.redaction.changed_actions();
    let stored = Filter { redaction: trail_core::redaction::Redaction::NONE, ..scope.clone() };
    let stored_changed = Filter { actions: changed.clone(), ..stored.clone() };
    let shown_changed = Filter { actions: changed, ..scope };
    // Three reads, each of its own snapshot: an append between them cannot make a count negative.
    Ok((count(&stored).await? + count(&shown_changed).await?).saturating_sub(count(&stored_changed).await?))
}

/// A filter for one person's events of the given actions (all actions when empty).
pub(crate) fn person(key: &str, actions: &[&str]) -> Filter {
    Filter {
        actors: vec![key.to_owned()],
        actions: actions.iter().map(|a| ActionPattern::parse(a).expect("catalogue actions parse")).collect(),
        ..Filter::default()
    }
}

/// A rollup table's row, as the paging of every rollup report needs it.
pub(crate) trait Rollup: Sized + Send + 'static {
    /// Its activity buckets, when the store keeps them (closed ranges then cost O(rows shown)).
    const KIND: Option<RollupKind>;
    /// Its latest activity and key: its place in the table's order.
    fn latest(&self) -> (Timestamp, &str);
    /// Its events that count for the report (whether it belongs in a closed range).
    fn scope(&self) -> Filter;
    fn fetch<'a>(store: &'a dyn Store, t: &'a TenantId, page: &'a RecentPage) -> BoxFuture<'a, StoreResult<Vec<Self>>>;
}

impl Rollup for LoginSummary {
    const KIND: Option<RollupKind> = Some(RollupKind::Logins);
    fn latest(&self) -> (Timestamp, &str) {
        (self.last_attempt_at, &self.key)
    }
    fn scope(&self) -> Filter {
        person(&self.key, &[actions::AUTH_LOGIN_SUCCEEDED, actions::AUTH_LOGIN_FAILED])
    }
    fn fetch<'a>(store: &'a dyn Store, t: &'a TenantId, page: &'a RecentPage) -> BoxFuture<'a, StoreResult<Vec<Self>>> {
        store.logins(t, page)
    }
}

impl Rollup for UsageSummary {
    const KIND: Option<RollupKind> = Some(RollupKind::Usage);
    fn latest(&self) -> (Timestamp, &str) {
        (self.last_activity_at, &self.key)
    }
    fn scope(&self) -> Filter {
        person(&self.key, &[actions::FILE_UPLOADED, actions::FILE_DOWNLOADED, actions::FILE_DELETED])
    }
    fn fetch<'a>(store: &'a dyn Store, t: &'a TenantId, page: &'a RecentPage) -> BoxFuture<'a, StoreResult<Vec<Self>>> {
        store.usage(t, page)
    }
}

impl Rollup for ActorSummary {
    const KIND: Option<RollupKind> = None;
    fn latest(&self) -> (Timestamp, &str) {
        (self.last_seen_at, &self.key)
    }
    fn scope(&self) -> Filter {
        person(&self.key, &[])
    }
    fn fetch<'a>(store: &'a dyn Store, t: &'a TenantId, page: &'a RecentPage) -> BoxFuture<'a, StoreResult<Vec<Self>>> {
        store.actors(t, page)
    }
}

impl Rollup for LinkSummary {
    const KIND: Option<RollupKind> = Some(RollupKind::Links);
    fn latest(&self) -> (Timestamp, &str) {
        (self.last_activity_at, &self.key)
    }
    fn scope(&self) -> Filter {
        links::of_link(&self.key, &[pattern::LINK])
    }
    fn fetch<'a>(store: &'a dyn Store, t: &'a TenantId, page: &'a RecentPage) -> BoxFuture<'a, StoreResult<Vec<Self>>> {
        store.links(t, page)
    }
}

/// One page of a rollup for filter `f` (its time range and actors), after the row `after`: the
/// rows and the next page's cursor.
pub(crate) async fn rollup_page<R: Rollup>(
    store: &dyn Store,
    t: &TenantId,
    f: &Filter,
    limit: usize,
    mut after: Option<(Timestamp, String)>,
) -> AppResult<(Vec<R>, Option<String>)> {
    if let (Some(kind), Some(to), true) = (R::KIND, f.time.to, f.actors.is_empty())
        && to.as_microsecond() % ACTIVITY_BUCKET_US == 0
    {
        return closed_page(store, t, kind, f.time.from.unwrap_or(Timestamp::MIN), to, limit, after).await;
    }
    let mut rows: Vec<R> = Vec::new();
    loop {
        let page = RecentPage { since: f.time.from, after: after.clone(), limit: limit + 1, only: f.actors.clone() };
        let batch = R::fetch(store, t, &page).await?;
        let exhausted = batch.len() <= limit;
        for r in batch {
            let (at, key) = r.latest();
            after = Some((at, key.to_owned()));
            if f.time.to.is_some_and(|to| at >= to) && count_in_range(store, t, f, r.scope()).await? == 0 {
                continue;
            }
            if rows.len() == limit {
                // One more row exists: the page ends with the previous one.
                let next = rows.last().map(|last| {
                    let (at, key) = last.latest();
                    cursor_of(at, key)
                });
                return Ok((rows, next));
            }
            rows.push(r);
        }
        if exhausted {
            return Ok((rows, None));
        }
    }
}

/// One page of a rollup over a closed range whose end is on a bucket boundary (every preset
/// and every date is): the rows active in the range by their latest activity in it, from the
/// activity buckets, then their rollup rows by key.
async fn closed_page<R: Rollup>(
    store: &dyn Store,
    t: &TenantId,
    kind: RollupKind,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
    after: Option<(Timestamp, String)>,
) -> AppResult<(Vec<R>, Option<String>)> {
    let found = store.active_in(t, kind, from, to, after, limit + 1).await?;
    let next = (found.len() > limit).then(|| cursor_of(found[limit - 1].0, &found[limit - 1].1));
    let keys: Vec<String> = found.into_iter().take(limit).map(|(_, k)| k).collect();
    if keys.is_empty() {
        return Ok((Vec::new(), None));
    }
    // By key (a lookup by e-mail may also find someone else whose e-mail equals a key).
    let page = RecentPage { limit: keys.len() * 2, only: keys.clone(), ..RecentPage::default() };
    let mut by_key: std::collections::HashMap<String, R> =
        R::fetch(store, t, &page).await?.into_iter().map(|r| (r.latest().1.to_owned(), r)).collect();
    Ok((keys.iter().filter_map(|k| by_key.remove(k)).collect(), next))
}

/// Whether the filter bounds time at all (counts "in the range" then come from the index;
/// over all time they are the rollup's totals).
pub(crate) fn bounded(f: &Filter) -> bool {
    f.time.from.is_some() || f.time.to.is_some()
}

/// One page of a report view (logins, usage, users) as JSON rows, for its exports.
pub async fn report_page(
    kind: trail_export::views::ViewKind,
    store: &dyn Store,
    t: &TenantId,
    f: &Filter,
    limit: usize,
    after: Option<(Timestamp, String)>,
) -> AppResult<(Vec<serde_json::Map<String, serde_json::Value>>, Option<String>)> {
    use trail_export::views::ViewKind;
    fn maps<T: serde::Serialize>(rows: Vec<T>) -> Vec<serde_json::Map<String, serde_json::Value>> {
        rows.into_iter()
            .filter_map(|r| match serde_json::to_value(r) {
                Ok(serde_json::Value::Object(m)) => Some(m),
                _ => None,
            })
            .collect()
    }
    Ok(match kind {
        ViewKind::Logins => login_rows(store, t, f, limit, after).await.map(|(r, n)| (maps(r), n))?,
        ViewKind::Usage => usage_rows(store, t, f, limit, after).await.map(|(r, n)| (maps(r), n))?,
        ViewKind::Users => user_rows(store, t, f, limit, after).await.map(|(r, n)| (maps(r), n))?,
        other => return Err(AppError::internal(format!("{} is not a report view", other.name()))),
    })
}

#[cfg(test)]
mod tests {
    use trail_core::filter::TargetRef;

    use super::*;

    #[test]
    fn a_cursor_names_the_row_it_was_made_of() {
        let at: Timestamp = "2026-11-22T10:00:00.123456Z".parse().unwrap();
        // Keys may hold the separator: only the first one splits.
        let c = cursor_of(at, "asha@acme.example:x");
        assert_eq!(parse_cursor(&c), Some((at, "asha@acme.example:x".to_owned())));
        assert_eq!(parse_cursor("not a cursor"), None);
        assert_eq!(parse_cursor(&URL_SAFE_NO_PAD.encode("soon:u1")), None);
    }

    #[test]
    fn a_report_refuses_the_filters_it_cannot_apply_by_name() {
        let by_actor = Filter { actors: vec!["u1".into()], ..Filter::default() };
        assert!(only_time_filters(&by_actor, "login", true).is_ok());
        let refused = only_time_filters(&by_actor, "link", false).unwrap_err();
        assert!(
            matches!(&refused, AppError::UnsupportedFilter { param, message }
                if param == "actor" && message.starts_with("the link report takes range, from, to and tz;")),
            "{refused:?}"
        );
        let by_target = Filter { targets: vec![TargetRef { kind: None, id: "d1".into() }], ..Filter::default() };
        assert!(matches!(only_time_filters(&by_target, "usage", true),
            Err(AppError::UnsupportedFilter { param, .. }) if param == "target"));
        assert!(only_time_filters(&Filter::default(), "users", true).is_ok());
    }
}
