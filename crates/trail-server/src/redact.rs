//! What a reader may not see of an event they may see, on every route that returns events
//! (query, one event, stream, views, link access log, message log, exports, console pages):
//!
//! - SMS phone numbers (`metadata.phone` of `sms.*` events) show whole only to those who
//!   administer the tenant, masked to their last four digits for everyone else;
//! - link access events (`link.viewed`, `link.saved`) of a tenant whose plan has no link
//!   detail show dates only: no e-mail or name, IP, location, platform or session.
//!
//! A value hidden in its field is hidden wherever else the event writes it (the description,
//! target names, any metadata value at any depth, the actor's fields): a client that writes
//! `"SMS to +447700900123 failed"` must not undo the masking of `metadata.phone`. What counts
//! as the same value is in [`text`]. Only an event's action and category, which hold no such
//! values (their syntax is checked at ingest), are not searched.
//!
//! The stored event, its leaf and its proofs are untouched: only the copy sent is changed. A
//! leaf holds metadata and location in clear, so the leaf route refuses a reader whose
//! redaction changes the event ([`changes`]).

mod text;

use serde_json::{Map, Value};
use trail_core::{
    TenantId,
    event::{Activity, ERASED, EventBody, StoredEvent, activity::ip_text},
    ids::Scope,
};
use trail_export::views::mask_phone;

use text::Hidden;
pub use text::WITHHELD;

use crate::{ServerConfig, auth::Principal};

/// What to hide from one reader of one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redaction {
    pub mask_phones: bool,
    pub hide_link_detail: bool,
}

impl Redaction {
    /// For `who` reading `tenant`, whose plan is `plan`.
    pub fn of(who: &Principal, tenant: &TenantId, config: &ServerConfig, plan: &str) -> Redaction {
        Redaction { mask_phones: masks_phones(who, tenant), hide_link_detail: !config.plan(plan).link_detail }
    }

    /// Nothing hidden (the operator's own tools).
    pub const NONE: Redaction = Redaction { mask_phones: false, hide_link_detail: false };
}

/// Whether `who` reads `tenant`'s events with phone numbers masked.
pub fn masks_phones(who: &Principal, tenant: &TenantId) -> bool {
    !who.grants(tenant, Scope::Admin)
}

/// Whether an event is a link access event (the link access log's rows).
pub fn is_link_access(e: &StoredEvent) -> bool {
    is_link_access_action(e.body.action.as_str())
}

fn is_link_access_action(action: &str) -> bool {
    matches!(action, "link.viewed" | "link.saved")
}

fn is_sms_action(action: &str) -> bool {
    action.starts_with("sms.")
}

/// Whether [`event`] may change what the activity columns show of an event: rows made without
/// the typed event (a CSV export's, from the stored record) are made from the typed event
/// instead when it may. For a link access event under a plan without link detail it does; for
/// an SMS event read with phones masked it does when one of the shown texts has the five digits
/// a masked phone number needs (the phone itself is metadata, which those columns do not read,
/// so whether the text holds it is left to the typed event).
pub fn changes_activity(r: Redaction, a: &Activity<'_>) -> bool {
    if r.hide_link_detail && is_link_access_action(&a.action) {
        return true;
    }
    if !(r.mask_phones && is_sms_action(&a.action)) {
        return false;
    }
    let actor = a.actor.iter().flat_map(|x| [&x.id, &x.name, &x.email]);
    let targets = a.targets.iter().flat_map(|t| [&t.id, &t.name]);
    let location = a.location.iter().flat_map(|l| [&l.country, &l.country_name, &l.region, &l.city]);
    let client = a.client.iter().flat_map(|c| [&c.os, &c.browser, &c.device]);
    let kinds = a.targets.iter().map(|t| t.kind.as_ref());
    [Some(&*a.report_type), a.description.as_deref()]
        .into_iter()
        .flatten()
        .chain(kinds)
        .chain(actor.chain(targets).chain(location).chain(client).filter_map(|s| s.as_deref()))
        .any(|s| s.bytes().filter(u8::is_ascii_digit).nth(4).is_some())
}

/// Whether [`event`] changes `e` for a reader with redaction `r`.
pub fn changes(e: &StoredEvent, r: Redaction) -> bool {
    if !((r.mask_phones && is_sms_action(e.body.action.as_str())) || (r.hide_link_detail && is_link_access(e))) {
        return false;
    }
    let mut redacted = e.clone();
    event(&mut redacted, r);
    redacted != *e
}

