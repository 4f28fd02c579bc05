//! The Settings page (docs/console.md; owners and admins): the account's name, plan, retention and time
//! zone; its console members; its API keys.
//!
//! Every change goes through the same functions as the API (`trail_app::{tenants, keys,
//! members}`), so the same
//! rules hold (only owners touch owners, only the operator changes plans) and the same
//! `trail.*` events are written. Each form posts back here with the session's CSRF token; the
//! answer is the page again with a notice, so a new key's token is shown exactly once.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use trail_app::{
    keys,
    members::{self, MemberRequest},
    tenants,
};
use trail_core::ids::{Role, Scope};
use trail_store::TenantPatch;

use super::{Nav, csrf_ok, message, render, signed_in};
use crate::{
    AppState,
    auth::{Person, Principal},
    error::ApiError,
    origin::origin_of,
};

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    nav: Option<Nav>,
    csrf: String,
    notice: Option<Notice>,
    tenant_id: String,
    name: String,
    plan: String,
    retention: &'static str,
    time_zone: String,
    members: Vec<MemberRow>,
    keys: Vec<KeyRow>,
    roles: Vec<&'static str>,
    /// Signed in through a viewer link: the page is shown without its forms (and a change
    /// posted anyway is refused by [`change`]).
    viewer: bool,
}

struct Notice {
    ok: bool,
    /// The answer's status: 200, or the failed change's own (403, 404, 409, 422...).
    status: StatusCode,
    text: String,
    /// A new key's token, shown once.
    token: Option<String>,
}

struct MemberRow {
    id: String,
    name: String,
    email: String,
    role: String,
    actor_id: String,
}

struct KeyRow {
    id: String,
    name: String,
    scopes: String,
    created_at: String,
    revoked_at: String,
}

/// The retention of the built-in plans, for display.
fn retention(plan: &str) -> &'static str {
    match plan {
        "basic" => "30 days",
        "professional" => "1 year",
        "business" => "3 years",
        "enterprise" => "forever",
        _ => "as the plan's configuration says",
    }
}

/// The signed-in owner or admin, or the page to show instead.
async fn admin_person(s: &AppState, parts: &Parts) -> Result<Person, Response> {
    let (person, _) = signed_in(parts, s).await?;
    if !Principal::Person(person.clone()).grants(&person.tenant, Scope::Admin) {
        return Err(message(
            StatusCode::NOT_FOUND,
            None,
            "Not available",
            "Settings are for the account's owners and admins.",
            "/console/activity",
            "Back to the activity log",
        ));
    }
    Ok(person)
}

async fn draw(s: &AppState, person: &Person, notice: Option<Notice>) -> Response {
    let t = &person.tenant;
    let (tenant, members, keys) = match (s.store.tenant(t).await, s.store.members(t).await, s.store.api_keys(t).await) {
        (Ok(Some(tenant)), Ok(m), Ok(k)) => (tenant, m, k),
        (Ok(None), _, _) => return super::gone(),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return ApiError::from(e).into_response(),
    };
    let status = notice.as_ref().map_or(StatusCode::OK, |n| n.status);
    let when = |t: jiff::Timestamp| trail_core::time::format_rfc3339(t);
    let mut resp = render(&SettingsPage {
        nav: Some(Nav::of(s, person, &tenant.name, "/console/settings").await),
        csrf: person.csrf.clone().unwrap_or_default(),
        notice,
        tenant_id: tenant.id.to_string(),
        retention: retention(&tenant.plan),
        name: tenant.name,
        plan: tenant.plan,
        time_zone: tenant.time_zone,
        members: members
            .into_iter()
            .map(|m| MemberRow {
                id: m.id,
                name: m.name,
                email: m.email,
                role: m.role.to_string(),
                actor_id: m.actor_id.unwrap_or_default(),
            })
            .collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                scopes: k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                created_at: when(k.created_at),
                revoked_at: k.revoked_at.map(when).unwrap_or_default(),
                id: k.id,
                name: k.name,
            })
            .collect(),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        viewer: person.is_viewer(),
    });
    *resp.status_mut() = status;
    resp
}

pub async fn page(State(s): State<AppState>, parts: Parts) -> Response {
    match admin_person(&s, &parts).await {
        Ok(p) => draw(&s, &p, None).await,
        Err(r) => r,
    }
}

