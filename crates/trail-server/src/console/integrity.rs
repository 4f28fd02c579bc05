//! The Integrity page (docs/console.md): the latest signed checkpoint of the tenant's tree, the key it
//! verifies with, and Verify now, which checks the whole log as `trail verify` does and says
//! what it found. Managers and up; each check is written to the log as `trail.integrity.verified`.

use askama::Template;
use axum::{
    Form,
    extract::State,
    http::request::Parts,
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::json;
use trail_core::vocabulary::actions;
use trail_store::VerifyReport;

use super::{Nav, csrf_ok, manager_page, render, signed_in};
use crate::{AppState, auth::Principal, error::ApiError};

#[derive(Template)]
#[template(path = "integrity.html")]
struct IntegrityPage {
    nav: Option<Nav>,
    csrf: String,
    events: u64,
    checkpoint: Option<CheckpointView>,
    public_key: String,
    result: Option<Outcome>,
    /// Why the signer refuses this tenant's tree, if it does (`trail_app::signer`).
    refused: Option<String>,
}

struct CheckpointView {
    size: u64,
    root: String,
    created_at: String,
    note: String,
}

struct Outcome {
    ok: bool,
    text: String,
}

#[derive(Deserialize)]
pub struct VerifyForm {
    csrf: String,
}

pub async fn page(State(s): State<AppState>, parts: Parts) -> Response {
    draw(&s, &parts, None).await
}

/// `POST /console/integrity/verify`.
pub async fn verify(State(s): State<AppState>, parts: Parts, Form(f): Form<VerifyForm>) -> Response {
    let (person, _) = match signed_in(&parts, &s).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !csrf_ok(&person, &f.csrf) {
        return super::expired_form("/console/integrity");
    }
    if person.owner.is_some() {
        return draw(&s, &parts, None).await;
    }
    let report = match trail_app::tree::verify(&s.app, &person.tenant).await {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let outcome = describe(&report);
    let _ = trail_app::own_events::record(
        &s.app,
        &person.tenant,
        &crate::origin::origin_of(&parts, &s.enricher),
        Principal::Person(person.clone()).actor(),
        actions::TRAIL_INTEGRITY_VERIFIED,
        format!("{} verified the log: {}", person.name, outcome.text),
        json!({"events": report.events, "checkpoints": report.checkpoints, "ok": outcome.ok,
               "first_bad_seq": report.problem.as_ref().map(|p| p.0)}),
    )
    .await;
    draw(&s, &parts, Some(outcome)).await
}

fn describe(r: &VerifyReport) -> Outcome {
    match &r.problem {
        None => Outcome {
            ok: true,
            text: format!(
                "All {} events verified: every leaf recomputed from the stored event matches the tree, and all {} checkpoints are signed and consistent.",
                r.events, r.checkpoints
            ),
        },
        Some((seq, m)) => Outcome { ok: false, text: format!("Problem at seq {seq}: {m}.") },
    }
}

async fn draw(s: &AppState, parts: &Parts, result: Option<Outcome>) -> Response {
    let (person, tenant, nav) = match manager_page(parts, s, "/console/integrity").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let nav = Some(nav);
    let checkpoint = match s.store.latest_checkpoint(&tenant.id).await {
        Ok(c) => c.map(|c| CheckpointView {
            size: c.size,
            root: STANDARD.encode(c.root),
            created_at: trail_core::time::format_rfc3339(c.created_at),
            note: c.note,
        }),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let public_key = trail_core::checkpoint::verifier_key(&s.config.key_name(), &s.config.signing_key.verifying_key());
    render(&IntegrityPage {
        csrf: person.csrf.clone().unwrap_or_default(),
        nav,
        events: tenant.event_count,
        checkpoint,
        public_key,
        result,
        refused: s.refusals.get(&tenant.id),
    })
}
