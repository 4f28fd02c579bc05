//! [`MemStore`]: the event log, the accounts and the tree kept in memory, for the application's
//! own fast tests (feature `memory`).
//!
//! It implements [`EventLog`], [`Accounts`] and [`Tree`] fully, by the same contract as the
//! backends (the conformance suite's cases for those roles run against it:
//! `tests/memory.rs`): seqs from 1 per tenant with no gap, a resent `id` reported as a
//! duplicate and a reused one as a [`StoreError::Conflict`] that stores nothing of its batch,
//! newest-first pages walked by cursor on a snapshot, tenants that never see each other's
//! data. Matches are [`Filter::matches`], the reference every backend is tested against and
//! what the live stream checks events with. Exports read it by [`ExportReads`]'s default
//! bodies (whole events).
//!
//! It is deliberately not a [`crate::Store`]: it keeps no rollups and has nothing to purge,
//! erase or verify, and it does not pretend to. Code that needs only the roles it has takes
//! `&dyn EventLog` (or `&dyn Accounts`, `&dyn Tree`) and can be tested over it. Nothing is
//! written anywhere: a dropped store is gone.
//!
//! Every method takes one lock for its whole work and never holds it across an `await`, so
//! each call is atomic (an append is all or nothing, a page is read from one state of the log).

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    ops::Bound,
    sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard},
};

use async_trait::async_trait;
use jiff::Timestamp;
use trail_core::{
    TenantId,
    event::{EventBody, StoredEvent},
    filter::{Filter, Page},
    merkle::{self, Hash, NodeSource},
};

use crate::{
    Accounts, ApiKey, AppendReceipt, Appended, EventLog, EventPage, ExportReads, Member, MemberPatch, NewApiKey,
    NewMember, NewTenant, PreparedEvent, Session, StoreError, StoreResult, StoredCheckpoint, Tenant, TenantPatch, Tree,
    bucket_bounds,
};

/// A store in memory. `MemStore::default()` is empty; share it as `Arc<MemStore>`.
#[derive(Default)]
pub struct MemStore {
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    /// By id, so listing them is ordered by id.
    tenants: BTreeMap<TenantId, TenantData>,
    /// Every API key's token hash, to its tenant and key id.
    tokens: HashMap<[u8; 32], (TenantId, String)>,
    sessions: HashMap<[u8; 32], Session>,
    settings: HashMap<String, String>,
}

struct TenantData {
    /// `event_count` is the log's length, set when the tenant is read.
    tenant: Tenant,
    keys: Vec<ApiKey>,
    /// Each member with their password hash.
    members: Vec<(Member, String)>,
    log: Log,
}

/// One tenant's events and what is kept beside them.
#[derive(Default)]
struct Log {
    /// Event `seq` at index `seq - 1`.
    events: Vec<Kept>,
    /// `(occurred_at in microseconds, seq)` of every event: the order of queries, newest last.
    by_time: BTreeSet<(i64, u64)>,
    /// Each client `id` seen, with its first event's seq and request digest.
    ids: HashMap<String, (u64, [u8; 16])>,
    tree: Levels,
    checkpoints: BTreeMap<u64, StoredCheckpoint>,
}

struct Kept {
    body: EventBody,
    /// The stored record (`crate::record`), which the leaf data is read from as a backend does.
    record: Vec<u8>,
}

/// Every complete subtree of a tree: `0[h][i]` covers leaves `[i * 2^h, (i + 1) * 2^h)`.
#[derive(Default)]
struct Levels(Vec<Vec<Hash>>);

impl Levels {
    fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        for height in 0.. {
            if self.0.len() == height {
                self.0.push(Vec::new());
            }
            let level = &mut self.0[height];
            level.push(node);
            let n = level.len();
            if n % 2 == 1 {
                return;
            }
            node = merkle::node_hash(&level[n - 2], &level[n - 1]);
        }
    }

    fn size(&self) -> u64 {
        self.0.first().map_or(0, |leaves| leaves.len() as u64)
    }
}

impl NodeSource for Levels {
    type Error = StoreError;

