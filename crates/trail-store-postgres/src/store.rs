//! [`PgStore`]: the storage roles (`trail_store::roles`) over a connection pool, one `impl` per
//! role; exports read whole events ([`ExportReads`]'s default bodies).

use std::{collections::HashMap, str::FromStr, sync::Arc, sync::Mutex};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use jiff::Timestamp;
use tokio_postgres::{IsolationLevel, NoTls};
use trail_core::{
    TenantId,
    event::StoredEvent,
    filter::{Filter, Page},
    merkle::Hash,
};
use trail_store::{
    Accounts, ActionCount, ActorSummary, ApiKey, AppendReceipt, ErasureReport, ErasureRequest, EventLog, EventPage,
    ExportReads, LinkSummary, LoginSummary, Maintenance, Member, MemberPatch, NewApiKey, NewMember, NewTenant,
    PreparedEvent, PurgeReport, PurgeRule, RecentPage, RollupKind, Rollups, Session, StoreError, StoreResult,
    StoredCheckpoint, Tenant, TenantPatch, Tree, UsageSummary, VerifyReport, tree::Edge,
};

use crate::{
    error::{PgResultExt, from_pool},
    partitions::Partitions,
};

/// The PostgreSQL store. Cheap to clone; clones share one pool.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pool: Pool,
    pub(crate) partitions: Partitions,
    /// The right edge of each tenant's tree as this server last wrote it; used only when the
    /// tenant's `next_seq` (read under its lock) says no other server appended since.
    pub(crate) edges: Mutex<HashMap<TenantId, Edge>>,
    pub(crate) options: PgOptions,
}