/// The value of a form field ("" when absent).
fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// Runs one change from a form: checks the person and the CSRF token, then answers with the
/// page and what `change` said.
async fn change<F, Fut>(s: &AppState, parts: &Parts, csrf: String, change: F) -> Response
where
    F: FnOnce(Principal) -> Fut,
    Fut: Future<Output = Result<(String, Option<String>), ApiError>>,
{
    let person = match admin_person(s, parts).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !csrf_ok(&person, &csrf) {
        return super::expired_form("/console/settings");
    }
    let who = Principal::Person(person.clone());
    // The same rule as the API's: a viewer link, whatever its role, changes nothing here.
    let result = match who.require_manage(&person.tenant, "change the account's settings, members or API keys") {
        Ok(()) => change(who).await,
        Err(e) => Err(e.into()),
    };
    let notice = match result {
        Ok((text, token)) => Notice { ok: true, status: StatusCode::OK, text, token },
        Err(e) => Notice { ok: false, status: e.status, text: e.message.clone(), token: None },
    };
    draw(s, &person, Some(notice)).await
}

/// `POST /console/settings/account`: name and time zone.
pub async fn account(State(s): State<AppState>, parts: Parts, Form(form): Form<Vec<(String, String)>>) -> Response {
    let app = s.app.clone();
    let origin = origin_of(&parts, &s.enricher);
    change(&s, &parts, field(&form, "csrf").to_owned(), |who| async move {
        let Principal::Person(p) = &who else { unreachable!("console people only") };
        let patch = TenantPatch {
            name: Some(field(&form, "name").trim().to_owned()),
            time_zone: Some(field(&form, "time_zone").trim().to_owned()),
            ..TenantPatch::default()
        };
        tenants::change_tenant(&app, &origin, &who, &p.tenant, patch).await?;
        Ok(("Saved the account's settings.".into(), None))
    })
    .await
}

/// `POST /console/settings/members`: adds a member.
pub async fn add_member(State(s): State<AppState>, parts: Parts, Form(form): Form<Vec<(String, String)>>) -> Response {
    let app = s.app.clone();
    let origin = origin_of(&parts, &s.enricher);
    change(&s, &parts, field(&form, "csrf").to_owned(), |who| async move {
        let Principal::Person(p) = &who else { unreachable!("console people only") };
        let actor_id = field(&form, "actor_id").trim();
        let req = MemberRequest {
            email: field(&form, "email").trim().to_owned(),
            name: field(&form, "name").trim().to_owned(),
            role: field(&form, "role").to_owned(),
            password: field(&form, "password").to_owned(),
            actor_id: (!actor_id.is_empty()).then(|| actor_id.to_owned()),
        };
        let m = members::add_member(&app, &origin, &who, &p.tenant, req).await?;
        Ok((format!("Added {} ({}) as {}.", m.name, m.email, m.role), None))
    })
    .await
}

/// `POST /console/settings/members/{id}/remove`.
pub async fn remove_member(
    State(s): State<AppState>,
    parts: Parts,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let app = s.app.clone();
    let origin = origin_of(&parts, &s.enricher);
    change(&s, &parts, field(&form, "csrf").to_owned(), |who| async move {
        let Principal::Person(p) = &who else { unreachable!("console people only") };
        if p.member_id.as_deref() == Some(id.as_str()) {
            return Err(ApiError::unprocessable("cannot_remove_self", "you cannot remove yourself: ask another admin"));
        }
        members::remove_member(&app, &origin, &who, &p.tenant, &id).await?;
        Ok(("Removed the member and ended their sessions.".into(), None))
    })
    .await
}

/// `POST /console/settings/keys`: creates a key; its token is shown once.
pub async fn create_key(State(s): State<AppState>, parts: Parts, Form(form): Form<Vec<(String, String)>>) -> Response {
    let app = s.app.clone();
    let origin = origin_of(&parts, &s.enricher);
    change(&s, &parts, field(&form, "csrf").to_owned(), |who| async move {
        let Principal::Person(p) = &who else { unreachable!("console people only") };
        let mut scopes = Vec::new();
        for (_, v) in form.iter().filter(|(k, _)| k == "scope") {
            let sc = Scope::parse(v).map_err(|e| ApiError::unprocessable("invalid_scopes", e.0))?;
            if !scopes.contains(&sc) {
                scopes.push(sc);
            }
        }
        let name = field(&form, "name").trim().to_owned();
        let (key, token) = keys::issue_api_key(&app, &origin, who.actor(), &p.tenant, name, scopes).await?;
        Ok((
            format!("Created API key {} ({}). Copy its token now: it is not shown again.", key.name, key.id),
            Some(token),
        ))
    })
    .await
}

/// `POST /console/settings/keys/{id}/revoke`.
pub async fn revoke_key(
    State(s): State<AppState>,
    parts: Parts,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let app = s.app.clone();
    let origin = origin_of(&parts, &s.enricher);
    change(&s, &parts, field(&form, "csrf").to_owned(), |who| async move {
        let Principal::Person(p) = &who else { unreachable!("console people only") };
        let key = keys::revoke_api_key(&app, &origin, who.actor(), &p.tenant, &id).await?;
        Ok((format!("Revoked API key {} ({}).", key.name, key.id), None))
    })
    .await
}