    fn node(&self, height: u8, index: u64) -> StoreResult<Hash> {
        self.0.get(height as usize).and_then(|level| level.get(index as usize)).copied().ok_or_else(|| {
            StoreError::Internal(
                format!("no node at height {height}, index {index} in a tree of {}", self.size()).into(),
            )
        })
    }
}

fn now() -> Timestamp {
    trail_core::time::truncate_us(Timestamp::now())
}

fn no_tenant(tenant: &TenantId) -> StoreError {
    StoreError::NotFound(format!("tenant {tenant}"))
}

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// The state to read; a panic elsewhere (a failed assertion in a test) does not poison it.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// `f` of the tenant's data, or `NotFound`.
    fn with_tenant<T>(&self, tenant: &TenantId, f: impl FnOnce(&TenantData) -> StoreResult<T>) -> StoreResult<T> {
        f(self.read().tenants.get(tenant).ok_or_else(|| no_tenant(tenant))?)
    }

    /// `f` of the tenant's data to change, or `NotFound`.
    fn with_tenant_mut<T>(
        &self,
        tenant: &TenantId,
        f: impl FnOnce(&mut TenantData) -> StoreResult<T>,
    ) -> StoreResult<T> {
        f(self.write().tenants.get_mut(tenant).ok_or_else(|| no_tenant(tenant))?)
    }
}

impl TenantData {
    fn tenant(&self) -> Tenant {
        Tenant { event_count: self.log.events.len() as u64, ..self.tenant.clone() }
    }

    fn member_mut(&mut self, id: &str) -> StoreResult<&mut (Member, String)> {
        self.members.iter_mut().find(|(m, _)| m.id == id).ok_or_else(|| StoreError::NotFound(format!("member {id}")))
    }
}

impl Log {
    fn stored(&self, tenant: &TenantId, seq: u64) -> Option<StoredEvent> {
        let kept = self.events.get(seq.checked_sub(1)? as usize)?;
        Some(StoredEvent { tenant: tenant.clone(), seq, body: kept.body.clone() })
    }

    /// A tree size must be between 1 and the tenant's event count.
    fn check_size(&self, tenant: &TenantId, size: u64) -> StoreResult<()> {
        let count = self.events.len() as u64;
        if size == 0 || size > count {
            return Err(StoreError::NotFound(format!("a tree of {size} events (the log of {tenant} holds {count})")));
        }
        Ok(())
    }
}

#[async_trait]
impl EventLog for MemStore {
    async fn append(&self, tenant: &TenantId, events: Vec<PreparedEvent>) -> StoreResult<AppendReceipt> {
        self.with_tenant_mut(tenant, |data| {
            let log = &mut data.log;
            // Everything is decided before anything is kept, so a conflict stores nothing.
            let mut receipt = Vec::with_capacity(events.len());
            {
                let mut fresh: HashMap<&str, (u64, [u8; 16])> = HashMap::new();
                let mut next = log.events.len() as u64 + 1;
                for (index, event) in events.iter().enumerate() {
                    if let Some(id) = event.body.id.as_deref() {
                        match log.ids.get(id).or_else(|| fresh.get(id)) {
                            Some(&(seq, digest)) if digest == event.digest => {
                                receipt.push(Appended { seq, duplicate: true });
                                continue;
                            }
                            Some(&(seq, _)) => return Err(StoreError::Conflict { index, id: id.to_owned(), seq }),
                            None => {
                                fresh.insert(id, (next, event.digest));
                            }
                        }
                    }
                    receipt.push(Appended { seq: next, duplicate: false });
                    next += 1;
                }
            }
            for (event, appended) in events.into_iter().zip(&receipt) {
                if appended.duplicate {
                    continue;
                }
                let seq = appended.seq;
                log.tree.push(event.leaf_hasher(tenant).finish(seq));
                log.by_time.insert((event.body.occurred_at.as_microsecond(), seq));
                if let Some(id) = &event.body.id {
                    log.ids.insert(id.clone(), (seq, event.digest));
                }
                let record = crate::record::encode(&event.secret, &event.layout, &event.canonical);
                log.events.push(Kept { body: event.body, record });
            }
            Ok(AppendReceipt { events: receipt, tree_size: log.events.len() as u64 })
        })
    }

