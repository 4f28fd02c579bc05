//! One event's page: every field, the event as stored, and whether it is proven in the latest
//! signed checkpoint.
//!
//! "Proven" means what an outside verifier would check, done by the server with the same code
//! (`trail_app::tree::proof_in_latest`): the checkpoint's signature verifies with the server's
//! key, the leaf hash is the hash of the stored leaf data, and the inclusion proof leads from
//! that leaf to the checkpoint's root.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use jiff::tz::TimeZone;
use trail_app::{
    AppError, queries,
    tree::{self, Proof},
};
use trail_core::{event::StoredEvent, time::time_zone};

use serde_json::json;

use super::{Nav, message, render, signed_in_tenant};
use crate::{AppState, auth::Principal, error::ApiError};

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    nav: Option<Nav>,
    seq: u64,
    report_type: String,
    proven: bool,
    proof_title: String,
    proof_text: String,
    leaf_hash: String,
    fields: Vec<(&'static str, String)>,
    json: String,
}

/// Every field of the event worth a row, in reading order; empty ones left out.
fn fields(e: &StoredEvent, tz: &TimeZone) -> Vec<(&'static str, String)> {
    let b = &e.body;
    let when = |t: jiff::Timestamp| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M:%S%.3f %:z").to_string();
    let mut out = vec![
        ("Seq", e.seq.to_string()),
        ("Date", when(b.occurred_at)),
        ("Received", when(b.received_at)),
        ("Report type", b.report_type.clone()),
        ("Action", b.action.as_str().to_owned()),
        ("Category", b.category.as_str().to_owned()),
        ("Outcome", b.outcome.as_str().to_owned()),
    ];
    let mut opt = |label: &'static str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.push((label, v));
        }
    };
    opt("Event id", b.id.clone());
    if let Some(a) = &b.actor {
        opt("User", a.name.clone());
        opt("E-mail", a.email.clone());
        opt("User id", a.id.clone());
        opt("User type", Some(a.kind.as_str().to_owned()));
    }
    for t in &b.targets {
        let name = t.name.as_deref().unwrap_or("");
        let id = t.id.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
        opt("Target", Some(format!("{}: {name}{id}", t.kind)));
    }
    opt("Remarks", b.description.clone());
    if let Some(c) = &b.context {
        opt("IP address", c.ip.map(|ip| ip.to_string()));
        if let Some(l) = &c.location {
            let place: Vec<&str> =
                [l.city.as_deref(), l.region.as_deref(), l.country_name.as_deref().or(l.country.as_deref())]
                    .into_iter()
                    .flatten()
                    .collect();
            opt("Location", Some(place.join(", ")));
        }
        if let Some(cl) = &c.client {
            let parts: Vec<&str> =
                [cl.browser.as_deref(), cl.os.as_deref(), cl.device.as_deref()].into_iter().flatten().collect();
            opt("Client", Some(parts.join(" · ")));
        }
        opt("User agent", c.user_agent.clone());
        opt("Session", c.session_id.clone());
        opt("Request", c.method.map(|m| format!("{} {}", m.as_str(), c.url.as_deref().unwrap_or(""))));
        if c.method.is_none() {
            opt("URL", c.url.clone());
        }
        opt("Status", c.status.map(|s| s.to_string()));
    }
    if let Some(m) = &b.metadata {
        for (k, v) in m {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(("Metadata", format!("{k}: {text}")));
        }
    }
    out
}

/// What the page says of a proof: `(proven, title, explanation)`.
fn describe(proof: Proof, seq: u64) -> (bool, String, String) {
    match proof {
        Proof::NoCheckpoint => (
            false,
            "Not yet signed".into(),
            "The log has no signed checkpoint yet: one is signed within a second of new events. Reload in a moment."
                .into(),
        ),
        Proof::NotYetSigned { checkpoint_size } => (
            false,
            "Not yet in a signed checkpoint".into(),
            format!(
                "The latest checkpoint covers events 1 to {checkpoint_size}; checkpoints are signed within a second of new events. Reload in a moment."
            ),
        ),
        Proof::Failed(why) => (
            false,
            "Proof failed".into(),
            format!("{why}. Run trail verify on the data directory to find what changed."),
        ),
        Proof::Proven { tree_size, proof_len, root, signed_at } => (
            true,
            format!("Proven in the signed checkpoint of {tree_size} events"),
            format!(
                "This event is leaf {} of the tenant's Merkle tree. Its inclusion proof ({proof_len} hashes) leads to the root {} that the server signed at {}; the signature verifies with the key at /v1/keys/public.",
                seq - 1,
                STANDARD.encode(root),
                trail_core::time::format_rfc3339(signed_at)
            ),
        ),
    }
}

/// `GET /console/events/{seq}`.
pub async fn page(State(s): State<AppState>, parts: Parts, Path(seq): Path<String>) -> Response {
    let (person, session, tenant) = match signed_in_tenant(&parts, &s).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let t = person.tenant.clone();
    let header = Nav::of(&s, &person, &tenant.name, "/console/activity").await;
    let nav = || Some(header.clone());
    let not_found = || {
        message(
            StatusCode::NOT_FOUND,
            nav(),
            "No such event",
            &format!("There is no event {seq} that you can see."),
            "/console/activity",
            "Back to the activity log",
        )
    };
    let Ok(n) = seq.parse::<u64>() else { return not_found() };
    let who = Principal::Person(person.clone());
    // A member sees only their own (by id or by any e-mail linked to it): another's is the
    // same 404 as a missing one.
    let mut event = match queries::visible_event(&*s.store, &who, &t, n).await {
        Ok(e) => e,
        Err(AppError::NotFound(_)) => return not_found(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let description = format!("{} viewed event {n}", person.name);
    if let Err(e) = trail_app::viewed::record(
        &s.app,
        &person,
        session,
        &crate::origin::origin_of(&parts, &s.enricher),
        &format!("event:{n}"),
        description,
        json!({"view": "event", "seq": n}),
    )
    .await
    {
        return ApiError::from(e).into_response();
    }
    trail_app::redact::event(&mut event, trail_app::redact::of(&who, &t, &s.config, &tenant.plan));
    let leaf = match s.store.leaf_hash(&t, n).await {
        Ok(l) => l,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (proven, proof_title, proof_text) = match &leaf {
        None => (false, "No leaf".into(), "This store keeps no Merkle tree for the event.".into()),
        Some(leaf) => match tree::proof_in_latest(&s.app, &t, n, leaf).await {
            Ok(p) => describe(p, n),
            Err(e) => return ApiError::from(e).into_response(),
        },
    };
    let tz = time_zone(&tenant.time_zone).unwrap_or(TimeZone::UTC);
    render(&EventPage {
        nav: nav(),
        seq: n,
        report_type: event.body.report_type.clone(),
        proven,
        proof_title,
        proof_text,
        leaf_hash: leaf.map(|l| STANDARD.encode(l)).unwrap_or_default(),
        fields: fields(&event, &tz),
        json: serde_json::to_string_pretty(&event).unwrap_or_default(),
    })
}
