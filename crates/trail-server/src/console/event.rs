//! One event's page: every field, the event as stored, and whether it is proven in the latest
//! signed checkpoint.
//!
//! "Proven" means what an outside verifier would check, done here by the server with the same
//! code: the checkpoint's signature verifies with the server's key, the leaf hash is the hash
//! of the stored leaf data, and the inclusion proof leads from that leaf to the checkpoint's
//! root. (That the leaf data commits to exactly the stored values is `trail verify`'s check.)

use askama::Template;
use axum::{
    extract::{Path, State},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use jiff::tz::TimeZone;
use trail_core::{checkpoint::Checkpoint, event::StoredEvent, merkle, time::time_zone};

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

/// Whether event `seq` is proven in the latest checkpoint: `(proven, title, explanation)`.
async fn proof(
    s: &AppState,
    t: &trail_core::TenantId,
    seq: u64,
    leaf: &merkle::Hash,
) -> Result<(bool, String, String), ApiError> {
    let Some(cp) = s.store.latest_checkpoint(t).await? else {
        return Ok((
            false,
            "Not yet signed".into(),
            "The log has no signed checkpoint yet: one is signed within a second of new events. Reload in a moment."
                .into(),
        ));
    };
    if cp.size < seq {
        return Ok((
            false,
            "Not yet in a signed checkpoint".into(),
            format!(
                "The latest checkpoint covers events 1 to {}; checkpoints are signed within a second of new events. Reload in a moment.",
                cp.size
            ),
        ));
    }
    let failed = |why: String| {
        Ok((
            false,
            "Proof failed".into(),
            format!("{why}. Run trail verify on the data directory to find what changed."),
        ))
    };
    let public = s.config.signing_key.verifying_key();
    let signed = match Checkpoint::verify(&cp.note, &s.config.key_name(), &public) {
        Ok(c) if c.size == cp.size && c.root == cp.root => c,
        Ok(_) => return failed("The checkpoint's signed note does not match its stored root".into()),
        Err(e) => return failed(format!("The checkpoint's signature does not verify: {e}")),
    };
    let data = match s.store.leaf_data(t, seq).await {
        Ok(Some(d)) => d,
        Ok(None) => return failed("The event's leaf data is missing".into()),
        // A damaged stored event: the page shows the placeholder and says so, never a 500.
        Err(e) => {
            tracing::error!(tenant = %t, seq, error = %e, "stored event cannot be read for its proof");
            return failed("The stored event cannot be read, so its leaf cannot be recomputed".into());
        }
    };
    if merkle::leaf_hash(&data) != *leaf {
        return failed("The event's leaf data does not hash to its leaf hash".into());
    }
    let path: Vec<Vec<u8>> = s.store.inclusion_proof(t, seq, cp.size).await?.into_iter().map(|h| h.to_vec()).collect();
    if let Err(e) = merkle::verify_inclusion(seq - 1, signed.size, leaf, &path, &signed.root) {
        return failed(format!("The inclusion proof does not verify: {e}"));
    }
    let when = trail_core::time::format_rfc3339(cp.created_at);
    Ok((
        true,
        format!("Proven in the signed checkpoint of {} events", cp.size),
        format!(
            "This event is leaf {} of the tenant's Merkle tree. Its inclusion proof ({} hashes) leads to the root {} that the server signed at {when}; the signature verifies with the key at /v1/keys/public.",
            seq - 1,
            path.len(),
            STANDARD.encode(signed.root)
        ),
    ))
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
    // A member's own events are theirs by id or by any e-mail linked to it.
    let owner = match &person.owner {
        Some(o) => match crate::identity::owner(&*s.store, &t, o).await {
            Ok(o) => Some(o),
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    let mut event = match s.store.event(&t, n).await {
        // A member sees only their own: another's is the same 404 as a missing one.
        Ok(Some(e)) if owner.as_ref().is_none_or(|o| o.owns(&e.body)) => e,
        Ok(_) => return not_found(),
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
    crate::redact::event(
        &mut event,
        crate::redact::of(&Principal::Person(person.clone()), &t, &s.config, &tenant.plan),
    );
    let leaf = match s.store.leaf_hash(&t, n).await {
        Ok(l) => l,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (proven, proof_title, proof_text) = match &leaf {
        None => (false, "No leaf".into(), "This store keeps no Merkle tree for the event.".into()),
        Some(leaf) => match proof(&s, &t, n, leaf).await {
            Ok(p) => p,
            Err(e) => return e.into_response(),
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
