//! Signing in and out, and opening the console from a viewer-token link.

use askama::Template;
use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;
use trail_core::{TenantId, vocabulary::actions};
use trail_store::Session;

use trail_app::{
    members,
    sign_in::{Failure, Reason},
};

use super::{message, render, throttle};
use crate::{
    AppState,
    auth::{self, Person, Principal, SESSION_COOKIE},
};
use trail_app::{
    own_events,
    secrets::{hash_token, hashes_equal, new_token},
    viewer,
};

/// The cookie that carries the sign-in form's CSRF token (before there is a session).
const FORM_COOKIE: &str = "trail_form";
/// How long a console session lasts.
const SESSION_HOURS: i64 = 12;
/// The longest e-mail and password the sign-in form considers.
const MAX_EMAIL: usize = 256;
const MAX_PASSWORD: usize = 1024;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn {
    nav: Option<super::Nav>,
    csrf: String,
    tenant: String,
    email: String,
    error: Option<String>,
}

/// `Set-Cookie` for `name`, HttpOnly and SameSite, Secure when the request came over TLS (as
/// a proxy in front says with `X-Forwarded-Proto`).
fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age_s: i64, same_site: &str) -> HeaderValue {
    let tls = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age_s}{secure}"
    ))
    .expect("cookie values are base64url")
}

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    tenant: String,
}

pub async fn sign_in_page(parts: Parts, Query(q): Query<SignInQuery>) -> Response {
    sign_in_form(&parts.headers, q.tenant, String::new(), None, StatusCode::OK)
}

fn sign_in_form(
    headers: &HeaderMap,
    tenant: String,
    email: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let csrf = new_token("");
    let mut resp = render(&SignIn { nav: None, csrf: csrf.clone(), tenant, email, error });
    *resp.status_mut() = status;
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(headers, FORM_COOKIE, &csrf, 3600, "Strict"));
    resp
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    tenant: String,
    email: String,
    password: String,
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && hashes_equal(&hash_token(a), &hash_token(b))
}

pub async fn sign_in(State(s): State<AppState>, parts: Parts, Form(f): Form<SignInForm>) -> Response {
    let headers = &parts.headers;
    if !same(&f.csrf, auth::cookie(&parts, FORM_COOKIE).unwrap_or_default()) {
        return sign_in_form(
            headers,
            f.tenant,
            f.email,
            Some("The form had expired: please sign in again.".into()),
            StatusCode::FORBIDDEN,
        );
    }
    let tenant_text = f.tenant.trim().to_owned();
    let email_key = f.email.trim().to_lowercase();
    let mismatch = "That account, e-mail and password do not match: check each and try again.";
    // Longer than any account id, e-mail or sensible password: no work, nothing remembered.
    if tenant_text.len() > TenantId::MAX_LEN || email_key.len() > MAX_EMAIL || f.password.len() > MAX_PASSWORD {
        return sign_in_form(headers, String::new(), String::new(), Some(mismatch.into()), StatusCode::UNAUTHORIZED);
    }
    let origin = crate::origin::origin_of(&parts, &s.enricher);
    let address = origin.ip.map(|ip| ip.to_string()).unwrap_or_else(|| "unknown".into());
    let account = format!("{tenant_text}/{email_key}");
    let keys = vec![
        (format!("account-address|{account}|{address}"), throttle::PER_ACCOUNT_AND_ADDRESS),
        (format!("address|{address}"), throttle::PER_ADDRESS),
        (format!("account|{account}"), throttle::PER_ACCOUNT),
    ];
    if let Some(wait) = s.throttle.wait(&keys) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let mut resp = sign_in_form(
            headers,
            tenant_text,
            f.email,
            Some(format!("Too many failed attempts: try again in {minutes} minutes.")),
            StatusCode::TOO_MANY_REQUESTS,
        );
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        return resp;
    }
    // The tenant, when it exists (a failure is then written into its log), and the member.
    let (tenant, found) = match TenantId::parse(&tenant_text) {
        Ok(t) => match s.store.member_login(&t, f.email.trim()).await {
            Ok(found) => (Some(t.clone()), found.map(|m| (t, m))),
            Err(trail_store::StoreError::NotFound(_)) => (None, None),
            Err(e) => return crate::error::ApiError::from(e).into_response(),
        },
        Err(_) => (None, None),
    };
    // The password is checked (against a dummy when the member is unknown) either way, so the
    // answer's timing does not say which accounts exist.
    let hash = found.as_ref().map(|(_, (_, h))| h.clone());
    let password = f.password;
    // At most a few argon2 checks at once (each takes ~19 MiB and a core for a while), so a
    // burst of attempts queues here instead of exhausting memory and threads.
    let Ok(_permit) = s.password_checks.acquire().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the server is stopping").into_response();
    };
    let ok = tokio::task::spawn_blocking(move || {
        members::verify_password(&password, hash.as_deref().unwrap_or_else(|| members::dummy_hash()))
    })
    .await
    .unwrap_or(false);
    let (tenant, member) = match found {
        Some((tenant, (member, _))) if ok => (tenant, member),
        found => {
            s.throttle.failed(&keys);
            // Written into the account's log when the account exists (else there is no log).
            if let Some(tenant) = tenant {
                let failure = Failure {
                    tenant,
                    email: email_key,
                    reason: if found.is_some() { Reason::WrongPassword } else { Reason::UnknownMember },
                    member: found.map(|(_, (m, _))| (m.id, m.name)),
                    origin,
                };
                s.app.failed_sign_ins().record(s.app.clone(), failure).await;
            }
            return sign_in_form(headers, tenant_text, f.email, Some(mismatch.into()), StatusCode::UNAUTHORIZED);
        }
    };
    s.throttle.succeeded(&keys[0].0);
    let person = Person {
        owner: Person::owner_of(member.role, Some(&member.id), member.actor_id.as_deref(), Some(&member.email)),
        actor_id: member.actor_id.clone(),
        tenant: tenant.clone(),
        role: member.role,
        member_id: Some(member.id.clone()),
        name: member.name.clone(),
        email: Some(member.email.clone()),
        csrf: None,
    };
    let expires = Timestamp::now() + SignedDuration::from_hours(SESSION_HOURS);
    match open_session(&s, headers, &person, member.actor_id.clone(), expires).await {
        Ok(resp) => {
            let _ = own_events::record(
                &s.app,
                &tenant,
                &origin,
                Principal::Person(person).actor(),
                actions::TRAIL_MEMBER_SIGNED_IN,
                format!("{} signed in to the console", member.name),
                json!({"member_id": member.id}),
            )
            .await;
            resp
        }
        Err(resp) => resp,
    }
}

