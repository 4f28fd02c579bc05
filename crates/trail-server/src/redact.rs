//! What a reader may not see of an event they may see: SMS phone numbers (`metadata.phone` of
//! `sms.*` events) show whole only to those who administer the tenant, masked to their last
//! four digits for everyone else (SPEC 2.3), on every route that returns events, as in exports.
//! The stored event, its leaf and its proofs are untouched: only the copy sent is masked.

use serde_json::Value;
use trail_core::{TenantId, event::StoredEvent, ids::Scope};

use crate::auth::Principal;

/// Whether `who` reads `tenant`'s events with phone numbers masked.
pub fn masks_phones(who: &Principal, tenant: &TenantId) -> bool {
    !who.grants(tenant, Scope::Admin)
}

/// Masks what `mask` says must be, in place.
pub fn event(e: &mut StoredEvent, mask: bool) {
    if mask
        && e.body.action.as_str().starts_with("sms.")
        && let Some(Value::String(phone)) = e.body.metadata.as_mut().and_then(|m| m.get_mut("phone"))
    {
        *phone = trail_export::views::mask_phone(phone);
    }
}