/// Hides what `r` says must be, in place.
pub fn event(e: &mut StoredEvent, r: Redaction) {
    let mut hidden = Vec::new();
    if r.mask_phones
        && is_sms_action(e.body.action.as_str())
        && let Some(phone) = e.body.metadata.as_mut().and_then(|m| m.get_mut("phone"))
    {
        mask_phones(phone, &mut hidden);
    }
    if r.hide_link_detail && is_link_access(e) {
        withhold_link_detail(&mut e.body, &mut hidden);
    }
    if !hidden.is_empty() {
        hide_everywhere(&mut e.body, &hidden);
    }
}

/// Masks the phone number `v` (a text or a number; each one in an object or list), noting each
/// for [`hide_everywhere`].
fn mask_phones(v: &mut Value, hidden: &mut Vec<Hidden>) {
    match v {
        Value::String(s) => {
            hidden.extend(Hidden::phone(s));
            *s = mask_phone(s);
        }
        Value::Number(n) => {
            let s = n.to_string();
            hidden.extend(Hidden::phone(&s));
            *v = Value::String(mask_phone(&s));
        }
        Value::Array(a) => a.iter_mut().for_each(|v| mask_phones(v, hidden)),
        Value::Object(o) => o.values_mut().for_each(|v| mask_phones(v, hidden)),
        Value::Null | Value::Bool(_) => {}
    }
}

/// Removes a link visitor's detail, noting each value for [`hide_everywhere`].
fn withhold_link_detail(b: &mut EventBody, hidden: &mut Vec<Hidden>) {
    // An erased value reads `[erased]` everywhere already.
    let mut note = |v: Option<String>| hidden.extend(v.as_deref().filter(|v| *v != ERASED).and_then(Hidden::withheld));
    if let Some(a) = b.actor.as_mut() {
        note(a.email.take());
        note(a.name.take());
    }
    if let Some(c) = b.context.as_deref_mut() {
        note(c.ip.take().map(ip_text));
        note(c.session_id.take());
        note(c.user_agent.take());
        if let Some(l) = c.location.take() {
            [l.country, l.country_name, l.region, l.city].into_iter().for_each(&mut note);
        }
        if let Some(cl) = c.client.take() {
            [cl.os, cl.browser, cl.device].into_iter().for_each(&mut note);
        }
    }
}

/// Hides every occurrence of `hidden` in every text of `b` but its action and category.
fn hide_everywhere(b: &mut EventBody, hidden: &[Hidden]) {
    let mut texts: Vec<&mut String> = Vec::new();
    texts.extend(b.id.as_mut());
    texts.push(&mut b.report_type);
    texts.extend(b.description.as_mut());
    if let Some(a) = b.actor.as_mut() {
        texts.extend([&mut a.id, &mut a.name, &mut a.email].into_iter().flatten());
    }
    for t in &mut b.targets {
        texts.push(&mut t.kind);
        texts.extend([&mut t.id, &mut t.name].into_iter().flatten());
    }
    if let Some(c) = b.context.as_deref_mut() {
        texts.extend([&mut c.user_agent, &mut c.session_id, &mut c.url].into_iter().flatten());
        if let Some(l) = c.location.as_mut() {
            texts.extend([&mut l.country, &mut l.country_name, &mut l.region, &mut l.city].into_iter().flatten());
        }
        if let Some(cl) = c.client.as_mut() {
            texts.extend([&mut cl.os, &mut cl.browser, &mut cl.device].into_iter().flatten());
        }
    }
    for s in texts {
        if let Some(h) = text::hide(s, hidden) {
            *s = h;
        }
    }
    if let Some(m) = b.metadata.as_mut() {
        hide_in_map(m, hidden);
    }
}

/// [`hide_everywhere`] in metadata: every text, number and key at any depth. A number that is
/// a hidden value becomes the text that hides it.
fn hide_in_value(v: &mut Value, hidden: &[Hidden]) {
    match v {
        Value::String(s) => {
            if let Some(h) = text::hide(s, hidden) {
                *s = h;
            }
        }
        Value::Number(n) => {
            if let Some(h) = text::hide(&n.to_string(), hidden) {
                *v = Value::String(h);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| hide_in_value(v, hidden)),
        Value::Object(o) => hide_in_map(o, hidden),
        Value::Null | Value::Bool(_) => {}
    }
}

fn hide_in_map(m: &mut Map<String, Value>, hidden: &[Hidden]) {
    if m.keys().any(|k| text::hide(k, hidden).is_some()) {
        *m = std::mem::take(m).into_iter().map(|(k, v)| (text::hide(&k, hidden).unwrap_or(k), v)).collect();
    }
    m.values_mut().for_each(|v| hide_in_value(v, hidden));
}
