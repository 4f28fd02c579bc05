//! The console's report and log pages other than Activity and Logins (docs/console.md's pages per
//! category): Files (the usage report), Links (the link list, each opening its access log),
//! and the catalogue's logs (Panel, API, Messages, SMS, Documents). Each is one table drawn by
//! `report.html` from the same functions as its API route, so the page and the API agree; each
//! has a date range, a next page, and downloads of exactly what it shows. The event logs'
//! API twin is `GET /v1/tenants/{t}/views/{view}`.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use jiff::{Timestamp, tz::TimeZone};
use serde_json::json;
use trail_app::{
    reports::{self, link_rows, parse_cursor, usage_rows},
    views,
};
use trail_core::{
    filter::{Filter, Page, TargetRef, parse_params},
    time::{RangePreset, time_zone},
    vocabulary::actions::{self, pattern},
};
use trail_export::{Cell, views::ViewKind};
use trail_store::Tenant;

use super::{Nav, activity::Download, activity::encode, render, signed_in_tenant};
use crate::{AppState, auth::Person, error::ApiError, params::query_pairs};

/// Rows a page shows.
const PAGE: usize = 100;

pub(crate) struct CellText {
    label: &'static str,
    text: String,
    numeric: bool,
}

pub(crate) struct Row {
    key: Option<String>,
    cells: Vec<CellText>,
    link: Option<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    nav: Option<Nav>,
    title: String,
    subtitle: Option<String>,
    path: String,
    hidden: Vec<(String, String)>,
    ranges: Vec<(&'static str, &'static str, bool)>,
    hint: String,
    tz: String,
    error: Option<String>,
    empty_heading: String,
    empty_text: String,
    downloads: Vec<Download>,
    download_note: Option<String>,
    headers: Vec<&'static str>,
    has_links: bool,
    rows: Vec<Row>,
    more: Option<String>,
}

/// What every page of this module starts from: who is asking, their tenant and time zone,
/// the range chosen (a preset), the page's cursor, and the filter the range makes.
struct Request {
    person: Person,
    session: [u8; 32],
    /// Where the request came from, for the `trail.logs.viewed` it may write.
    origin: trail_app::own_events::Origin,
    tenant: Tenant,
    tz: TimeZone,
    range: String,
    cursor: Option<String>,
    filter: Filter,
}

async fn request(s: &AppState, parts: &Parts, default_range: &str) -> Result<Request, Response> {
    let (person, session, tenant) = signed_in_tenant(parts, s).await?;
    if person.owner.is_some() {
        return Err(super::not_for_members(Nav::of(s, &person, &tenant.name, "").await));
    }
    let tz = time_zone(&tenant.time_zone).unwrap_or(TimeZone::UTC);
    let pairs = query_pairs(parts.uri.query());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let range = get("range").filter(|r| RangePreset::parse(r).is_ok()).unwrap_or_else(|| default_range.to_owned());
    let (mut filter, _) =
        parse_params([("range", range.as_str())], &tz, Timestamp::now(), &[]).expect("a preset parses");
    // The pages' rows and counts are of the events as this person is shown them.
    let who = crate::auth::Principal::Person(person.clone());
    filter.redaction = trail_app::redact::of(&who, &tenant.id, &s.config, &tenant.plan);
    let origin = crate::origin::origin_of(parts, &s.enricher);
    Ok(Request { person, session, origin, tenant, tz, range, cursor: get("cursor"), filter })
}

impl Request {
    fn ranges(&self) -> Vec<(&'static str, &'static str, bool)> {
        RangePreset::ALL
            .iter()
            .map(|p| (p.as_str(), super::activity::range_label(*p), p.as_str() == self.range))
            .collect()
    }

