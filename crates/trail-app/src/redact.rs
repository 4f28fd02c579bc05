//! Who is shown what: the application's half of redaction. The rules (what a masked phone number or
//! withheld link detail looks like, wherever the event writes it, and how a reader's filter
//! matches what they are shown) are `trail_core::redaction`'s; here is who they apply to:
//!
//! - SMS phone numbers show whole only to those who administer the tenant, masked to their last
//!   four digits for everyone else;
//! - link access events of a tenant whose plan has no link detail show dates only.
//!
//! Every route that returns events, or answers from them (counts, the histogram, exports, the
//! live stream), redacts its copies with [`event`] and sets the reader's redaction on the filter
//! it queries with ([`of`]), so a search cannot confirm a value the reader is not shown. A leaf
//! holds metadata and location in clear, so the leaf route refuses a reader whose redaction
//! changes the event ([`changes`]).

use trail_core::{
    TenantId,
    event::{Activity, StoredEvent},
    ids::Scope,
    redaction::{is_link_access_action, is_sms_action},
};

pub use trail_core::redaction::{Redaction, WITHHELD};

use crate::{AppConfig, access::Principal};

/// What `who` reading `tenant`, whose plan is `plan`, is not shown.
pub fn of(who: &Principal, tenant: &TenantId, config: &AppConfig, plan: &str) -> Redaction {
    Redaction { mask_phones: masks_phones(who, tenant), hide_link_detail: !config.plan(plan).link_detail }
}

/// Whether `who` reads `tenant`'s events with phone numbers masked.
pub fn masks_phones(who: &Principal, tenant: &TenantId) -> bool {
    !who.grants(tenant, Scope::Admin)
}

/// Whether an event is a link access event (the link access log's rows).
pub fn is_link_access(e: &StoredEvent) -> bool {
    is_link_access_action(e.body.action.as_str())
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
    r.changes(&e.body)
}

/// Hides what `r` says must be, in place.
pub fn event(e: &mut StoredEvent, r: Redaction) {
    r.apply(&mut e.body);
}
