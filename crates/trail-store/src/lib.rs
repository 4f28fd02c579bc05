//! The storage boundary of Trail.
//!
//! [`Store`] is everything the server needs from a database. Each backend is a sibling crate
//! (`trail-store-sqlite`, later `trail-store-postgres`) and must pass the [`conformance`] suite,
//! which is the executable definition of the trait's contract: seq numbering, idempotency,
//! all-or-nothing batches, ordering and paging, tenant isolation.
//!
//! The binary chooses a backend once, at start-up, from a [`StoreLocation`]; an unknown URL
//! scheme is an error there, not a surprise later.

pub mod conformance;
mod error;
pub mod identity;
pub mod journal;
mod location;
pub mod record;
mod rendered;
pub mod rollup;
pub mod tree;
mod types;
pub mod unreadable;
pub mod verify;

use async_trait::async_trait;
pub use error::{StoreError, StoreResult};
pub use location::StoreLocation;
pub use rendered::{RenderRow, RenderedPage, cursor_after};
use trail_core::{
    TenantId,
    event::StoredEvent,
    filter::{Filter, Page},
    merkle::Hash,
};
pub use types::*;

/// A Trail database. Every method that reads or writes a tenant's data takes that tenant's
/// [`TenantId`]; nothing a method returns ever belongs to another tenant.
///
/// Writes are durable when they return `Ok`: a backend acknowledges an append only after the
/// events are on disk (SQLite: the WAL fsynced; PostgreSQL: the commit flushed).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Whether the store can answer (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Creates a tenant; [`StoreError::AlreadyExists`] if its id is taken.
    async fn create_tenant(&self, tenant: NewTenant) -> StoreResult<Tenant>;
    /// Every tenant, ordered by id.
    async fn tenants(&self) -> StoreResult<Vec<Tenant>>;
    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
    /// Changes what the patch names; [`StoreError::NotFound`] for an unknown tenant.
    async fn update_tenant(&self, id: &TenantId, patch: TenantPatch) -> StoreResult<Tenant>;

    async fn create_api_key(&self, tenant: &TenantId, key: NewApiKey) -> StoreResult<ApiKey>;
    /// A tenant's keys, newest first, revoked ones included (with `revoked_at`).
    async fn api_keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKey>>;
    /// Revokes a key; revoking a revoked key keeps its first `revoked_at`.
    async fn revoke_api_key(&self, tenant: &TenantId, key_id: &str) -> StoreResult<ApiKey>;
    /// The key whose token hashes to `token_hash`, revoked or not, for authentication.
    async fn api_key_by_token_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiKey>>;

    /// Adds a console member; [`StoreError::AlreadyExists`] if the e-mail is taken in the tenant.
    async fn create_member(&self, tenant: &TenantId, member: NewMember) -> StoreResult<Member>;
    /// A tenant's members, by e-mail.
    async fn members(&self, tenant: &TenantId) -> StoreResult<Vec<Member>>;
    async fn member(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Member>>;
    /// The member with this e-mail (compared case-insensitively) and their password hash, to
    /// sign in.
    async fn member_login(&self, tenant: &TenantId, email: &str) -> StoreResult<Option<(Member, String)>>;
    async fn update_member(&self, tenant: &TenantId, id: &str, patch: MemberPatch) -> StoreResult<Member>;
    /// Removes a member and ends their sessions.
    async fn delete_member(&self, tenant: &TenantId, id: &str) -> StoreResult<()>;

    async fn create_session(&self, session: Session) -> StoreResult<()>;
    /// The session whose token hashes to `id_hash`, if it exists and has not expired.
    async fn session(&self, id_hash: &[u8; 32]) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, id_hash: &[u8; 32]) -> StoreResult<()>;

    /// Appends a batch, all or nothing: each new event gets the tenant's next seq, an event
    /// whose `id` was seen before is reported as a duplicate of the first one, and an `id` seen
    /// before with a different body fails the whole batch with [`StoreError::Conflict`].
    async fn append(&self, tenant: &TenantId, events: Vec<PreparedEvent>) -> StoreResult<AppendReceipt>;
    /// One page of events matching `filter`, newest first (`occurred_at`, then `seq`, descending).
    async fn query(&self, tenant: &TenantId, filter: &Filter, page: Page) -> StoreResult<EventPage>;
    /// [`Store::query`] for a reader that looks only at `fields` of each event (an export of
    /// the activity columns): the events may lack the other fields, which a backend need not
    /// decode. Matches are the same as [`Store::query`]'s. By default, whole events.
    async fn query_fields(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        page: Page,
        fields: trail_core::event::Fields,
    ) -> StoreResult<EventPage> {
        let _ = fields;
        self.query(tenant, filter, page).await
    }
    /// [`Store::query_fields`] with each matching event rendered by `render` (an export's rows;
    /// see [`RenderedPage`]): the same events, in the same order, with the same cursor. By
    /// default the page is rendered on a blocking thread of the runtime (formatting thousands
    /// of rows would hold up the tasks of an async worker); SQLite renders each event on the
    /// thread that decoded it.
    async fn query_rendered(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        page: Page,
        fields: trail_core::event::Fields,
        render: std::sync::Arc<dyn RenderRow>,
    ) -> StoreResult<RenderedPage> {
        let events = self.query_fields(tenant, filter, page, fields).await?;
        tokio::task::spawn_blocking(move || RenderedPage::of_events(events, &*render))
            .await
            .map_err(|e| StoreError::Internal(format!("rendering a page of rows stopped: {e}").into()))
    }
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

    /// The people seen as actors (the users report), by their latest event.
    async fn actors(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<ActorSummary>>;
    /// Everything that identifies the people some actor ids and e-mails name, through the
    /// tenant's identity table ([`identity`]): the ids `emails` are linked to, and every
    /// spelling of the e-mails linked to those ids or to `ids`, and of `emails` themselves
    /// (e-mails compared case-insensitively). An id or e-mail nobody linked adds nothing. (The
    /// `actor` filter passes each value as both; a member's id is only an id.)
    async fn person(&self, tenant: &TenantId, ids: &[String], emails: &[String]) -> StoreResult<identity::Person>;
    /// The actions the tenant's log holds, by name, with their counts.
    async fn actions(&self, tenant: &TenantId) -> StoreResult<Vec<ActionCount>>;

    /// The leaf hash of event `seq` in the tenant's Merkle tree.
    async fn leaf_hash(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Hash>>;
    /// The data leaf `seq` hashes: the event's canonical form with commitments in place of
    /// personal values (`trail_core::canonical`).
    async fn leaf_data(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Vec<u8>>>;
    /// The root of the tenant's tree when it held `size` events (1 <= size <= event count).
    async fn tree_root(&self, tenant: &TenantId, size: u64) -> StoreResult<Hash>;
    /// The inclusion proof of event `seq` in the tree of `size` events (1 <= seq <= size).
    async fn inclusion_proof(&self, tenant: &TenantId, seq: u64, size: u64) -> StoreResult<Vec<Hash>>;
    /// The consistency proof between the trees of `from` and `to` events (1 <= from <= to).
    async fn consistency_proof(&self, tenant: &TenantId, from: u64, to: u64) -> StoreResult<Vec<Hash>>;
    /// Keeps a signed checkpoint of the tenant's tree.
    async fn add_checkpoint(&self, tenant: &TenantId, checkpoint: StoredCheckpoint) -> StoreResult<()>;
    /// The tenant's latest checkpoint (the largest tree size).
    async fn latest_checkpoint(&self, tenant: &TenantId) -> StoreResult<Option<StoredCheckpoint>>;

    /// The login rollup (behind the login report): people seen in `auth.login.*`, by their latest
    /// attempt.
    async fn logins(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<LoginSummary>>;
    /// The usage rollup (behind the usage report): people seen in `file.*`, by their latest one.
    async fn usage(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<UsageSummary>>;
    /// The link rollup: links seen in `link.*` (by target id), by their latest event; `only`
    /// names link ids.
    async fn links(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<LinkSummary>>;
    /// The keys of a rollup's rows with activity in `[from, to)` (both multiples of
    /// [`ACTIVITY_BUCKET_US`]), by their latest activity in that range, newest first (ties by
    /// key), after `after` (`(latest in range, key)` of the previous page's last row), at most
    /// `limit`: `(latest activity in the range, key)`. Costs O(rows returned), not O(people).
    async fn active_in(
        &self,
        tenant: &TenantId,
        kind: RollupKind,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
        after: Option<(jiff::Timestamp, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(jiff::Timestamp, String)>>;

    /// Removes the events `rule` selects (their contents; their leaf hashes stay in the tree)
    /// and the rollup rows of people and links with nothing left in range. Idempotent.
    async fn purge(&self, tenant: &TenantId, rule: &PurgeRule) -> StoreResult<PurgeReport>;

    /// Erases personal fields from events (their values and salts; the leaves keep their
    /// commitments) and the person's rollup rows, leaving no copy of the values in the store's
    /// files (old row versions included).
    async fn erase(&self, tenant: &TenantId, request: &ErasureRequest) -> StoreResult<ErasureReport>;

    /// Checks the tenant's whole log as `trail verify` does (every leaf recomputed from the
    /// stored event, the tree rebuilt, every checkpoint's signature by `public_key` and
    /// consistency), against one consistent snapshot while appends go on.
    async fn verify_log(&self, tenant: &TenantId, public_key: &[u8; 32]) -> StoreResult<VerifyReport>;

    /// A server-wide setting (such as the operator key's hash).
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;
}

/// The clock the conformance suite stamps events with.
fn types_now() -> jiff::Timestamp {
    trail_core::time::truncate_us(jiff::Timestamp::now())
}
