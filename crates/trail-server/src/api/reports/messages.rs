//! `GET /v1/tenants/{t}/messages/{message_id}`: one message's log entry, assembled from the
//! events naming it as a `message` target (SPEC 2.3): when it was sent and by whom, its
//! recipients and expiry (`message.sent`'s metadata), its status (the latest lifecycle event),
//! how often it was opened and downloaded, and every interaction with its IP, place and
//! browser, oldest first. Managers and up. The events of one message are few; they are read
//! whole, at most [`MAX_EVENTS`] of them.

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Value, json};
use trail_core::{
    filter::{Filter, Page, TargetRef},
    ids::Scope,
    time::TimeBounds,
};

use crate::{
    AppState,
    api::TenantPath,
    auth::Principal,
    error::{ApiError, ApiResult},
};

/// The most events one message's entry is made from.
const MAX_EVENTS: usize = 10_000;

pub async fn message(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    who.require(&t, Scope::Read)?;
    if who.owner().is_some() {
        return Err(ApiError::forbidden("the message log is for managers and up: role member sees its own events"));
    }
    let filter = Filter {
        time: TimeBounds::default(),
        targets: vec![TargetRef { kind: Some("message".into()), id: id.clone() }],
        ..Filter::default()
    };
    let mut events = Vec::new();
    let mut page = Page { limit: 1000, cursor: None };
    loop {
        let result = s.store.query(&t, &filter, page).await?;
        events.extend(result.events);
        match result.next_cursor {
            Some(c) if events.len() < MAX_EVENTS => page.cursor = Some(c),
            _ => break,
        }
    }
    if events.is_empty() {
        return Err(ApiError::not_found(format!("message {id}")));
    }
    events.reverse();
    let sent = events.iter().find(|e| e.body.action.as_str() == "message.sent");
    let meta = |k: &str| sent.and_then(|e| e.body.metadata.as_ref()).and_then(|m| m.get(k)).cloned();
    let latest = events.iter().rev().find(|e| e.body.action.as_str().starts_with("message."));
    let status = latest.map(|e| e.body.action.as_str().trim_start_matches("message.").to_owned());
    let count = |action: &str| events.iter().filter(|e| e.body.action.as_str() == action).count();
    let name = sent.and_then(|e| e.body.targets.iter().find(|x| x.kind == "message")).and_then(|x| x.name.clone());
    let interactions: Vec<Value> = events
        .iter()
        .map(|e| {
            let b = &e.body;
            let ctx = b.context.as_deref();
            let loc = ctx.and_then(|c| c.location.as_ref());
            json!({
                "seq": e.seq,
                "occurred_at": trail_core::time::format_rfc3339(b.occurred_at),
                "action": b.action.as_str(),
                "report_type": b.report_type,
                "actor": b.actor.as_ref().map(|a| json!({"id": a.id, "name": a.name, "email": a.email})),
                "ip": ctx.and_then(|c| c.ip).map(|ip| ip.to_string()),
                "country": loc.and_then(|l| l.country.clone()),
                "city": loc.and_then(|l| l.city.clone()),
                "browser": ctx.and_then(|c| c.client.as_ref()).and_then(|c| c.browser.clone()),
            })
        })
        .collect();
    Ok(Json(json!({
        "message_id": id,
        "name": name,
        "sent_at": sent.map(|e| trail_core::time::format_rfc3339(e.body.occurred_at)),
        "sender": sent.and_then(|e| e.body.actor.as_ref()).map(|a| json!({"id": a.id, "name": a.name, "email": a.email})),
        "recipients": meta("recipients"),
        "expires_at": meta("expires_at"),
        "status": status,
        "opens": count("message.opened"),
        "downloads": count("message.downloaded"),
        "interactions": interactions,
        "truncated": events.len() >= MAX_EVENTS,
    })))
}
