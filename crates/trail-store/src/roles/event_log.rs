//! [`EventLog`]: a tenant's log of events, appended to and read.

use async_trait::async_trait;
use trail_core::{
    TenantId,
    event::StoredEvent,
    filter::{Filter, Page},
};

use crate::{AppendReceipt, EventPage, PreparedEvent, StoreResult};

/// Each tenant's log: events appended in batches, each given the tenant's next seq, and read
/// back by seq, by filter (newest first, a page at a time) or as counts over time.
///
/// Writes are durable when they return `Ok`: a backend acknowledges an append only after the
/// events are on disk (SQLite: the WAL fsynced; PostgreSQL: the commit flushed).
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends a batch, all or nothing: each new event gets the tenant's next seq, an event
    /// whose `id` was seen before is reported as a duplicate of the first one, and an `id` seen
    /// before with a different body fails the whole batch with [`StoreError::Conflict`].
    ///
    /// [`StoreError::Conflict`]: crate::StoreError::Conflict
    async fn append(&self, tenant: &TenantId, events: Vec<PreparedEvent>) -> StoreResult<AppendReceipt>;
    /// One page of events matching `filter`, newest first (`occurred_at`, then `seq`, descending).
    async fn query(&self, tenant: &TenantId, filter: &Filter, page: Page) -> StoreResult<EventPage>;
    /// One event by seq.
    async fn event(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<StoredEvent>>;
    /// Up to `limit` events with seq greater than `after`, in seq order (for the live stream,
    /// which follows the order events were accepted in, not `occurred_at`).
    async fn events_after(&self, tenant: &TenantId, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>>;
    /// How many events matching `filter` fall in each interval `[boundaries[i], boundaries[i+1])`
    /// (so the answer has one fewer entry than `boundaries`, which must be ascending).
    async fn count_buckets(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        boundaries: &[jiff::Timestamp],
    ) -> StoreResult<Vec<u64>>;
    /// The earliest `occurred_at` of the tenant's events, if it has any.
    async fn first_occurred_at(&self, tenant: &TenantId) -> StoreResult<Option<jiff::Timestamp>>;
}
