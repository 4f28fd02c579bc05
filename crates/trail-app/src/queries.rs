//! Queries: a tenant found, a reader's filter built from query parameters, and the events it
//! finds as that reader is shown them.
//!
//! A reader is narrowed and redacted in one place ([`Reader`]): a `member` sees only their own
//! events, and whoever reads has their filter carry what they are not shown, so a search cannot
//! confirm a hidden value and the events come back redacted the same way ([`page`]). The API's
//! events list, stream, timeline, reports and exports, the console's Activity and event pages
//! and the CLI's `trail query` all build their filters here.
//!
//! Functions that only read take the store; those that need the application's configuration
//! (a reader's redaction depends on the tenant's plan) take the [`App`]. `trail query` reads
//! without an `App`: building one loads (or creates) the signing key, which a read must not.

use jiff::{Timestamp, tz::TimeZone};
use trail_core::{
    TenantId,
    event::StoredEvent,
    filter::{Filter, Owner, Page, parse_params},
    redaction::Redaction,
};
use trail_store::{EventPage, Store, Tenant};

use crate::{App, AppError, AppResult, access::Principal, identity, redact};

/// The tenant, or the same "not found" whoever asks.
pub async fn tenant(store: &dyn Store, t: &TenantId) -> AppResult<Tenant> {
    store.tenant(t).await?.ok_or_else(|| AppError::NotFound(format!("tenant {t}")))
}

/// The tenant's time zone (a stored tenant's zone is one Trail checked when it was set).
pub fn time_zone(tenant: &Tenant) -> AppResult<TimeZone> {
    trail_core::time::time_zone(&tenant.time_zone).map_err(AppError::internal)
}

/// What a reader's filters carry beyond the request's parameters: whose events they see and
/// what they are not shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reader {
    /// `Some` for a `member`: only these people's events.
    pub owner: Option<Owner>,
    pub redaction: Redaction,
}

impl Reader {
    /// Every event, whole: the operator's own tools over the data (`trail query`).
    pub fn whole() -> Reader {
        Reader { owner: None, redaction: Redaction::NONE }
    }

    /// `who` reading `tenant`'s events.
    pub fn of(app: &App, who: &Principal, tenant: &Tenant) -> Reader {
        Reader { owner: who.owner().cloned(), redaction: redact::of(who, &tenant.id, app.config(), &tenant.plan) }
    }
}

/// The filter and page `pairs` ask for, their times read in `tz`, for `reader`, with the people
/// it names widened through the tenant's identity links (`identity::resolve`). `extra` names
/// the parameters the caller handles itself; any other unknown name is an invalid parameter.
pub async fn filter<'a>(
    store: &dyn Store,
    t: &TenantId,
    tz: &TimeZone,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    extra: &[&str],
    reader: &Reader,
) -> AppResult<(Filter, Page)> {
    let (mut filter, page) = parse_params(pairs, tz, Timestamp::now(), extra)?;
    filter.owner = reader.owner.clone();
    // The filter sees the events as this reader is shown them: no search confirms a value
    // hidden from them.
    filter.redaction = reader.redaction;
    identity::resolve(store, t, &mut filter).await?;
    Ok((filter, page))
}

/// What a filtered request asks for: the filter and page from its query parameters (with
/// `extra` parameters allowed and kept), resolved in the tenant's time zone for its reader.
#[derive(Debug)]
pub struct Filtered {
    pub tenant: Tenant,
    pub tz: TimeZone,
    pub filter: Filter,
    pub page: Page,
    /// The query parameters as given.
    pub pairs: Vec<(String, String)>,
}

impl Filtered {
    /// The value of an extra parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Whether the request set the time range itself (`range`, `from` or `to`).
    pub fn has_time(&self) -> bool {
        self.pairs.iter().any(|(k, _)| matches!(k.as_str(), "range" | "from" | "to"))
    }
}

/// The filter of `who`'s request on `t` with query parameters `pairs`: narrowed to their own
/// events when they are a `member`, and redacted as they are shown events ([`Reader::of`]).
pub async fn filtered(
    app: &App,
    who: &Principal,
    t: &TenantId,
    pairs: Vec<(String, String)>,
    extra: &[&str],
) -> AppResult<Filtered> {
    let tenant = tenant(&**app.store(), t).await?;
    let tz = time_zone(&tenant)?;
    let reader = Reader::of(app, who, &tenant);
    let params = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let (filter, page) = filter(&**app.store(), t, &tz, params, extra, &reader).await?;
    Ok(Filtered { tenant, tz, filter, page, pairs })
}

/// One page of the events `filter` selects, newest first, each redacted as the filter's reader
/// is shown it (`filter.redaction`, which [`filter`] set).
pub async fn page(store: &dyn Store, t: &TenantId, filter: &Filter, page: Page) -> AppResult<EventPage> {
    let mut result = store.query(t, filter, page).await?;
    result.events.iter_mut().for_each(|e| redact::event(e, filter.redaction));
    Ok(result)
}

/// One event `who` may see, as stored: anyone's for managers and up, only their own for a
/// `member` (another's is the same "not found" as a missing one).
pub async fn visible_event(store: &dyn Store, who: &Principal, t: &TenantId, seq: u64) -> AppResult<StoredEvent> {
    let owner = match who.owner() {
        Some(o) => Some(identity::owner(store, t, o).await?),
        None => None,
    };
    match store.event(t, seq).await? {
        Some(e) if owner.is_none_or(|o| o.owns(&e.body)) => Ok(e),
        _ => Err(AppError::NotFound(format!("event {seq}"))),
    }
}

/// One event `who` may see ([`visible_event`]), as they are shown it.
pub async fn event(app: &App, who: &Principal, t: &TenantId, seq: u64) -> AppResult<StoredEvent> {
    let mut event = visible_event(&**app.store(), who, t, seq).await?;
    let plan = tenant(&**app.store(), t).await?.plan;
    redact::event(&mut event, redact::of(who, t, app.config(), &plan));
    Ok(event)
}
