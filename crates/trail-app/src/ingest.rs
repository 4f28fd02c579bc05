//! Ingest: a batch of events from a client's bytes to the log (docs/architecture.md, "The
//! ingest path").
//!
//! 1. [`prepare`] parses the body (`trail_core::event::parse_batch`: the count, sizes and every
//!    error with its index before anything is decoded), and each event becomes a
//!    `PreparedEvent` ([`Preparer`]): defaults filled, enriched (GeoIP, user agent), addresses
//!    truncated when the tenant asks for it, serialised once, hashed for idempotency.
//! 2. [`append`] hands the batch to [`App::append`], the one append path, and says what became
//!    of each event ([`Receipt`]).
//!
//! [`ingest`] does both. The HTTP server calls the two halves itself, to let other requests
//! prepare while this one waits for the disk; `trail ingest` validates files first and prepares
//! and appends them a batch at a time with the same [`Preparer`] and [`append`].

use jiff::Timestamp;
use trail_core::{
    TenantId,
    event::{BodyFormat, NewEvent, parse_batch},
    time::truncate_us,
};
use trail_enrich::Enricher;
use trail_store::{PreparedEvent, Tenant};

use crate::{App, AppResult, queries};

/// How a tenant's events are prepared for its log: enriched by `enricher`, with addresses
/// truncated when the tenant's settings say so (`trail_core::privacy`).
pub struct Preparer<'a> {
    enricher: &'a Enricher,
    truncate_ips: bool,
}

impl<'a> Preparer<'a> {
    pub fn new(enricher: &'a Enricher, tenant: &Tenant) -> Preparer<'a> {
        Preparer { enricher, truncate_ips: trail_core::privacy::truncates_ips(&tenant.settings) }
    }

    /// `event`, received at `received_at` (to the microsecond, as stored), ready to append.
    pub fn prepare(&self, event: NewEvent, received_at: Timestamp) -> PreparedEvent {
        PreparedEvent::new(event, received_at, |body| self.enricher.prepare(body, self.truncate_ips))
    }
}

/// The events of a request body (`format`: a JSON array or object, or NDJSON) for tenant `t`,
/// validated against the application's limits and prepared with `enricher`. Nothing is stored.
///
/// The enricher is a parameter because the HTTP server keeps its own (one with a GeoIP database
/// may be set on the server's state alone); [`ingest`] uses the application's.
pub async fn prepare(
    app: &App,
    t: &TenantId,
    body: &[u8],
    format: BodyFormat,
    enricher: &Enricher,
) -> AppResult<Vec<PreparedEvent>> {
    let received_at = truncate_us(Timestamp::now());
    let events = parse_batch(body, format, received_at, app.config().limits)?;
    let tenant = queries::tenant(&**app.store(), t).await?;
    let preparer = Preparer::new(enricher, &tenant);
    Ok(events.into_iter().map(|e| preparer.prepare(e, received_at)).collect())
}

/// Appends prepared events to `t`'s log through [`App::append`] (all or nothing; one notice on
/// the bus if anything new was stored) and says what became of each.
pub async fn append(app: &App, t: &TenantId, events: Vec<PreparedEvent>) -> AppResult<Receipt> {
    let ids: Vec<Option<String>> = events.iter().map(|p| p.body.id.clone()).collect();
    let receipt = app.append(t, events).await?;
    let events =
        receipt.events.iter().zip(ids).map(|(a, id)| Ingested { seq: a.seq, id, duplicate: a.duplicate }).collect();
    Ok(Receipt { events, tree_size: receipt.tree_size })
}

/// [`prepare`] with the application's enricher, then [`append`]: a request body to the log.
pub async fn ingest(app: &App, t: &TenantId, body: &[u8], format: BodyFormat) -> AppResult<Receipt> {
    let events = prepare(app, t, body, format, app.enricher()).await?;
    append(app, t, events).await
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Every event of the batch, in the order sent.
    pub events: Vec<Ingested>,
    /// The tenant's tree size (its event count) after the append.
    pub tree_size: u64,
}

impl Receipt {
    /// Events of the batch already in the log (same `id`, same body): stored once, not again.
    pub fn duplicates(&self) -> usize {
        self.events.iter().filter(|e| e.duplicate).count()
    }

    /// Events the batch added to the log.
    pub fn stored(&self) -> usize {
        self.events.len() - self.duplicates()
    }
}

/// One event of a batch: its seq (a duplicate's is the first copy's), and its client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub seq: u64,
    pub id: Option<String>,
    pub duplicate: bool,
}
