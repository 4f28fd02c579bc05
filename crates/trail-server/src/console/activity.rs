//! The Activity page (docs/console.md), and "My activity" for role `member`: the filter bar, a chart of
//! events per day, the table newest first with Load more, and downloads of exactly the
//! filtered view.
//!
//! The page is a plain GET form, so every view has a URL that can be bookmarked, shared and
//! reloaded, and it works without scripts. The form's fields are the API's filter parameters
//! (docs/api.md) with three console conveniences: empty fields are ignored, `range=custom` means
//! "use from and to", and Trail's own events (category `trail`: sign-ins, views, exports) are
//! left out unless `show_trail=1` or the filters choose report types, categories or Trail's
//! actions themselves, so the console's own traffic does not bury the product's events. [`api_params`] and [`View::api`] turn one into the
//! other, and the same parameters feed the table, the chart and the download links, so all
//! three always show the same view.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use jiff::{Timestamp, tz::TimeZone};
use serde_json::{Map, Value, json};
use trail_app::{
    AppError, AppResult,
    queries::{self, Reader},
    timeline::{self, Coarsen, Interval},
};
use trail_core::{
    catalogue::{KNOWN_CATEGORIES, report_type},
    event::{Category, StoredEvent},
    filter::{ActionPattern, Filter, Page},
    search::{SearchQuery, Term, TermKind},
    time::{RangePreset, time_zone},
    vocabulary::{actions::prefix, categories},
};
use trail_store::Tenant;

use super::{Nav, render, signed_in_tenant};
use crate::{
    AppState,
    auth::{Person, Principal},
    params::query_pairs,
};

/// People offered in the user picker (the most recently active).
const USERS_IN_PICKER: usize = 500;

pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) struct ChoiceGroup {
    pub label: String,
    pub options: Vec<Choice>,
}

/// One row of the table.
pub(crate) struct EventRow {
    pub seq: u64,
    pub date: String,
    pub user: String,
    pub email: String,
    pub report_type: String,
    pub remarks: String,
    pub ip: String,
    pub place: String,
    pub outcome: &'static str,
}

pub(crate) struct Bar {
    pub x: usize,
    pub y: u32,
    pub w: usize,
    pub h: u32,
    pub label: String,
    pub count: u64,
}

pub(crate) struct Chart {
    pub width: usize,
    pub bars: Vec<Bar>,
    pub caption: String,
}

pub(crate) struct Download {
    pub format: &'static str,
    pub label: &'static str,
    pub href: String,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    nav: Option<Nav>,
    heading: &'static str,
    path: &'static str,
    tenant_id: String,
    tz: String,
    q: String,
    ranges: Vec<Choice>,
    custom: bool,
    from: String,
    to: String,
    users: Vec<Choice>,
    report_types: Vec<ChoiceGroup>,
    filtered: bool,
    show_trail: bool,
    /// Trail's own events are left out of this view (and the toggle can show them).
    hiding_trail: bool,
    error: Option<String>,
    chart: Chart,
    downloads: Vec<Download>,
    download_note: Option<String>,
    rows: Vec<EventRow>,
    more: Option<String>,
    more_rows: String,
}

#[derive(Template)]
#[template(path = "rows.html")]
struct RowsFragment {
    rows: Vec<EventRow>,
}

/// The console's parameter that shows Trail's own events (`show_trail=1`).
pub(crate) const SHOW_TRAIL: &str = "show_trail";
/// The category of Trail's own events.
const TRAIL: &str = categories::TRAIL;
/// What hiding Trail's own events adds to `q`, so downloads and the API say exactly the same.
const HIDE_TRAIL_Q: &str = "-category:trail";

/// The API's filter parameters for the console form's `pairs`: empty fields and
/// [`SHOW_TRAIL`] dropped, `range=custom` meaning from/to, any other range dropping from/to.
pub(crate) fn api_params(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let range = pairs.iter().find(|(k, _)| k == "range").map(|(_, v)| v.as_str()).unwrap_or("");
    let custom = range == "custom";
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .filter(|(k, _)| match k.as_str() {
            "range" => !custom,
            "from" | "to" => custom || range.is_empty(),
            SHOW_TRAIL => false,
            _ => true,
        })
        .map(|(k, v)| (k.clone(), if k == "q" { v.clone() } else { v.trim().to_owned() }))
        .collect()
}

