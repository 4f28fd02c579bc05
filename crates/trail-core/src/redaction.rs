//! What a reader may not see of an event they may see, on every route that returns events
//! (query, one event, stream, views, link access log, message log, exports, console pages), and
//! what the reader's filters and searches are matched against:
//!
//! - SMS phone numbers (`metadata.phone` of `sms.*` events) show whole only to those who
//!   administer the tenant, masked to their last four digits for everyone else;
//! - link access events (`link.viewed`, `link.saved`) of a tenant whose plan has no link
//!   detail show dates only: no e-mail or name, IP, location, platform or session.
//!
//! Who is shown what is the server's decision (it knows the reader and the tenant's plan); this
//! module holds the rules, so that the copy sent and the filter's match are made by one
//! definition ([`Redaction::apply`]).
//!
//! A value hidden in its field is hidden wherever else the event writes it (the description,
//! target names, any metadata value at any depth, the actor's fields): a client that writes
//! `"SMS to +447700900123 failed"` must not undo the masking of `metadata.phone`. What counts
//! as the same value is in [`text`]. Only an event's action and category, which hold no such
//! values (their syntax is checked at ingest), are not searched.
//!
//! The stored event, its leaf and its proofs are untouched: only the copy sent is changed.
//!
//! **Searching what one sees.** A reader's filter carries their redaction
//! ([`Filter::redaction`](crate::filter::Filter::redaction)), and its conditions are checked
//! against the copy the reader is shown, not the stored event: otherwise `q=447700900123`, or
//! `ip=` and `country=` on a link access log, would confirm by its answer (an event listed, a
//! count, an export row) a value the reader is never shown. So `q=0123` finds a masked number
//! and the full number does not, for that reader. The owner of a member's own events is the
//! server's scoping, not the reader's question, and is checked on the stored event.

mod text;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{
    event::{ERASED, EventBody, activity::ip_text},
    filter::{ActionPattern, Filter},
    search::TermKind,
};

use text::Hidden;
pub use text::WITHHELD;

/// The actions whose events carry an SMS phone number: those starting with this.
pub const SMS_ACTION_PREFIX: &str = crate::vocabulary::actions::prefix::SMS;

/// The link access events (the link access log's rows).
pub const LINK_ACCESS_ACTIONS: [&str; 2] =
    [crate::vocabulary::actions::LINK_VIEWED, crate::vocabulary::actions::LINK_SAVED];

/// Whether `action` is an SMS event's.
pub fn is_sms_action(action: &str) -> bool {
    action.starts_with(SMS_ACTION_PREFIX)
}

/// Whether `action` is a link access event's.
pub fn is_link_access_action(action: &str) -> bool {
    LINK_ACCESS_ACTIONS.contains(&action)
}

/// What to hide from one reader of one tenant. The default hides nothing (the operator's own
/// tools, and filters the server makes for itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Redaction {
    pub mask_phones: bool,
    pub hide_link_detail: bool,
}

impl Redaction {
    /// Nothing hidden.
    pub const NONE: Redaction = Redaction { mask_phones: false, hide_link_detail: false };

    /// Whether anything is hidden at all.
    pub fn hides_anything(self) -> bool {
        self.mask_phones || self.hide_link_detail
    }

    /// Whether events of `action` may be changed (the cheap test before any copy is made).
    pub fn may_change(self, action: &str) -> bool {
        (self.mask_phones && is_sms_action(action)) || (self.hide_link_detail && is_link_access_action(action))
    }

    /// The actions whose events this redaction may change, as filters.
    pub fn changed_actions(self) -> Vec<ActionPattern> {
        let mut out = Vec::new();
        if self.mask_phones {
            out.push(ActionPattern::Prefix(SMS_ACTION_PREFIX.to_owned()));
        }
        if self.hide_link_detail {
            out.extend(LINK_ACCESS_ACTIONS.iter().map(|a| ActionPattern::Exact((*a).to_owned())));
        }
        out
    }