    async fn query(&self, tenant: &TenantId, filter: &Filter, page: Page) -> StoreResult<EventPage> {
        self.with_tenant(tenant, |data| {
            let log = &data.log;
            let snapshot = page.cursor.map_or(log.events.len() as u64, |c| c.snapshot);
            let before = match page.cursor {
                Some(c) => Bound::Excluded((c.occurred_at_us, c.seq)),
                None => Bound::Unbounded,
            };
            let mut events = Vec::with_capacity(page.limit.min(1000));
            let mut more = false;
            for &(_, seq) in log.by_time.range((Bound::Unbounded, before)).rev() {
                let body = &log.events[seq as usize - 1].body;
                if seq > snapshot || !filter.matches(body) {
                    continue;
                }
                if events.len() == page.limit {
                    more = true;
                    break;
                }
                events.push(StoredEvent { tenant: tenant.clone(), seq, body: body.clone() });
            }
            Ok(EventPage::new(events, more, snapshot, filter.time))
        })
    }

    async fn event(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<StoredEvent>> {
        self.with_tenant(tenant, |data| Ok(data.log.stored(tenant, seq)))
    }

    async fn events_after(&self, tenant: &TenantId, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        self.with_tenant(tenant, |data| {
            let first = after.saturating_add(1);
            Ok((first..).take(limit).map_while(|seq| data.log.stored(tenant, seq)).collect())
        })
    }

    async fn count_buckets(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        boundaries: &[Timestamp],
    ) -> StoreResult<Vec<u64>> {
        self.with_tenant(tenant, |data| {
            let mut counts = vec![0u64; boundaries.len().saturating_sub(1)];
            if counts.is_empty() {
                return Ok(counts);
            }
            let (f, edges) = bucket_bounds(filter, boundaries);
            for kept in &data.log.events {
                let occ = kept.body.occurred_at.as_microsecond();
                let i = edges.partition_point(|&b| b <= occ);
                if (1..edges.len()).contains(&i) && f.matches(&kept.body) {
                    counts[i - 1] += 1;
                }
            }
            Ok(counts)
        })
    }

    async fn first_occurred_at(&self, tenant: &TenantId) -> StoreResult<Option<Timestamp>> {
        self.with_tenant(tenant, |data| {
            Ok(data.log.by_time.first().map(|&(_, seq)| data.log.events[seq as usize - 1].body.occurred_at))
        })
    }
}

/// Whole events, rendered on a blocking thread: the default bodies.
impl ExportReads for MemStore {}

#[async_trait]
impl Accounts for MemStore {
    async fn create_tenant(&self, t: NewTenant) -> StoreResult<Tenant> {
        let mut state = self.write();
        if state.tenants.contains_key(&t.id) {
            return Err(StoreError::AlreadyExists(format!("tenant {}", t.id)));
        }
        let tenant = Tenant {
            id: t.id.clone(),
            name: t.name,
            plan: t.plan,
            time_zone: t.time_zone,
            settings: Default::default(),
            created_at: now(),
            event_count: 0,
        };
        let data = TenantData { tenant, keys: Vec::new(), members: Vec::new(), log: Log::default() };
        let out = data.tenant();
        state.tenants.insert(t.id, data);
        Ok(out)
    }