/// How a store is opened.
#[derive(Debug, Clone, Copy)]
pub struct PgOptions {
    /// Keep each tenant's Merkle tree (the default); only benchmarks turn it off.
    pub merkle_tree: bool,
    /// Connections in the pool.
    pub pool_size: usize,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions { merkle_tree: true, pool_size: 16 }
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`) and brings
    /// its schema up to date.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, PgOptions::default()).await
    }

    /// [`PgStore::connect`] with options.
    pub async fn connect_with(url: &str, options: PgOptions) -> StoreResult<Self> {
        // The URL may hold a password: errors name what is wrong, never the URL.
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("the PostgreSQL URL is not valid: {e}")))?;
        config.application_name("trail");
        // Acknowledged means durable, whatever the database's default.
        config.options("-c synchronous_commit=on");
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(2))
            .build()
            .map_err(|e| StoreError::Unavailable(format!("cannot make a PostgreSQL pool: {e}")))?;
        let store = PgStore {
            inner: Arc::new(Inner {
                pool,
                partitions: Partitions::default(),
                edges: Mutex::new(HashMap::new()),
                options,
            }),
        };
        let mut client = store.client().await?;
        crate::schema::migrate(&mut client).await?;
        Ok(store)
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> StoreResult<Object> {
        self.inner.pool.get().await.map_err(from_pool)
    }

    /// The tenant's next seq, or `NotFound`.
    pub(crate) async fn next_seq(client: &tokio_postgres::Client, tenant: &TenantId) -> StoreResult<u64> {
        let row = client
            .query_typed_opt(
                "SELECT next_seq FROM tenants WHERE tenant_id = $1",
                &[(&tenant.as_str(), tokio_postgres::types::Type::TEXT)],
            )
            .await
            .pg()?
            .ok_or_else(|| StoreError::NotFound(format!("tenant {tenant}")))?;
        Ok(row.get::<_, i64>(0) as u64)
    }
}

/// Takes the tenant's append lock (its row, until `tx` ends) and returns its next seq, or
/// `NotFound`. Appends, purges and erasures of one tenant take turns through it, on every server.
pub(crate) async fn lock_tenant(tx: &tokio_postgres::Transaction<'_>, tenant: &TenantId) -> StoreResult<u64> {
    let row = tx
        .query_opt("SELECT next_seq FROM tenants WHERE tenant_id = $1 FOR UPDATE", &[&tenant.as_str()])
        .await
        .pg()?
        .ok_or_else(|| StoreError::NotFound(format!("tenant {tenant}")))?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// A read-only transaction on one snapshot of the database (`REPEATABLE READ`).
pub(crate) async fn snapshot(client: &mut Object) -> StoreResult<deadpool_postgres::Transaction<'_>> {
    client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await.pg()
}

/// A stored time (microseconds) as a timestamp.
pub(crate) fn ts(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(crate) fn now_us() -> i64 {
    Timestamp::now().as_microsecond()
}

#[async_trait]
impl Accounts for PgStore {
    async fn create_tenant(&self, t: NewTenant) -> StoreResult<Tenant> {
        crate::accounts::create_tenant(self, t).await
    }

    async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        crate::accounts::tenants(self).await
    }

    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        crate::accounts::tenant(&**self.client().await?, id).await
    }

    async fn update_tenant(&self, id: &TenantId, patch: TenantPatch) -> StoreResult<Tenant> {
        crate::accounts::update_tenant(self, id, patch).await
    }

    async fn create_api_key(&self, tenant: &TenantId, key: NewApiKey) -> StoreResult<ApiKey> {
        crate::accounts::create_api_key(self, tenant, key).await
    }

    async fn api_keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKey>> {
        crate::accounts::api_keys(self, tenant).await
    }

    async fn revoke_api_key(&self, tenant: &TenantId, key_id: &str) -> StoreResult<ApiKey> {
        crate::accounts::revoke_api_key(self, tenant, key_id).await
    }

    async fn api_key_by_token_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiKey>> {
        crate::accounts::api_key_by_token_hash(self, token_hash).await
    }

    async fn create_member(&self, tenant: &TenantId, member: NewMember) -> StoreResult<Member> {
        crate::accounts::create_member(self, tenant, member).await
    }

    async fn members(&self, tenant: &TenantId) -> StoreResult<Vec<Member>> {
        crate::accounts::members(self, tenant).await
    }

    async fn member(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Member>> {
        crate::accounts::member(&**self.client().await?, tenant, id).await
    }

    async fn member_login(&self, tenant: &TenantId, email: &str) -> StoreResult<Option<(Member, String)>> {
        crate::accounts::member_login(self, tenant, email).await
    }

    async fn update_member(&self, tenant: &TenantId, id: &str, patch: MemberPatch) -> StoreResult<Member> {
        crate::accounts::update_member(self, tenant, id, patch).await
    }

    async fn delete_member(&self, tenant: &TenantId, id: &str) -> StoreResult<()> {
        crate::accounts::delete_member(self, tenant, id).await
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        crate::accounts::create_session(self, session).await
    }

    async fn session(&self, id_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        crate::accounts::session(self, id_hash).await
    }

    async fn delete_session(&self, id_hash: &[u8; 32]) -> StoreResult<()> {
        crate::accounts::delete_session(self, id_hash).await
    }

    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let client = self.client().await?;
        let row = client.query_opt("SELECT value FROM server_settings WHERE key = $1", &[&key]).await.pg()?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO server_settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .await
            .pg()?;
        Ok(())
    }
}

#[async_trait]
impl EventLog for PgStore {
    async fn append(&self, tenant: &TenantId, events: Vec<PreparedEvent>) -> StoreResult<AppendReceipt> {
        crate::append::append(self, tenant, events).await
    }

    async fn query(&self, tenant: &TenantId, filter: &Filter, page: Page) -> StoreResult<EventPage> {
        crate::query::run(self, tenant, filter, page).await
    }

    async fn event(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<StoredEvent>> {
        crate::query::event(self, tenant, seq).await
    }

    async fn events_after(&self, tenant: &TenantId, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        crate::query::events_after(self, tenant, after, limit).await
    }

    async fn count_buckets(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        boundaries: &[Timestamp],
    ) -> StoreResult<Vec<u64>> {
        crate::query::count_buckets(self, tenant, filter, boundaries).await
    }

    async fn first_occurred_at(&self, tenant: &TenantId) -> StoreResult<Option<Timestamp>> {
        crate::query::first_occurred_at(self, tenant).await
    }
}

/// Whole events, rendered on a blocking thread: the default bodies.
impl ExportReads for PgStore {}

#[async_trait]
impl Rollups for PgStore {
    async fn actors(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<ActorSummary>> {
        crate::rollups::actors(self, tenant, page).await
    }

    async fn person(
        &self,
        tenant: &TenantId,
        ids: &[String],
        emails: &[String],
    ) -> StoreResult<trail_store::identity::Person> {
        crate::identity::person(self, tenant, ids, emails).await
    }

    async fn actions(&self, tenant: &TenantId) -> StoreResult<Vec<ActionCount>> {
        crate::rollups::actions(self, tenant).await
    }

    async fn logins(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<LoginSummary>> {
        crate::rollups::logins(self, tenant, page).await
    }

    async fn usage(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<UsageSummary>> {
        crate::rollups::usage(self, tenant, page).await
    }

    async fn links(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<LinkSummary>> {
        crate::rollups::links(self, tenant, page).await
    }

    async fn active_in(
        &self,
        tenant: &TenantId,
        kind: RollupKind,
        from: Timestamp,
        to: Timestamp,
        after: Option<(Timestamp, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(Timestamp, String)>> {
        crate::rollups::active_in(self, tenant, kind, from, to, after, limit).await
    }
}

#[async_trait]
impl Tree for PgStore {
    async fn leaf_hash(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Hash>> {
        crate::tree::leaf_hash(self, tenant, seq).await
    }

    async fn leaf_data(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Vec<u8>>> {
        crate::query::leaf_data(self, tenant, seq).await
    }

    async fn tree_root(&self, tenant: &TenantId, size: u64) -> StoreResult<Hash> {
        crate::tree::root(self, tenant, size).await
    }

    async fn inclusion_proof(&self, tenant: &TenantId, seq: u64, size: u64) -> StoreResult<Vec<Hash>> {
        crate::tree::inclusion_proof(self, tenant, seq, size).await
    }

    async fn consistency_proof(&self, tenant: &TenantId, from: u64, to: u64) -> StoreResult<Vec<Hash>> {
        crate::tree::consistency_proof(self, tenant, from, to).await
    }

    async fn add_checkpoint(&self, tenant: &TenantId, checkpoint: StoredCheckpoint) -> StoreResult<()> {
        crate::tree::add_checkpoint(self, tenant, checkpoint).await
    }

    async fn latest_checkpoint(&self, tenant: &TenantId) -> StoreResult<Option<StoredCheckpoint>> {
        crate::tree::latest_checkpoint(self, tenant).await
    }
}

#[async_trait]
impl Maintenance for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        self.client().await?.query_one("SELECT 1", &[]).await.pg().map(|_| ())
    }

    async fn purge(&self, tenant: &TenantId, rule: &PurgeRule) -> StoreResult<PurgeReport> {
        crate::purge::purge(self, tenant, rule).await
    }

    async fn erase(&self, tenant: &TenantId, request: &ErasureRequest) -> StoreResult<ErasureReport> {
        crate::erase::erase(self, tenant, request).await
    }

    async fn verify_log(&self, tenant: &TenantId, public_key: &[u8; 32]) -> StoreResult<VerifyReport> {
        let public = ed25519_dalek::VerifyingKey::from_bytes(public_key)
            .map_err(|e| StoreError::Internal(format!("the public key is not valid: {e}").into()))?;
        let r = crate::verify::verify_tenant(self, tenant, &public, &Default::default(), &|_| {}).await?;
        Ok(VerifyReport {
            events: r.events,
            checkpoints: r.checkpoints,
            problem: r.problem.map(|p| (p.seq, p.message)),
        })
    }
}