    /// Whether any event that `actions` select (every event when empty) may be changed.
    pub fn may_change_any(self, actions: &[ActionPattern]) -> bool {
        if !self.hides_anything() {
            return false;
        }
        if actions.is_empty() {
            return true;
        }
        actions.iter().any(|p| match p {
            ActionPattern::Exact(a) => self.may_change(a),
            // A prefix selects an SMS action when either starts with the other (`s*`, `sms.f*`).
            ActionPattern::Prefix(p) => {
                (self.mask_phones && (SMS_ACTION_PREFIX.starts_with(p.as_str()) || is_sms_action(p)))
                    || (self.hide_link_detail && LINK_ACCESS_ACTIONS.iter().any(|a| a.starts_with(p.as_str())))
            }
        })
    }

    /// Whether a redacted copy may hold the search word `w` (lower-cased) where the stored event
    /// does not. Withholding a value writes [`WITHHELD`] in its place and never joins or splits
    /// the words around it, so the only word it adds is `withheld`; masking a number can split a
    /// word in two (`tel447700900123` becomes `tel********0123`), and the number as stored may
    /// hold letters, so any word may be new.
    pub fn may_add_word(self, w: &str) -> bool {
        self.mask_phones || (self.hide_link_detail && w == "withheld")
    }

    /// Whether a redacted copy may hold `v` as a whole value (an actor id or e-mail, a target's
    /// type or id, a session id) where the stored event does not: a value the redaction changed
    /// holds a masked digit (`*`: a masked number has at least five digits, so at least one is
    /// masked) or [`WITHHELD`]. Removed values (an IP, a country, a session) add nothing.
    pub fn may_add_value(self, v: &str) -> bool {
        (self.mask_phones && v.contains('*')) || (self.hide_link_detail && v.contains(WITHHELD))
    }

    /// The copy of `b` a reader with this redaction is shown, or `None` when this redaction
    /// never changes events of its action (`b` is then what they are shown).
    pub fn redacted(self, b: &EventBody) -> Option<EventBody> {
        self.may_change(b.action.as_str()).then(|| {
            let mut copy = b.clone();
            self.apply(&mut copy);
            copy
        })
    }

    /// Whether [`Redaction::apply`] changes `b`.
    pub fn changes(self, b: &EventBody) -> bool {
        self.redacted(b).is_some_and(|copy| copy != *b)
    }

    /// Hides what this redaction says must be, in place.
    pub fn apply(self, b: &mut EventBody) {
        let mut hidden = Vec::new();
        if self.mask_phones
            && is_sms_action(b.action.as_str())
            && let Some(phone) = b.metadata.as_mut().and_then(|m| m.get_mut("phone"))
        {
            mask_phones(phone, &mut hidden);
        }
        if self.hide_link_detail && is_link_access_action(b.action.as_str()) {
            withhold_link_detail(b, &mut hidden);
        }
        if !hidden.is_empty() {
            hide_everywhere(b, &hidden);
        }
    }
}

impl Filter {
    /// Whether a condition of the filter looks at what a redaction may change: every condition
    /// but time, action, category and outcome (which no redaction touches) and the owner
    /// (checked on the stored event). When none does, the redacted copy decides nothing the
    /// stored event does not, and no copy is made.
    pub fn looks_at_redactable(&self) -> bool {
        !(self.actors.is_empty()
            && self.targets.is_empty()
            && self.ips.is_empty()
            && self.countries.is_empty()
            && self.sessions.is_empty())
            || self.q.as_ref().is_some_and(|q| {
                q.terms
                    .iter()
                    .any(|t| !matches!(t.kind, TermKind::Action(_) | TermKind::Category(_) | TermKind::Outcome(_)))
            })
    }

    /// Whether the filter's reader may be shown events it selects differently from how they are
    /// stored, in a way its conditions can tell.
    pub fn sees_redacted(&self) -> bool {
        self.redaction.may_change_any(&self.actions) && self.looks_at_redactable()
    }
}

/// A phone number with every digit but the last four hidden: `+44 7700 900123` -> `+** **** **0123`.
pub fn mask_phone(p: &str) -> String {
    let digits = p.bytes().filter(u8::is_ascii_digit).count();
    let mut seen = 0;
    p.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen <= digits.saturating_sub(4) { '*' } else { c }
            } else {
                c
            }
        })
        .collect()
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

#[cfg(test)]
mod tests;
