//! Who is calling, and what they may do.
//!
//! A caller is the operator (operator key), a tenant's API key, or a person: a console member
//! signed in (session cookie) or someone a SaaS let in with a viewer token (bearer or the
//! console's `/console/viewer` link). Here the caller is recognised from the request; what a
//! caller may do is `trail_app::access` (a key or person of another tenant gets the same 404 as
//! a tenant that does not exist, and a `member` is narrowed to their own events by
//! [`Principal::owner`], which every query route applies).

use axum::{
    extract::FromRequestParts,
    http::{Method, request::Parts},
};

pub use trail_app::access::{Person, Principal};

use crate::{AppState, error::ApiError};
use trail_app::{
    secrets::{hash_token, hashes_equal},
    viewer,
};

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "trail_session";
/// The header that carries a session's CSRF token on API calls that change something.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of one cookie in a request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The person signed in with the session cookie, if any.
pub async fn session_person(parts: &Parts, state: &AppState) -> Result<Option<Person>, ApiError> {
    let Some(token) = cookie(parts, SESSION_COOKIE) else { return Ok(None) };
    let Some(s) = state.store.session(&hash_token(token)).await? else { return Ok(None) };
    Ok(Some(Person {
        owner: Person::owner_of(s.role, s.member_id.as_deref(), s.actor_id.as_deref(), s.email.as_deref()),
        actor_id: s.actor_id,
        tenant: s.tenant,
        role: s.role,
        member_id: s.member_id,
        name: s.name,
        email: s.email,
        csrf: Some(s.csrf),
    }))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            // The console's session cookie works on the API too; what changes something also
            // needs the session's CSRF token in a header, which another site cannot send.
            return match session_person(parts, state).await? {
                Some(p) => {
                    if !matches!(parts.method, Method::GET | Method::HEAD) {
                        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
                        let expected = p.csrf.as_deref().unwrap_or("");
                        if expected.is_empty() || !hashes_equal(&hash_token(sent), &hash_token(expected)) {
                            return Err(ApiError::forbidden(format!(
                                "a change made with the console's session needs the {CSRF_HEADER} header"
                            )));
                        }
                    }
                    Ok(Principal::Person(p))
                }
                None => Err(ApiError::unauthorized(
                    "this route needs a key: send the header Authorization: Bearer <key>, or sign in to the console",
                )),
            };
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be: Bearer <key>"))?;
        if token.starts_with(viewer::PREFIX) {
            let claims = viewer::verify(&state.config.signing_key, token)
                .map_err(|m| ApiError::unauthorized(format!("this viewer token cannot be used: {m}")))?;
            return Ok(Principal::Person(claims.person()));
        }
        let hash = hash_token(token);
        if hashes_equal(&hash, &state.config.operator_key_hash) {
            return Ok(Principal::Operator);
        }
        match state.store.api_key_by_token_hash(&hash).await? {
            Some(k) if k.is_active() => Ok(Principal::ApiKey { tenant: k.tenant, key_id: k.id, scopes: k.scopes }),
            Some(k) => Err(ApiError::unauthorized(format!("API key {} has been revoked: use another key", k.id))),
            None => Err(ApiError::unauthorized("this key is not known here: check that you copied it whole")),
        }
    }
}