/// Stores a session for `person` and answers with its cookie and a redirect to the console.
async fn open_session(
    s: &AppState,
    headers: &HeaderMap,
    person: &Person,
    actor_id: Option<String>,
    expires: Timestamp,
) -> Result<Response, Response> {
    let token = new_token("");
    let session = Session {
        id_hash: hash_token(&token),
        tenant: person.tenant.clone(),
        member_id: person.member_id.clone(),
        role: person.role,
        actor_id,
        email: person.email.clone(),
        name: person.name.clone(),
        csrf: new_token(""),
        expires_at: expires,
    };
    s.store.create_session(session).await.map_err(|e| crate::error::ApiError::from(e).into_response())?;
    let max_age = expires.duration_since(Timestamp::now()).as_secs().max(0);
    let mut resp = Redirect::to("/console/activity").into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(headers, SESSION_COOKIE, &token, max_age, "Lax"));
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(headers, FORM_COOKIE, "", 0, "Strict"));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

pub async fn sign_out(State(s): State<AppState>, parts: Parts, Form(f): Form<SignOutForm>) -> Response {
    let Ok(Some(person)) = auth::session_person(&parts, &s).await else {
        return Redirect::to("/console/sign-in").into_response();
    };
    if !same(&f.csrf, person.csrf.as_deref().unwrap_or_default()) {
        return message(
            StatusCode::FORBIDDEN,
            None,
            "Not signed out",
            "The form had expired.",
            "/console/activity",
            "Back",
        );
    }
    let token = auth::cookie(&parts, SESSION_COOKIE).unwrap_or_default();
    if let Err(e) = s.store.delete_session(&hash_token(token)).await {
        return crate::error::ApiError::from(e).into_response();
    }
    let mut resp = Redirect::to(&format!("/console/sign-in?tenant={}", person.tenant)).into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(&parts.headers, SESSION_COOKIE, "", 0, "Lax"));
    resp
}

#[derive(Deserialize)]
pub struct ViewerQuery {
    token: String,
}

/// `/console/viewer?token=...`: a viewer token opens a session for as long as the token lives.
pub async fn viewer(State(s): State<AppState>, parts: Parts, Query(q): Query<ViewerQuery>) -> Response {
    let claims = match viewer::verify(&s.config.signing_key, &q.token) {
        Ok(c) => c,
        Err(m) => {
            return message(
                StatusCode::UNAUTHORIZED,
                None,
                "This link cannot be used",
                &format!(
                    "The link's token cannot be used: {m}. Open the console again from the product you came from."
                ),
                "/console/sign-in",
                "Sign in instead",
            );
        }
    };
    let person = claims.person();
    let expires = Timestamp::from_second(claims.expires).unwrap_or_else(|_| Timestamp::now());
    match open_session(&s, &parts.headers, &person, claims.actor_id.clone(), expires).await {
        Ok(r) | Err(r) => r,
    }
}