    async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        Ok(self.read().tenants.values().map(TenantData::tenant).collect())
    }

    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        Ok(self.read().tenants.get(id).map(TenantData::tenant))
    }

    async fn update_tenant(&self, id: &TenantId, patch: TenantPatch) -> StoreResult<Tenant> {
        self.with_tenant_mut(id, |data| {
            data.tenant.apply(patch);
            Ok(data.tenant())
        })
    }

    async fn create_api_key(&self, tenant: &TenantId, key: NewApiKey) -> StoreResult<ApiKey> {
        let mut state = self.write();
        let state = &mut *state;
        let data = state.tenants.get_mut(tenant).ok_or_else(|| no_tenant(tenant))?;
        if state.tokens.contains_key(&key.token_hash) || data.keys.iter().any(|k| k.id == key.id) {
            return Err(StoreError::AlreadyExists(format!("api key {}", key.id)));
        }
        let made = ApiKey {
            id: key.id.clone(),
            tenant: tenant.clone(),
            name: key.name,
            scopes: key.scopes,
            created_at: now(),
            revoked_at: None,
        };
        data.keys.push(made.clone());
        state.tokens.insert(key.token_hash, (tenant.clone(), key.id));
        Ok(made)
    }

    async fn api_keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKey>> {
        self.with_tenant(tenant, |data| {
            let mut keys = data.keys.clone();
            keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
            Ok(keys)
        })
    }

    async fn revoke_api_key(&self, tenant: &TenantId, key_id: &str) -> StoreResult<ApiKey> {
        self.with_tenant_mut(tenant, |data| {
            let key = data
                .keys
                .iter_mut()
                .find(|k| k.id == key_id)
                .ok_or_else(|| StoreError::NotFound(format!("api key {key_id}")))?;
            key.revoked_at.get_or_insert_with(now);
            Ok(key.clone())
        })
    }

    async fn api_key_by_token_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiKey>> {
        let state = self.read();
        let Some((tenant, id)) = state.tokens.get(token_hash) else { return Ok(None) };
        Ok(state.tenants.get(tenant).and_then(|data| data.keys.iter().find(|k| &k.id == id)).cloned())
    }

    async fn create_member(&self, tenant: &TenantId, m: NewMember) -> StoreResult<Member> {
        self.with_tenant_mut(tenant, |data| {
            let key = m.email.to_lowercase();
            if data.members.iter().any(|(x, _)| x.id == m.id || x.email.to_lowercase() == key) {
                return Err(StoreError::AlreadyExists(format!("member with e-mail {}", m.email)));
            }
            let member = Member {
                id: m.id,
                tenant: tenant.clone(),
                email: m.email,
                name: m.name,
                role: m.role,
                actor_id: m.actor_id,
                created_at: now(),
            };
            data.members.push((member.clone(), m.password_hash));
            Ok(member)
        })
    }

    async fn members(&self, tenant: &TenantId) -> StoreResult<Vec<Member>> {
        self.with_tenant(tenant, |data| {
            let mut members: Vec<Member> = data.members.iter().map(|(m, _)| m.clone()).collect();
            members.sort_by_cached_key(|m| m.email.to_lowercase());
            Ok(members)
        })
    }

    async fn member(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Member>> {
        self.with_tenant(tenant, |data| Ok(data.members.iter().find(|(m, _)| m.id == id).map(|(m, _)| m.clone())))
    }

    async fn member_login(&self, tenant: &TenantId, email: &str) -> StoreResult<Option<(Member, String)>> {
        let key = email.to_lowercase();
        self.with_tenant(tenant, |data| Ok(data.members.iter().find(|(m, _)| m.email.to_lowercase() == key).cloned()))
    }

    async fn update_member(&self, tenant: &TenantId, id: &str, patch: MemberPatch) -> StoreResult<Member> {
        let mut state = self.write();
        let data = state.tenants.get_mut(tenant).ok_or_else(|| no_tenant(tenant))?;
        let (member, hash) = data.member_mut(id)?;
        member.apply(&patch);
        if let Some(h) = patch.password_hash {
            *hash = h;
        }
        let member = member.clone();
        // A changed role or password ends the member's sessions: they sign in again.
        end_sessions(&mut state, tenant, id);
        Ok(member)
    }

    async fn delete_member(&self, tenant: &TenantId, id: &str) -> StoreResult<()> {
        let mut state = self.write();
        let data = state.tenants.get_mut(tenant).ok_or_else(|| no_tenant(tenant))?;
        let before = data.members.len();
        data.members.retain(|(m, _)| m.id != id);
        if data.members.len() == before {
            return Err(StoreError::NotFound(format!("member {id}")));
        }
        end_sessions(&mut state, tenant, id);
        Ok(())
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        let mut state = self.write();
        if !state.tenants.contains_key(&session.tenant) {
            return Err(no_tenant(&session.tenant));
        }
        // Expired sessions go as new ones come.
        let now = Timestamp::now();
        state.sessions.retain(|_, s| s.expires_at >= now);
        if state.sessions.contains_key(&session.id_hash) {
            return Err(StoreError::AlreadyExists("session".into()));
        }
        let expires_at = trail_core::time::truncate_us(session.expires_at);
        state.sessions.insert(session.id_hash, Session { expires_at, ..session });
        Ok(())
    }

    async fn session(&self, id_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        Ok(self.read().sessions.get(id_hash).filter(|s| s.expires_at > Timestamp::now()).cloned())
    }

    async fn delete_session(&self, id_hash: &[u8; 32]) -> StoreResult<()> {
        self.write().sessions.remove(id_hash);
        Ok(())
    }

    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self.read().settings.get(key).cloned())
    }

    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        self.write().settings.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

