//! The web console (docs/console.md), served by the same binary under `/console`.
//!
//! Server-rendered HTML (askama templates in `templates/`, escaped by default), one stylesheet
//! and one small script served from the binary (`static/`), no CDN. Every response carries a
//! Content-Security-Policy without inline scripts or styles. Sessions are cookies holding a
//! random token (the store keeps its hash), HttpOnly and SameSite=Lax, Secure when the request
//! came over TLS; every form carries the session's CSRF token.

mod activity;
mod event;
mod integrity;
mod logins;
mod report;
mod session;
mod settings;
pub mod throttle;
mod users;

use askama::Template;
use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, StatusCode, header, request::Parts},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};

use trail_core::vocabulary::categories;
use trail_store::Tenant;

use crate::{
    AppState,
    auth::{self, Person},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/activity") }))
        .route("/console", get(|| async { Redirect::to("/console/activity") }))
        .route("/console/", get(|| async { Redirect::to("/console/activity") }))
        .route("/console/sign-in", get(session::sign_in_page).post(session::sign_in))
        .route("/console/sign-out", post(session::sign_out))
        .route("/console/viewer", get(session::viewer))
        .route("/console/activity", get(activity::page))
        .route("/console/activity/rows", get(activity::rows))
        .route("/console/events/{seq}", get(event::page))
        .route("/console/users", get(users::page))
        .route("/console/logins", get(logins::page))
        .route("/console/files", get(report::files))
        .route("/console/links", get(report::links))
        .route("/console/links/{id}", get(report::link))
        .route("/console/logs/{view}", get(report::log))
        .route("/console/users/{key}", get(report::user))
        .route("/console/messages/{id}", get(report::message))
        .route("/console/integrity", get(integrity::page))
        .route("/console/integrity/verify", post(integrity::verify))
        .route("/console/settings", get(settings::page))
        .route("/console/settings/account", post(settings::account))
        .route("/console/settings/members", post(settings::add_member))
        .route("/console/settings/members/{id}/remove", post(settings::remove_member))
        .route("/console/settings/keys", post(settings::create_key))
        .route("/console/settings/keys/{id}/revoke", post(settings::revoke_key))
        .route(
            "/console/static/app.css",
            get(|| async { asset("text/css; charset=utf-8", include_str!("../../static/app.css")) }),
        )
        .route(
            "/console/static/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("../../static/app.js")) }),
        )
        .layer(axum::middleware::from_fn(security_headers))
        // Console forms are small: the API's ingest limit (megabytes) does not apply here.
        .layer(axum::extract::DefaultBodyLimit::max(FORM_LIMIT))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}

/// The largest console form body.
const FORM_LIMIT: usize = 16 * 1024;

/// The policy every console response carries: scripts, styles and everything else only from
/// this server, no inline scripts or styles, forms only back to it.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'self'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// A rendered page.
pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be drawn; the cause is in the server log")
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct Message {
    nav: Option<Nav>,
    heading: String,
    text: String,
    link: String,
    link_label: String,
}

/// A page that says one thing, with a way on.
pub(crate) fn message(
    status: StatusCode,
    nav: Option<Nav>,
    heading: &str,
    text: &str,
    link: &str,
    label: &str,
) -> Response {
    let mut r = render(&Message {
        nav,
        heading: heading.into(),
        text: text.into(),
        link: link.into(),
        link_label: label.into(),
    });
    *r.status_mut() = status;
    r
}

#[derive(Clone)]
pub(crate) struct NavItem {
    href: &'static str,
    label: &'static str,
    current: bool,
}

/// The header of every signed-in page.
#[derive(Clone)]
pub(crate) struct Nav {
    tenant_id: String,
    tenant_name: String,
    person: String,
    role: String,
    csrf: String,
    items: Vec<NavItem>,
}

/// The console's pages per category (docs/console.md), each shown only when the tenant has events of
/// that category (the part of the action before its first dot, from the actions rollup).
pub(crate) const CATEGORY_PAGES: [(&str, &str, &str); 7] = [
    (categories::AUTH, "/console/logins", "Logins"),
    (categories::PANEL, "/console/logs/panel", "Panel"),
    (categories::API, "/console/logs/api", "API"),
    (categories::MESSAGE, "/console/logs/messages", "Messages"),
    (categories::SMS, "/console/logs/sms", "SMS"),
    (categories::LINK, "/console/links", "Links"),
    (categories::FILE, "/console/files", "Files"),
];

/// The document trail's page, shown when the tenant has `document.*` events.
const DOCUMENTS_PAGE: (&str, &str, &str) = (categories::DOCUMENT, "/console/logs/documents", "Documents");

impl Nav {
    /// The header for `p` on page `current`, with a tab for each category the tenant has
    /// events of (a store error shows no category tabs rather than no page).
    pub(crate) async fn of(s: &AppState, p: &Person, tenant_name: &str, current: &str) -> Nav {
        let categories: Vec<String> = match s.store.actions(&p.tenant).await {
            Ok(actions) => {
                actions.into_iter().map(|a| a.action.split('.').next().unwrap_or_default().to_owned()).collect()
            }
            Err(e) => {
                tracing::warn!(error = %e, "the console could not read the tenant's actions");
                Vec::new()
            }
        };
        Nav::new(p, tenant_name, current, &categories)
    }