    fn when(&self, t: Timestamp) -> String {
        t.to_zoned(self.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
    }

    /// The link to the next page: this page's parameters and the cursor.
    fn next(&self, path: &str, extra: &[(String, String)], cursor: Option<String>) -> Option<String> {
        let mut pairs = vec![("range".to_owned(), self.range.clone())];
        pairs.extend_from_slice(extra);
        cursor.map(|c| {
            pairs.push(("cursor".into(), c));
            format!("{path}?{}", encode(&pairs))
        })
    }

    /// Download links of view `kind` over this page's range (and `extra` filters), in the
    /// formats the tenant's plan exports.
    fn downloads(&self, s: &AppState, base: &str, extra: &[(String, String)]) -> Vec<Download> {
        let mut pairs = vec![("range".to_owned(), self.range.clone())];
        pairs.extend_from_slice(extra);
        let query = encode(&pairs);
        let sep = if base.contains('?') { "&" } else { "?" };
        super::plan_formats(s, &self.tenant.plan)
            .0
            .into_iter()
            .map(|(format, label)| Download { format, label, href: format!("{base}{sep}format={format}&{query}") })
            .collect()
    }

    async fn draw(self, s: &AppState, current: &str, page: Drawn) -> Response {
        let nav = Nav::of(s, &self.person, &self.tenant.name, current).await;
        let status = if page.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        let mut resp = render(&ReportPage {
            nav: Some(nav),
            ranges: self.ranges(),
            tz: self.tenant.time_zone.clone(),
            has_links: page.rows.iter().any(|r| r.link.is_some()),
            title: page.title,
            subtitle: page.subtitle,
            path: page.path,
            hidden: page.hidden,
            hint: page.hint,
            error: page.error,
            empty_heading: page.empty_heading,
            empty_text: page.empty_text,
            download_note: (!page.downloads.is_empty()).then(|| super::plan_formats(s, &self.tenant.plan).1).flatten(),
            downloads: page.downloads,
            headers: page.headers,
            rows: page.rows,
            more: page.more,
        });
        *resp.status_mut() = status;
        resp
    }
}

/// A page's content, before the header and range picker are added.
#[derive(Default)]
struct Drawn {
    title: String,
    subtitle: Option<String>,
    path: String,
    hidden: Vec<(String, String)>,
    hint: String,
    error: Option<String>,
    empty_heading: String,
    empty_text: String,
    downloads: Vec<Download>,
    headers: Vec<&'static str>,
    rows: Vec<Row>,
    more: Option<String>,
}

fn cell(label: &'static str, text: impl Into<String>) -> CellText {
    CellText { label, text: text.into(), numeric: false }
}

fn num(label: &'static str, n: u64) -> CellText {
    CellText { label, text: n.to_string(), numeric: true }
}

/// `GET /console/files`: the usage report.
pub async fn files(State(s): State<AppState>, parts: Parts) -> Response {
    let r = match request(&s, &parts, "last_30_days").await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let after = r.cursor.as_deref().and_then(parse_cursor);
    let (rows, next) = match usage_rows(&*s.store, &r.tenant.id, &r.filter, PAGE, after).await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    const HEADERS: [&str; 8] =
        ["User", "Email", "Files", "Storage", "Uploads", "Downloads", "Deletes", "Last activity"];
    let rows = rows
        .into_iter()
        .map(|u| Row {
            link: Some((
                format!(
                    "/console/activity?{}",
                    encode(&[
                        ("range".into(), r.range.clone()),
                        ("actor".into(), u.key.clone()),
                        ("action".into(), pattern::FILE.into())
                    ])
                ),
                "Logs",
            )),
            cells: vec![
                cell(HEADERS[0], u.name.clone().unwrap_or_else(|| u.key.clone())),
                cell(HEADERS[1], u.email.clone().unwrap_or_default()),
                num(HEADERS[2], u.files),
                cell(HEADERS[3], u.storage.clone()),
                num(HEADERS[4], u.uploads),
                num(HEADERS[5], u.downloads),
                num(HEADERS[6], u.deletes),
                cell(HEADERS[7], r.when(u.last_activity_at)),
            ],
            key: Some(u.key),
        })
        .collect();
    let t = r.tenant.id.to_string();
    let page = Drawn {
        title: "Files".into(),
        path: "/console/files".into(),
        hint: "Everyone with file activity in the range, latest first. Uploads, downloads and deletes are counted in the range; files held and storage used are as of now.".into(),
        empty_heading: "No file activity in this range".into(),
        empty_text: "This report is built from file.uploaded, file.downloaded and file.deleted events (with metadata.size_bytes). Widen the range, or have your product send them.".into(),
        downloads: r.downloads(&s, &format!("/v1/tenants/{t}/export?view=usage"), &[]),
        headers: HEADERS.to_vec(),
        more: r.next("/console/files", &[], next),
        rows,
        ..Drawn::default()
    };
    r.draw(&s, "/console/files", page).await
}

/// `GET /console/links`: the link list.
pub async fn links(State(s): State<AppState>, parts: Parts) -> Response {
    let r = match request(&s, &parts, "last_30_days").await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let after = r.cursor.as_deref().and_then(parse_cursor);
    let (rows, next) = match link_rows(&*s.store, &r.tenant.id, &r.filter, PAGE, after).await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    const HEADERS: [&str; 8] = ["Link", "File", "Created by", "Created", "Expires", "State", "Views", "Saves"];
    let rows = rows
        .into_iter()
        .map(|l| Row {
            link: Some((
                format!("/console/links/{}?{}", encode_path(&l.link_id), encode(&[("range".into(), "all".into())])),
                "Access log",
            )),
            cells: vec![
                cell(HEADERS[0], l.name.clone().unwrap_or_else(|| l.link_id.clone())),
                cell(HEADERS[1], l.file_name.clone().unwrap_or_default()),
                cell(HEADERS[2], l.created_by.clone().unwrap_or_default()),
                cell(HEADERS[3], l.created_at.map(|t| r.when(t)).unwrap_or_default()),
                cell(HEADERS[4], l.expires_at.clone().unwrap_or_default()),
                cell(HEADERS[5], l.state.clone()),
                num(HEADERS[6], l.views),
                num(HEADERS[7], l.saves),
            ],
            key: Some(l.link_id),
        })
        .collect();
    let page = Drawn {
        title: "Links".into(),
        path: "/console/links".into(),
        hint: "Every shared link with activity in the range, latest first. Views and saves are counted in the range.".into(),
        empty_heading: "No link activity in this range".into(),
        empty_text: "This list is built from link.created, link.viewed, link.saved, link.revoked and link.expired events with a link target. Widen the range, or have your product send them.".into(),
        headers: HEADERS.to_vec(),
        more: r.next("/console/links", &[], next),
        rows,
        ..Drawn::default()
    };
    r.draw(&s, "/console/links", page).await
}

/// A path segment with everything but unreserved characters percent-encoded.
pub(crate) fn encode_path(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// `GET /console/links/{id}`: one link's access log.
pub async fn link(State(s): State<AppState>, parts: Parts, Path(id): Path<String>) -> Response {
    let r = match request(&s, &parts, "all").await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let link = match reports::find_link(&*s.store, &r.tenant.id, &id).await.map_err(ApiError::from) {
        Ok(l) => l,
        Err(e) => {
            let nav = Nav::of(&s, &r.person, &r.tenant.name, "/console/links").await;
            return super::message(e.status, Some(nav), "No such link", &e.message, "/console/links", "All links");
        }
    };
    let mut filter = r.filter.clone();
    filter.targets = vec![TargetRef { kind: Some("link".into()), id: id.clone() }];
    let t = r.tenant.id.to_string();
    let path = format!("/console/links/{}", encode_path(&id));
    let drawn = event_view(
        &s,
        &r,
        ViewKind::LinkAccess,
        filter,
        &path,
        &[],
        r.downloads(&s, &format!("/v1/tenants/{t}/links/{}/access-log", encode_path(&id)), &[]),
    )
    .await;
    let mut drawn = match drawn {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    drawn.title = "Link access log".into();
    drawn.subtitle = Some(link.name.unwrap_or(link.key));
    drawn.hint =
        "Every view and save of this link, newest first. Sessions are shown as keyed hashes, never as raw ids.".into();
    drawn.empty_heading = "Nobody opened this link in this range".into();
    drawn.empty_text =
        "Views and saves appear here as link.viewed and link.saved events arrive. Widen the range.".into();
    r.draw(&s, "/console/links", drawn).await
}

/// `GET /console/logs/{view}`: one of the catalogue's logs (panel, api, messages, sms,
/// documents), narrowed to one `target` when given (a document's trail).
pub async fn log(State(s): State<AppState>, parts: Parts, Path(name): Path<String>) -> Response {
    let r = match request(&s, &parts, "last_30_days").await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let kind = match ViewKind::parse(&name) {
        Ok(k @ (ViewKind::Panel | ViewKind::Api | ViewKind::Messages | ViewKind::Sms | ViewKind::Documents)) => k,
        _ => {
            let nav = Nav::of(&s, &r.person, &r.tenant.name, "").await;
            return super::message(
                StatusCode::NOT_FOUND,
                Some(nav),
                "No such log",
                "The logs are panel, api, messages, sms and documents.",
                "/console/activity",
                "Activity",
            );
        }
    };
    let pairs = query_pairs(parts.uri.query());
    let target = pairs.iter().find(|(k, _)| k == "target").map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let mut filter = r.filter.clone();
    let mut extra = Vec::new();
    if let Some(target) = &target {
        match TargetRef::parse(target) {
            Ok(t) => filter.targets = vec![t],
            Err(m) => return ApiError::bad_request("invalid_parameter", m).with_field("target").into_response(),
        }
        extra.push(("target".to_owned(), target.clone()));
    }
    let t = r.tenant.id.to_string();
    let path = format!("/console/logs/{}", kind.name());
    let downloads = r.downloads(&s, &format!("/v1/tenants/{t}/export?view={}", kind.name()), &extra);
    let mut drawn = match event_view(&s, &r, kind, filter, &path, &extra, downloads).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    drawn.title = kind.title().into();
    drawn.subtitle = target;
    drawn.hidden = extra;
    let (hint, empty) = match kind {
        ViewKind::Panel => {
            ("Every request your users made in your product's panel, newest first.", actions::PANEL_REQUEST)
        }
        ViewKind::Api => {
            ("Every API request, newest first. Request bodies are never sent or stored.", actions::API_REQUEST)
        }
        ViewKind::Messages => {
            ("Every message sent, opened, downloaded, signed, deleted or expired, newest first.", pattern::MESSAGE)
        }
        ViewKind::Sms => (
            "Every SMS sent or failed, newest first. Phone numbers show their last four digits unless you are an admin.",
            "sms.sent and sms.failed",
        ),
        _ => (
            "Every step of every document, newest first. Add a document to see one document's trail.",
            pattern::DOCUMENT,
        ),
    };
    drawn.hint = hint.into();
    drawn.empty_heading = "Nothing in this range".into();
    drawn.empty_text =
        format!("This log is built from {empty} events. Widen the range, or have your product send them.");
    r.draw(&s, &path, drawn).await
}

/// A page of an event view: its rows (each opening the event), the next page, and a
/// `trail.logs.viewed` event when this person's view changed.
async fn event_view(
    s: &AppState,
    r: &Request,
    kind: ViewKind,
    mut filter: Filter,
    path: &str,
    extra: &[(String, String)],
    downloads: Vec<Download>,
) -> Result<Drawn, Response> {
    let redaction = trail_app::redact::of(
        &crate::auth::Principal::Person(r.person.clone()),
        &r.tenant.id,
        &s.config,
        &r.tenant.plan,
    );
    // The rows match what this person is shown (a `target` of a masked number finds nothing).
    filter.redaction = redaction;
    let view = views::view_for(kind, r.tz.clone(), s.app.config(), redaction);
    let cursor = match r.cursor.as_deref().map(trail_core::filter::Cursor::decode).transpose() {
        Ok(c) => c,
        Err(m) => return Err(ApiError::bad_request("invalid_parameter", m).with_field("cursor").into_response()),
    };
    let mut events =
        match s.store.query(&r.tenant.id, &views::view_filter(kind, filter), Page { limit: PAGE, cursor }).await {
            Ok(p) => p,
            Err(e) => return Err(ApiError::from(e).into_response()),
        };
    events.events.iter_mut().for_each(|e| trail_app::redact::event(e, redaction));
    let columns = kind.columns();
    let mut cells = Vec::new();
    let rows = events
        .events
        .iter()
        .map(|e| {
            cells.clear();
            view.cells(e, &mut cells);
            Row {
                key: Some(e.seq.to_string()),
                cells: columns
                    .iter()
                    .zip(cells.drain(..))
                    .map(|(c, v)| CellText {
                        label: c.title,
                        numeric: matches!(v, Cell::Int(_)),
                        text: match v {
                            Cell::Date(z) => z.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                            other => other.display().into_owned(),
                        },
                    })
                    .collect(),
                link: Some(match e.body.targets.iter().find(|t| t.kind == "message").and_then(|t| t.id.as_deref()) {
                    Some(id) if kind == ViewKind::Messages => {
                        (format!("/console/messages/{}", encode_path(id)), "Message")
                    }
                    _ => (format!("/console/events/{}", e.seq), "Details"),
                }),
            }
        })
        .collect();
    // The view is the log and what the route adds (a document's trail), whatever the range.
    let what = format!("{path}?{}", encode(extra));
    let text = format!("{} viewed the {}", r.person.name, kind.title().to_lowercase());
    let meta = json!({"view": kind.name(), "filters": {"range": r.range, "extra": extra.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>()}});
    if let Err(e) = trail_app::viewed::record(&s.app, &r.person, r.session, &r.origin, &what, text, meta).await {
        return Err(ApiError::from(e).into_response());
    }
    Ok(Drawn {
        path: path.to_owned(),
        downloads,
        headers: columns.iter().map(|c| c.title).collect(),
        more: r.next(path, extra, events.next_cursor.map(|c| c.encode())),
        rows,
        ..Drawn::default()
    })
}

#[derive(Template)]
#[template(path = "user_stats.html")]
struct StatsPage {
    nav: Option<Nav>,
    title: String,
    subtitle: String,
    path: String,
    ranges: Vec<(&'static str, &'static str, bool)>,
    tz: String,
    total: u64,
    by_action: Vec<reports::ActionStat>,
    by_day: Vec<(String, u64)>,
    logs: String,
}

/// `GET /console/users/{key}`: one person's statistics (the API's `reports/users/{actor}/stats`).
pub async fn user(State(s): State<AppState>, parts: Parts, Path(key): Path<String>) -> Response {
    let r = match request(&s, &parts, "last_30_days").await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let stats = reports::user_stats(&*s.store, &r.tenant.id, &key, &r.filter, &r.tz, &r.tenant.time_zone);
    let stats = match stats.await.map_err(ApiError::from) {
        Ok(st) => st,
        Err(e) => {
            let nav = Nav::of(&s, &r.person, &r.tenant.name, "/console/users").await;
            return super::message(e.status, Some(nav), "No such user", &e.message, "/console/users", "Users");
        }
    };
    let nav = Nav::of(&s, &r.person, &r.tenant.name, "/console/users").await;
    render(&StatsPage {
        nav: Some(nav),
        title: stats.name.clone().unwrap_or_else(|| stats.key.clone()),
        subtitle: stats.email.clone().unwrap_or_default(),
        path: format!("/console/users/{}", encode_path(&key)),
        ranges: r.ranges(),
        tz: r.tenant.time_zone.clone(),
        total: stats.event_count,
        logs: format!(
            "/console/activity?{}",
            encode(&[("range".into(), r.range.clone()), ("actor".into(), stats.key.clone())])
        ),
        by_day: stats.by_day.into_iter().map(|d| (d.start.chars().take(10).collect(), d.count)).collect(),
        by_action: stats.by_action,
    })
}

struct InteractionRow {
    seq: u64,
    when: String,
    event: String,
    who: String,
    ip: String,
    place: String,
    browser: String,
}

#[derive(Template)]
#[template(path = "message_entry.html")]
struct MessagePage {
    nav: Option<Nav>,
    id: String,
    name: String,
    sent: String,
    sender: String,
    recipients: String,
    status: String,
    opens: usize,
    downloads: usize,
    expires: String,
    truncated: bool,
    interactions: Vec<InteractionRow>,
}

/// `GET /console/messages/{id}`: one message's log entry (the API's `messages/{id}`).
pub async fn message(State(s): State<AppState>, parts: Parts, Path(id): Path<String>) -> Response {
    let r = match request(&s, &parts, "all").await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let nav = Nav::of(&s, &r.person, &r.tenant.name, "/console/logs/messages").await;
    let redaction = trail_app::redact::of(
        &crate::auth::Principal::Person(r.person.clone()),
        &r.tenant.id,
        &s.config,
        &r.tenant.plan,
    );
    let m = match reports::message_entry(&*s.store, &r.tenant.id, &id, redaction).await.map_err(ApiError::from) {
        Ok(m) => m,
        Err(e) => {
            return super::message(
                e.status,
                Some(nav),
                "No such message",
                &e.message,
                "/console/logs/messages",
                "Messages",
            );
        }
    };
    let who =
        |w: &reports::Who| w.name.clone().or_else(|| w.email.clone()).or_else(|| w.id.clone()).unwrap_or_default();
    let text = |v: &Option<serde_json::Value>| match v {
        Some(serde_json::Value::Array(a)) => {
            a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)).collect::<Vec<_>>().join(", ")
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let interactions = m
        .interactions
        .iter()
        .map(|i| InteractionRow {
            seq: i.seq,
            when: r.when(i.occurred_at),
            event: i.report_type.clone(),
            who: i.actor.as_ref().map(who).unwrap_or_default(),
            ip: i.ip.clone().unwrap_or_default(),
            place: [i.city.as_deref(), i.country.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", "),
            browser: i.browser.clone().unwrap_or_default(),
        })
        .collect();
    render(&MessagePage {
        nav: Some(nav),
        name: m.name.clone().unwrap_or_default(),
        sent: m.sent_at.map(|t| r.when(t)).unwrap_or_default(),
        sender: m.sender.as_ref().map(who).unwrap_or_default(),
        recipients: text(&m.recipients),
        status: m.status.clone().unwrap_or_default(),
        opens: m.opens,
        downloads: m.downloads,
        expires: text(&m.expires_at),
        truncated: m.truncated,
        interactions,
        id: m.message_id,
    })
}