/// Ends every session of member `id` of `tenant`.
fn end_sessions(state: &mut State, tenant: &TenantId, id: &str) {
    state.sessions.retain(|_, s| !(&s.tenant == tenant && s.member_id.as_deref() == Some(id)));
}

#[async_trait]
impl Tree for MemStore {
    async fn leaf_hash(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Hash>> {
        self.with_tenant(tenant, |data| {
            let leaves = data.log.tree.0.first();
            Ok(seq.checked_sub(1).and_then(|i| leaves?.get(i as usize)).copied())
        })
    }

    async fn leaf_data(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Vec<u8>>> {
        self.with_tenant(tenant, |data| {
            let Some(kept) = seq.checked_sub(1).and_then(|i| data.log.events.get(i as usize)) else { return Ok(None) };
            crate::record::leaf_data(&kept.record, tenant.as_str(), seq)
                .map(Some)
                .map_err(|e| StoreError::internal(std::io::Error::other(e)))
        })
    }

    async fn tree_root(&self, tenant: &TenantId, size: u64) -> StoreResult<Hash> {
        self.with_tenant(tenant, |data| {
            data.log.check_size(tenant, size)?;
            merkle::root(&data.log.tree, size)
        })
    }

    async fn inclusion_proof(&self, tenant: &TenantId, seq: u64, size: u64) -> StoreResult<Vec<Hash>> {
        self.with_tenant(tenant, |data| {
            data.log.check_size(tenant, size)?;
            if seq == 0 || seq > size {
                return Err(StoreError::NotFound(format!("event {seq} in the tree of {size} events")));
            }
            merkle::inclusion_proof(&data.log.tree, seq - 1, size)
        })
    }

    async fn consistency_proof(&self, tenant: &TenantId, from: u64, to: u64) -> StoreResult<Vec<Hash>> {
        self.with_tenant(tenant, |data| {
            data.log.check_size(tenant, to)?;
            if from == 0 || from > to {
                return Err(StoreError::NotFound(format!("a tree of {from} events before the tree of {to}")));
            }
            merkle::consistency_proof(&data.log.tree, from, to)
        })
    }

    async fn add_checkpoint(&self, tenant: &TenantId, checkpoint: StoredCheckpoint) -> StoreResult<()> {
        self.with_tenant_mut(tenant, |data| {
            // The first checkpoint of a size is kept, as the backends keep it.
            data.log.checkpoints.entry(checkpoint.size).or_insert(checkpoint);
            Ok(())
        })
    }

    async fn latest_checkpoint(&self, tenant: &TenantId) -> StoreResult<Option<StoredCheckpoint>> {
        self.with_tenant(tenant, |data| Ok(data.log.checkpoints.last_key_value().map(|(_, cp)| cp.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_levels_give_the_roots_of_every_size() {
        let leaves: Vec<Hash> = (0..300u32).map(|i| merkle::leaf_hash(&i.to_le_bytes())).collect();
        let mut levels = Levels::default();
        for (n, leaf) in leaves.iter().enumerate() {
            levels.push(*leaf);
            let size = n as u64 + 1;
            assert_eq!(merkle::root(&levels, size).unwrap(), merkle::naive_root(&leaves[..=n]), "size {size}");
        }
        assert_eq!(merkle::root(&levels, 5).unwrap(), merkle::naive_root(&leaves[..5]), "an older tree");
    }
}
