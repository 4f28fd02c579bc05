//! What a reader may not see of an event they may see, on every route that returns events
//! (query, one event, stream, views, exports, console pages):
//!
//! - SMS phone numbers (`metadata.phone` of `sms.*` events) show whole only to those who
//!   administer the tenant, masked to their last four digits for everyone else;
//! - link access events (`link.viewed`, `link.saved`) of a tenant whose plan has no link
//!   detail show dates only: no e-mail or name, IP, location, platform or session (docs/configuration.md).
//!
//! The stored event, its leaf and its proofs are untouched: only the copy sent is changed.

use serde_json::Value;
use trail_core::{TenantId, event::StoredEvent, ids::Scope};

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

/// Whether [`event`] changes what the activity columns show of an event with `action`: rows
/// made without the typed event (a CSV export's) are made from the typed event instead when
/// it does. Phone numbers are metadata, which those columns do not show.
pub fn changes_activity(r: Redaction, action: &str) -> bool {
    r.hide_link_detail && is_link_access_action(action)
}

/// Hides what `r` says must be, in place.
pub fn event(e: &mut StoredEvent, r: Redaction) {
    if r.mask_phones
        && e.body.action.as_str().starts_with("sms.")
        && let Some(Value::String(phone)) = e.body.metadata.as_mut().and_then(|m| m.get_mut("phone"))
    {
        *phone = trail_export::views::mask_phone(phone);
    }
    if r.hide_link_detail && is_link_access(e) {
        if let Some(a) = e.body.actor.as_mut() {
            a.email = None;
            a.name = None;
        }
        if let Some(c) = e.body.context.as_deref_mut() {
            c.ip = None;
            c.location = None;
            c.client = None;
            c.user_agent = None;
            c.session_id = None;
        }
    }
}
