//! One message's log entry (`GET /v1/tenants/{t}/messages/{message_id}`, the console's
//! message page), assembled from the events naming it as a `message` target: when it was sent
//! and by whom, its recipients and expiry (`message.sent`'s metadata), its status (the latest
//! lifecycle event), how often it was opened and downloaded, and every interaction with its IP,
//! place and browser, oldest first. Managers and up. The events of one message are few; they
//! are read whole, at most [`MAX_EVENTS`] of them.

use serde::Serialize;
use serde_json::Value;
use trail_core::{
    TenantId,
    filter::{Filter, Page, TargetRef},
    time::TimeBounds,
    vocabulary::actions::{self, prefix},
};
use trail_store::Store;

use super::{managers_only, tenant};
use crate::{AppError, AppResult, access::Principal, redact::Redaction};

/// The most events one message's entry is made from.
const MAX_EVENTS: usize = 10_000;

/// Who sent or touched a message.
#[derive(Serialize)]
pub struct Who {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// One event of a message's life.
#[derive(Serialize)]
pub struct Interaction {
    pub seq: u64,
    #[serde(with = "trail_core::time::serde_rfc3339")]
    pub occurred_at: jiff::Timestamp,
    pub action: String,
    pub report_type: String,
    pub actor: Option<Who>,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub browser: Option<String>,
}

/// A message's log entry.
#[derive(Serialize)]
pub struct MessageEntry {
    pub message_id: String,
    pub name: Option<String>,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub sent_at: Option<jiff::Timestamp>,
    pub sender: Option<Who>,
    pub recipients: Option<Value>,
    pub expires_at: Option<Value>,
    pub status: Option<String>,
    pub opens: usize,
    pub downloads: usize,
    pub interactions: Vec<Interaction>,
    pub truncated: bool,
}

/// The entry of message `id` as `who` may see it: for managers and up.
pub async fn message_for(app: &crate::App, who: &Principal, t: &TenantId, id: &str) -> AppResult<MessageEntry> {
    managers_only(who, t, "the message log is for managers and up: role member sees its own events")?;
    let plan = tenant(&**app.store(), t).await?.plan;
    let redaction = crate::redact::of(who, t, app.config(), &plan);
    message_entry(&**app.store(), t, id, redaction).await
}

fn who(a: &trail_core::event::Actor) -> Who {
    Who { id: a.id.clone(), name: a.name.clone(), email: a.email.clone() }
}

/// The entry of message `id` as a reader with `redaction` may see it, or "not found" when no
/// event names it.
pub async fn message_entry(store: &dyn Store, t: &TenantId, id: &str, redaction: Redaction) -> AppResult<MessageEntry> {
    let filter = Filter {
        time: TimeBounds::default(),
        targets: vec![TargetRef { kind: Some("message".into()), id: id.to_owned() }],
        redaction,
        ..Filter::default()
    };
    let mut events = Vec::new();
    let mut page = Page { limit: 1000, cursor: None };
    loop {
        let result = store.query(t, &filter, page).await?;
        events.extend(result.events);
        match result.next_cursor {
            Some(c) if events.len() < MAX_EVENTS => page.cursor = Some(c),
            _ => break,
        }
    }
    if events.is_empty() {
        return Err(AppError::NotFound(format!("message {id}")));
    }
    events.reverse();
    events.iter_mut().for_each(|e| crate::redact::event(e, redaction));
    let sent = events.iter().find(|e| e.body.action.as_str() == actions::MESSAGE_SENT);
    let meta = |k: &str| sent.and_then(|e| e.body.metadata.as_ref()).and_then(|m| m.get(k)).cloned();
    let latest = events.iter().rev().find(|e| e.body.action.as_str().starts_with(prefix::MESSAGE));
    let count = |action: &str| events.iter().filter(|e| e.body.action.as_str() == action).count();
    let interactions = events
        .iter()
        .map(|e| {
            let b = &e.body;
            let ctx = b.context.as_deref();
            let loc = ctx.and_then(|c| c.location.as_ref());
            Interaction {
                seq: e.seq,
                occurred_at: b.occurred_at,
                action: b.action.as_str().to_owned(),
                report_type: b.report_type.clone(),
                actor: b.actor.as_ref().map(who),
                ip: ctx.and_then(|c| c.ip).map(|ip| ip.to_string()),
                country: loc.and_then(|l| l.country.clone()),
                city: loc.and_then(|l| l.city.clone()),
                browser: ctx.and_then(|c| c.client.as_ref()).and_then(|c| c.browser.clone()),
            }
        })
        .collect();
    Ok(MessageEntry {
        message_id: id.to_owned(),
        name: sent.and_then(|e| e.body.targets.iter().find(|x| x.kind == "message")).and_then(|x| x.name.clone()),
        sent_at: sent.map(|e| e.body.occurred_at),
        sender: sent.and_then(|e| e.body.actor.as_ref()).map(who),
        recipients: meta("recipients"),
        expires_at: meta("expires_at"),
        status: latest.map(|e| e.body.action.as_str().trim_start_matches(prefix::MESSAGE).to_owned()),
        opens: count(actions::MESSAGE_OPENED),
        downloads: count(actions::MESSAGE_DOWNLOADED),
        interactions,
        truncated: events.len() >= MAX_EVENTS,
    })
}