    fn new(p: &Person, tenant_name: &str, current: &str, categories: &[String]) -> Nav {
        let activity = if p.owner.is_some() { "My activity" } else { "Activity" };
        let mut items = vec![("/console/activity", activity)];
        if p.owner.is_none() {
            items.push(("/console/users", "Users"));
            for (category, href, label) in CATEGORY_PAGES.into_iter().chain([DOCUMENTS_PAGE]) {
                if categories.iter().any(|c| c == category) {
                    items.push((href, label));
                }
            }
            items.push(("/console/integrity", "Integrity"));
        }
        if p.role.scope() == trail_core::ids::Scope::Admin {
            items.push(("/console/settings", "Settings"));
        }
        let items = items
            .into_iter()
            .map(|(href, label)| NavItem {
                href,
                label,
                current: href == current || (current.starts_with(href) && href != "/console/activity"),
            })
            .collect();
        Nav {
            tenant_id: p.tenant.to_string(),
            tenant_name: tenant_name.to_owned(),
            person: p.name.clone(),
            role: p.role.to_string(),
            csrf: p.csrf.clone().unwrap_or_default(),
            items,
        }
    }
}

/// The download buttons (format, label) the tenant's plan allows, and a note naming what
/// the others need (exports are gated by plan).
pub(crate) fn plan_formats(s: &AppState, plan: &str) -> (Vec<(&'static str, &'static str)>, Option<String>) {
    let all = [("csv", "CSV"), ("xlsx", "Excel"), ("pdf", "PDF"), ("docx", "Word")];
    let p = s.config.plan(plan);
    let (ok, not): (Vec<_>, Vec<_>) = all.into_iter().partition(|(f, _)| p.exports(f));
    let note = not.first().map(|(f, _)| {
        let needed = trail_app::plans::plans_where(&s.config.plans, |q| q.exports(f));
        let labels: Vec<&str> = not.iter().map(|(_, l)| *l).collect();
        format!(
            "{} downloads need plan {} (this account is on {plan}).",
            labels.join(", "),
            needed.first().copied().unwrap_or("(none on this server)")
        )
    });
    (ok, note)
}

/// The download buttons of a report view (`logins`, `usage`, `users`) over a range preset, in
/// the formats the tenant's plan allows, and the note about the others.
pub(crate) fn report_downloads(
    s: &AppState,
    tenant: &Tenant,
    view: &str,
    range: &str,
) -> (Vec<activity::Download>, Option<String>) {
    let (formats, note) = plan_formats(s, &tenant.plan);
    let query = activity::encode(&[("view".into(), view.into()), ("range".into(), range.into())]);
    let downloads = formats
        .into_iter()
        .map(|(format, label)| activity::Download {
            format,
            label,
            href: format!("/v1/tenants/{}/export?format={format}&{query}", tenant.id),
        })
        .collect();
    (downloads, note)
}

/// Whether a form carried the session's CSRF token.
pub(crate) fn csrf_ok(p: &Person, sent: &str) -> bool {
    let expected = p.csrf.as_deref().unwrap_or_default();
    !expected.is_empty()
        && trail_app::secrets::hashes_equal(
            &trail_app::secrets::hash_token(sent),
            &trail_app::secrets::hash_token(expected),
        )
}

/// The answer to a form without the session's CSRF token.
pub(crate) fn expired_form(back: &str) -> Response {
    message(
        StatusCode::FORBIDDEN,
        None,
        "The form had expired",
        "Nothing was changed: go back, reload the page and try again.",
        back,
        "Back",
    )
}

/// The page for a session whose tenant no longer exists.
pub(crate) fn gone() -> Response {
    message(
        StatusCode::NOT_FOUND,
        None,
        "This account is gone",
        "The account you signed in to no longer exists.",
        "/console/sign-in",
        "Sign in",
    )
}

/// The signed-in person, their session's hash and their tenant, or the page to show instead.
pub(crate) async fn signed_in_tenant(parts: &Parts, s: &AppState) -> Result<(Person, [u8; 32], Tenant), Response> {
    let (person, session) = signed_in(parts, s).await?;
    match s.store.tenant(&person.tenant).await {
        Ok(Some(t)) => Ok((person, session, t)),
        Ok(None) => Err(gone()),
        Err(e) => Err(crate::error::ApiError::from(e).into_response()),
    }
}

/// For the pages of managers and up (`current` is the page's path): the person, their tenant
/// and the header; a `member` gets a 404 page that points to their own activity.
pub(crate) async fn manager_page(
    parts: &Parts,
    s: &AppState,
    current: &str,
) -> Result<(Person, Tenant, Nav), Response> {
    let (person, _, tenant) = signed_in_tenant(parts, s).await?;
    let nav = Nav::of(s, &person, &tenant.name, current).await;
    if person.owner.is_some() {
        return Err(not_for_members(nav));
    }
    Ok((person, tenant, nav))
}

/// The page a `member` gets for a page of managers and up.
pub(crate) fn not_for_members(nav: Nav) -> Response {
    message(
        StatusCode::NOT_FOUND,
        Some(nav),
        "Not available",
        "Your role shows your own activity only.",
        "/console/activity",
        "My activity",
    )
}

/// The signed-in person, or a redirect to the sign-in page.
pub(crate) async fn signed_in(parts: &Parts, s: &AppState) -> Result<(Person, [u8; 32]), Response> {
    match auth::session_person(parts, s).await {
        Ok(Some(p)) => {
            let token = auth::cookie(parts, auth::SESSION_COOKIE).unwrap_or_default();
            Ok((p, trail_app::secrets::hash_token(token)))
        }
        Ok(None) => Err(Redirect::to("/console/sign-in").into_response()),
        Err(e) => Err(e.into_response()),
    }
}