/// `pairs` as a query string.
pub(crate) fn encode(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Whether an action pattern can match one of Trail's own actions.
fn may_match_trail(p: &ActionPattern) -> bool {
    match p {
        ActionPattern::Exact(a) => a.starts_with(prefix::TRAIL),
        ActionPattern::Prefix(p) => p.starts_with(prefix::TRAIL) || prefix::TRAIL.starts_with(p.as_str()),
    }
}

/// Whether the filter itself decides which of Trail's own events to show: it names report
/// types or categories (exactly those are shown, Trail's included when named), or its `q`
/// names a `trail.*` action or `category:trail`. Then the toggle changes nothing.
fn decides_trail(f: &Filter) -> bool {
    !f.actions.is_empty()
        || !f.categories.is_empty()
        || f.q.iter().flat_map(|q| &q.terms).any(|t| {
            !t.negated
                && match &t.kind {
                    TermKind::Action(p) => may_match_trail(p),
                    TermKind::Category(c) => c.as_str() == TRAIL,
                    _ => false,
                }
        })
}

/// Leaves Trail's own events out of `f` (a `-category:trail` term in its `q`).
fn hide_trail(f: &mut Filter) {
    let term = Term { negated: true, kind: TermKind::Category(Category::parse(TRAIL).expect("a valid category")) };
    match &mut f.q {
        Some(q) => {
            q.terms.push(term);
            q.source = format!("{} {HIDE_TRAIL_Q}", q.source);
        }
        None => f.q = Some(SearchQuery { terms: vec![term], source: HIDE_TRAIL_Q.into() }),
    }
}

/// A signed-in request for a filtered view of the log.
struct View {
    person: Person,
    session: [u8; 32],
    origin: trail_app::own_events::Origin,
    tenant: Tenant,
    tz: TimeZone,
    /// The form's fields, as sent.
    form: Vec<(String, String)>,
    /// The API parameters they mean (without `cursor`), as the person gave them.
    params: Vec<(String, String)>,
    /// `show_trail=1` was given.
    show_trail: bool,
    /// Trail's own events are left out (neither the toggle nor the filters decide otherwise).
    hiding_trail: bool,
    parsed: Result<(Filter, Page), String>,
}

impl View {
    /// The API parameters of exactly what the view shows: [`View::params`], and the term
    /// that leaves Trail's own events out when they are.
    fn api(&self) -> Vec<(String, String)> {
        let mut p = self.params.clone();
        if self.hiding_trail {
            match p.iter_mut().find(|(k, _)| k == "q") {
                Some((_, q)) => *q = format!("{q} {HIDE_TRAIL_Q}"),
                None => p.push(("q".into(), HIDE_TRAIL_Q.into())),
            }
        }
        p
    }

    /// The console parameters of this view (for its next pages).
    fn console_params(&self) -> Vec<(String, String)> {
        let mut p = self.params.clone();
        if self.show_trail {
            p.push((SHOW_TRAIL.into(), "1".into()));
        }
        p
    }
}

async fn view(s: &AppState, parts: &Parts) -> Result<View, Response> {
    let (person, session, tenant) = signed_in_tenant(parts, s).await?;
    let tz = time_zone(&tenant.time_zone).unwrap_or(TimeZone::UTC);
    let form = query_pairs(parts.uri.query());
    let show_trail = form.iter().any(|(k, v)| k == SHOW_TRAIL && !v.trim().is_empty());
    let mut params = api_params(&form);
    let cursor = params.iter().position(|(k, _)| k == "cursor").map(|i| params.remove(i).1);
    let mut all = params.clone();
    if let Some(c) = &cursor {
        all.push(("cursor".into(), c.clone()));
    }
    // The list, its counts and its histogram match what this person is shown; one person by
    // id or e-mail alike, for the `actor` field and a member's own events.
    let reader = Reader::of(&s.app, &Principal::Person(person.clone()), &tenant);
    let pairs = all.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let mut hiding_trail = false;
    let parsed = match queries::filter(&*s.store, &tenant.id, &tz, pairs, &[], &reader).await {
        Ok((mut f, p)) => {
            if !show_trail && !decides_trail(&f) {
                hide_trail(&mut f);
                hiding_trail = true;
            }
            Ok((f, p))
        }
        // Invalid filters are said on the page, with the form to change them.
        Err(AppError::Invalid { message, .. }) => Err(message),
        Err(e) => return Err(crate::error::ApiError::from(e).into_response()),
    };
    let origin = crate::origin::origin_of(parts, &s.enricher);
    Ok(View { person, session, origin, tenant, tz, form, params, show_trail, hiding_trail, parsed })
}

fn row(e: &StoredEvent, tz: &TimeZone) -> EventRow {
    let b = &e.body;
    let actor = b.actor.as_ref();
    let ctx = b.context.as_ref();
    let loc = ctx.and_then(|c| c.location.as_ref());
    let place: Vec<&str> =
        [loc.and_then(|l| l.city.as_deref()), loc.and_then(|l| l.country_name.as_deref().or(l.country.as_deref()))]
            .into_iter()
            .flatten()
            .collect();
    EventRow {
        seq: e.seq,
        date: b.occurred_at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string(),
        user: actor.and_then(|a| a.name.as_deref().or(a.id.as_deref())).unwrap_or("").to_owned(),
        email: actor.and_then(|a| a.email.as_deref()).unwrap_or("").to_owned(),
        report_type: b.report_type.clone(),
        remarks: b.description.clone().unwrap_or_default(),
        ip: ctx.and_then(|c| c.ip).map(|ip| ip.to_string()).unwrap_or_default(),
        place: place.join(", "),
        outcome: b.outcome.as_str(),
    }
}

/// The next page's links: the page itself (without scripts) and its rows alone (for Load more).
fn next_links(params: &[(String, String)], cursor: Option<String>) -> Option<(String, String)> {
    let cursor = cursor?;
    let mut p = params.to_vec();
    p.push(("cursor".into(), cursor));
    let q = encode(&p);
    Some((format!("/console/activity?{q}"), format!("/console/activity/rows?{q}")))
}

/// Writes `trail.logs.viewed` for a view of valid filters, at most once per person in
/// `viewed::WINDOW` (whatever the filters: changing them, reloading and Load more are the
/// same view), with the filters the first view had.
async fn log_view(s: &AppState, v: &View) -> Result<(), trail_store::StoreError> {
    if v.parsed.is_err() {
        return Ok(());
    }
    let mut filters = Map::new();
    for (k, val) in &v.api() {
        match filters.get_mut(k) {
            Some(Value::Array(a)) => a.push(json!(val)),
            Some(old) => *old = json!([old.clone(), val]),
            None => {
                filters.insert(k.clone(), json!(val));
            }
        }
    }
    let text = format!("{} viewed the activity log", v.person.name);
    let meta = json!({"view": "activity", "filters": filters});
    trail_app::viewed::record(&s.app, &v.person, v.session, &v.origin, "activity", text, meta).await
}

/// `GET /console/activity/rows`: the rows of one page, for Load more.
pub async fn rows(State(s): State<AppState>, parts: Parts) -> Response {
    let v = match view(&s, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok((filter, page)) = &v.parsed else {
        return (StatusCode::BAD_REQUEST, "the filters are not valid: reload the page").into_response();
    };
    if let Err(e) = log_view(&s, &v).await {
        return crate::error::ApiError::from(e).into_response();
    }
    let result = match queries::page(&*s.store, &v.tenant.id, filter, *page).await {
        Ok(r) => r,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let rows = result.events.iter().map(|e| row(e, &v.tz)).collect();
    let mut resp = render(&RowsFragment { rows });
    resp.headers_mut().insert("x-trail-rows", HeaderValue::from_static("1"));
    if let Some((page, rows)) = next_links(&v.console_params(), result.next_cursor.map(|c| c.encode())) {
        let h = resp.headers_mut();
        h.insert("x-next-page", HeaderValue::from_str(&page).expect("URL-encoded"));
        h.insert("x-next-rows", HeaderValue::from_str(&rows).expect("URL-encoded"));
    }
    resp
}

/// `GET /console/activity`.
pub async fn page(State(s): State<AppState>, parts: Parts) -> Response {
    let v = match view(&s, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = v.tenant.id.clone();
    let is_member = v.person.owner.is_some();
    let heading = if is_member { "My activity" } else { "Activity" };

    // One `trail.logs.viewed` per person in a window, written before the query so the page
    // that caused it already lists it (when Trail's own events are shown).
    if let Err(e) = log_view(&s, &v).await {
        return crate::error::ApiError::from(e).into_response();
    }

    let (mut error, mut rows, mut more, mut chart) = (None, Vec::new(), None, Chart::empty());
    match &v.parsed {
        Err(m) => error = Some(format!("{m}. Change the filter and press Refresh.")),
        Ok((filter, page)) => {
            let result = queries::page(&*s.store, &t, filter, *page).await;
            let counts = chart_of(&s, &t, filter, &v.tz).await;
            match (result, counts) {
                (Ok(r), Ok(c)) => {
                    rows = r.events.iter().map(|e| row(e, &v.tz)).collect();
                    more = next_links(&v.console_params(), r.next_cursor.map(|c| c.encode()));
                    chart = c;
                }
                (Err(e), _) | (_, Err(e)) => return crate::error::ApiError::from(e).into_response(),
            }
        }
    }

    let field = |name: &str| v.form.iter().find(|(k, _)| k == name).map(|(_, x)| x.clone()).unwrap_or_default();
    let chosen = |name: &str| -> Vec<&str> {
        v.params.iter().filter(|(k, _)| k == name).map(|(_, x)| x.as_str()).collect::<Vec<_>>()
    };
    let range_now = match field("range").as_str() {
        "" if !field("from").is_empty() || !field("to").is_empty() => "custom".to_owned(),
        "" => RangePreset::default().as_str().to_owned(),
        r => r.to_owned(),
    };
    let ranges = RangePreset::ALL
        .iter()
        .map(|p| (p.as_str(), range_label(*p)))
        .chain([("custom", "Custom")])
        .map(|(value, label)| Choice { value: value.into(), label: label.into(), selected: value == range_now })
        .collect();

    let users = if is_member {
        Vec::new()
    } else {
        match s.store.actors(&t, &trail_store::RecentPage::first(USERS_IN_PICKER)).await {
            Ok(actors) => {
                let selected = chosen("actor");
                let mut list: Vec<Choice> = actors
                    .iter()
                    .map(|a| {
                        let label = match (&a.name, &a.email) {
                            (Some(n), Some(e)) => format!("{n} ({e})"),
                            _ => a.label().to_owned(),
                        };
                        Choice { selected: selected.contains(&a.key.as_str()), value: a.key.clone(), label }
                    })
                    .collect();
                list.sort_by_key(|c| c.label.to_lowercase());
                // People asked for by URL but not among those listed stay selected.
                for sel in selected {
                    if !list.iter().any(|c| c.value == sel) {
                        list.insert(0, Choice { value: sel.into(), label: sel.into(), selected: true });
                    }
                }
                list
            }
            Err(e) => return crate::error::ApiError::from(e).into_response(),
        }
    };
    let report_types = match s.store.actions(&t).await {
        Ok(actions) => report_type_groups(actions.into_iter().map(|a| a.action).collect(), &chosen("action")),
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };

    let export_query = encode(&v.api());
    let sep = if export_query.is_empty() { "" } else { "&" };
    let (formats, download_note) = super::plan_formats(&s, &v.tenant.plan);
    let downloads = formats
        .into_iter()
        .map(|(format, label)| Download {
            format,
            label,
            href: format!("/v1/tenants/{t}/export?format={format}{sep}{export_query}"),
        })
        .collect();

    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let (more, more_rows) = match more {
        Some((p, r)) => (Some(p), r),
        None => (None, String::new()),
    };
    let mut resp = render(&ActivityPage {
        nav: Some(Nav::of(&s, &v.person, &v.tenant.name, "/console/activity").await),
        heading,
        path: "/console/activity",
        tenant_id: t.to_string(),
        tz: v.tenant.time_zone.clone(),
        q: field("q"),
        custom: range_now == "custom",
        ranges,
        from: field("from"),
        to: field("to"),
        users,
        report_types,
        filtered: !v.params.is_empty() || v.show_trail,
        show_trail: v.show_trail,
        hiding_trail: v.hiding_trail,
        error,
        chart,
        downloads,
        download_note,
        rows,
        more,
        more_rows,
    });
    *resp.status_mut() = status;
    resp
}

pub(crate) fn range_label(p: RangePreset) -> &'static str {
    match p {
        RangePreset::Today => "Today",
        RangePreset::Yesterday => "Yesterday",
        RangePreset::Last7Days => "Last 7 days",
        RangePreset::Last30Days => "Last 30 days",
        RangePreset::Last90Days => "Last 90 days",
        RangePreset::All => "All time",
    }
}

/// A category's heading in the report-type picker.
fn category_label(c: &str) -> String {
    match c {
        categories::AUTH => "Logins".into(),
        categories::API => "API".into(),
        categories::SMS => "SMS".into(),
        categories::TRAIL => "Trail (who viewed and changed the logs)".into(),
        other => report_type(other),
    }
}

/// The tenant's actions grouped by category, known categories first in the catalogue's order.
/// Selected values the log does not hold (a prefix such as `document.*`) stay selected.
fn report_type_groups(mut actions: Vec<String>, selected: &[&str]) -> Vec<ChoiceGroup> {
    for sel in selected {
        if !actions.iter().any(|a| a == sel) {
            actions.push((*sel).to_owned());
        }
    }
    let category = |a: &str| a.split('.').next().unwrap_or(a).to_owned();
    let rank = |c: &str| KNOWN_CATEGORIES.iter().position(|k| *k == c).unwrap_or(KNOWN_CATEGORIES.len());
    let mut categories: Vec<String> = actions.iter().map(|a| category(a)).collect();
    categories.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    categories.dedup();
    categories
        .into_iter()
        .map(|c| {
            let mut options: Vec<Choice> = actions
                .iter()
                .filter(|a| category(a) == c)
                .map(|a| Choice {
                    label: if a.ends_with('*') { format!("All of {a}") } else { report_type(a) },
                    selected: selected.contains(&a.as_str()),
                    value: a.clone(),
                })
                .collect();
            options.sort_by(|a, b| a.label.cmp(&b.label));
            ChoiceGroup { label: category_label(&c), options }
        })
        .collect()
}

impl Chart {
    fn empty() -> Chart {
        Chart { width: 10, bars: Vec::new(), caption: "No events in this range.".into() }
    }
}

/// Events per day of the filtered view (per month or year when it starts decades back), from
/// the timeline's counts.
async fn chart_of(s: &AppState, t: &trail_core::TenantId, filter: &Filter, tz: &TimeZone) -> AppResult<Chart> {
    // Days, or the shortest longer interval that fits (the timeline's own rule for an open
    // start, here for any start): one event dated 1970 must not empty the chart of `range=all`.
    let counted = match timeline::count(&**s.app.store(), t, filter, Interval::Day, tz, Coarsen::Always).await {
        Ok(c) if !c.buckets.is_empty() => c,
        // No events, or a range outside the dates Trail computes with.
        Ok(_) | Err(AppError::Invalid { .. }) => return Ok(Chart::empty()),
        Err(e) => return Err(e),
    };
    let label_format = match counted.interval {
        Interval::Hour | Interval::Day => "%a %-d %b %Y",
        Interval::Month => "%b %Y",
        Interval::Year => "%Y",
    };
    let buckets = &counted.buckets;
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let total: u64 = buckets.iter().map(|b| b.count).sum();
    const STEP: usize = 10;
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let h = if b.count == 0 { 0 } else { ((b.count as f64 / max as f64) * 56.0).ceil() as u32 };
            Bar {
                x: i * STEP + 1,
                y: 60 - h,
                w: STEP - 2,
                h,
                label: b.start.to_zoned(tz.clone()).strftime(label_format).to_string(),
                count: b.count,
            }
        })
        .collect::<Vec<_>>();
    let day = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%-d %b %Y").to_string();
    let (first_day, last_day) = (buckets[0].start, buckets[buckets.len() - 1].start);
    let caption = match total {
        0 => "No events in this range.".to_owned(),
        1 => format!("1 event, {} to {}", day(first_day), day(last_day)),
        n => format!("{n} events, {} to {}", day(first_day), day(last_day)),
    };
    Ok(Chart { width: (buckets.len() * STEP).max(STEP), bars, caption })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        query_pairs(Some(q))
    }

    #[test]
    fn the_form_becomes_the_api_parameters() {
        assert_eq!(
            api_params(&pairs("q=&range=last_7_days&from=&to=&actor=u_1&action=auth.login.failed")),
            pairs("range=last_7_days&actor=u_1&action=auth.login.failed")
        );
        // A preset wins over dates left in the form; custom uses them.
        assert_eq!(api_params(&pairs("range=today&from=2026-01-01&to=2026-01-02")), pairs("range=today"));
        assert_eq!(
            api_params(&pairs("range=custom&from=2026-01-01&to=2026-01-02&q=%20NDA")),
            pairs("from=2026-01-01&to=2026-01-02&q=%20NDA")
        );
        // Dates without a range (a link from elsewhere) are kept.
        assert_eq!(api_params(&pairs("from=2026-01-01")), pairs("from=2026-01-01"));
        assert_eq!(encode(&pairs("q=a b&actor=x@y.z")), "q=a+b&actor=x%40y.z");
    }

    #[test]
    fn report_types_are_grouped_by_category_in_catalogue_order() {
        let g = report_type_groups(
            vec!["zebra.ran".into(), "file.uploaded".into(), "auth.login.failed".into(), "auth.logout".into()],
            &["auth.logout", "document.*"],
        );
        let labels: Vec<&str> = g.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["Logins", "File", "Document", "Zebra"]);
        assert_eq!(
            g[0].options.iter().map(|o| (o.label.as_str(), o.selected)).collect::<Vec<_>>(),
            [("Login failed", false), ("Logout", true)]
        );
        assert_eq!(g[2].options[0].value, "document.*");
        assert!(g[2].options[0].selected);
    }
}
