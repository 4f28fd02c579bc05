//! [`SqliteStore`]: the storage roles (`trail_store::roles`) over the writer thread and the read
//! pool, one `impl` per role, and the export side's reads ([`ExportReads`]) decoded and rendered
//! on the reading threads.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};
use trail_core::merkle::Hash;
use trail_core::{
    TenantId,
    event::{Fields, StoredEvent},
    filter::{Filter, Page},
    ids::Scope,
};
use trail_store::{
    Accounts, ActionCount, ActorSummary, ApiKey, AppendReceipt, ErasureReport, ErasureRequest, EventLog, EventPage,
    ExportReads, LinkSummary, LoginSummary, Maintenance, Member, MemberPatch, NewApiKey, NewMember, NewTenant,
    PreparedEvent, PurgeReport, PurgeRule, RecentPage, RenderRow, RenderedPage, RollupKind, Rollups, Session,
    StoreError, StoreResult, StoredCheckpoint, Tenant, TenantPatch, Tree, UsageSummary, VerifyReport,
};

use trail_index::{IndexConfig, TermIndex};

use crate::{
    DB_FILE,
    codec::{self, Codec},
    error::{SqlResultExt, from_sqlite},
    members,
    pool::{ReadPool, configure},
    query::{self, Ctx},
    recent::ts,
    schema,
    writer::{self, Job, Writer, WriterStats},
};

/// The embedded store. Cheap to clone; all clones share one writer and one read pool.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    jobs: mpsc::Sender<Job>,
    readers: ReadPool,
    /// Tenant id to internal number. Numbers never change, so this cache never goes stale.
    tids: RwLock<HashMap<TenantId, i64>>,
    stats: Arc<WriterStats>,
    codec: Arc<Codec>,
    index: Arc<TermIndex>,
    options: StoreOptions,
}

/// How a store is opened.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Keep each tenant's Merkle tree (the default). Only benchmarks turn it off, to measure
    /// what the tree costs; a store without its tree cannot prove anything.
    pub merkle_tree: bool,
    /// Readers map the database file (the default: fastest for a server, whose reads jump
    /// around). A process that makes one long scan (`trail export`) turns this on: its readers
    /// then read through a bounded page cache (8 MiB each) instead, so the process's resident
    /// memory stays flat instead of growing with every page of the file it has read (mapped
    /// pages count as resident while they stay mapped). Connections are reused either way.
    pub bounded_readers: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { merkle_tree: true, bounded_readers: false }
    }
}

impl Inner {
    fn ctx(&self) -> Ctx<'_> {
        Ctx { codec: &self.codec, index: &self.index }
    }
}

fn now_us() -> i64 {
    Timestamp::now().as_microsecond()
}

fn unavailable() -> StoreError {
    StoreError::Unavailable("the store is shutting down".into())
}

impl SqliteStore {
    /// Opens (creating if needed) the store in data directory `dir`, and migrates it.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        Self::open_with(dir, StoreOptions::default())
    }

    /// [`SqliteStore::open`] with options. A failure on a disk too full to open the store says
    /// so, with the space free and needed ([`crate::space`]).
    pub fn open_with(dir: &Path, options: StoreOptions) -> StoreResult<Self> {
        Self::open_inner(dir, options).map_err(|e| crate::space::explain_open_failure(dir, e))
    }

    fn open_inner(dir: &Path, options: StoreOptions) -> StoreResult<Self> {
        // Private from the start: the directory 0700, the database (and so its -wal and -shm,
        // which SQLite creates with the database's mode) 0600.
        crate::perms::create_private_dir(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create the data directory {}: {e}", dir.display())))?;
        let path = dir.join(DB_FILE);
        crate::perms::create_private_file(&path)
            .map_err(|e| StoreError::Unavailable(format!("cannot create the database {}: {e}", path.display())))?;
        let mut conn = Connection::open(&path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open the database {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "wal").sql()?;
        // FULL: every commit fsyncs the WAL, so an acknowledged append survives power loss.
        conn.pragma_update(None, "synchronous", "full").sql()?;
        // Deleted and overwritten bytes are zeroed, so an erased value or a purged event does
        // not linger in a free page of the file.
        conn.pragma_update(None, "secure_delete", "on").sql()?;
        configure(&conn).sql()?;
        schema::migrate(&mut conn)?;
        let codec = Arc::new(Codec::new());
        codec::load_dicts(&conn, &codec, &path)?;
        let index_dir = dir.join("index");
        let index =
            Arc::new(TermIndex::open(&index_dir, IndexConfig::default()).map_err(|e| {
                StoreError::Unavailable(format!("cannot open the index in {}: {e}", index_dir.display()))
            })?);
        for (tid, positions) in crate::purge::all_purged(&conn)? {
            index.forget(tid as u64, &positions);
        }
        let (tx, rx) = mpsc::channel(4096);
        let stats = Arc::new(WriterStats::default());
        let writer =
            Writer { conn, index: index.clone(), codec: codec.clone(), stats: stats.clone(), edges: HashMap::new() };
        writer::spawn(writer, rx).map_err(StoreError::internal)?;
        let store = SqliteStore {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                jobs: tx,
                readers: ReadPool::new(&path, options.bounded_readers),
                tids: RwLock::new(HashMap::new()),
                stats,
                codec,
                index,
                options,
            }),
        };
        store.catch_up_in_background();
        crate::pool::reap(Arc::downgrade(&store.inner), |inner: &Inner| &inner.readers);
        crate::perms::warn_loose_modes(dir);
        Ok(store)
    }

    /// Indexes, on a thread of its own, whatever the log holds beyond what the index covers
    /// (after a crash, or events another process wrote), so the first queries need not.
    fn catch_up_in_background(&self) {
        let inner = self.inner.clone();
        let _ = std::thread::Builder::new().name("trail-index-catch-up".into()).spawn(move || {
            let result = inner.readers.with(|c| {
                let tenants: Vec<(i64, i64)> = c
                    .prepare("SELECT tid, next_seq FROM tenants")
                    .sql()?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .sql()?
                    .collect::<rusqlite::Result<_>>()
                    .sql()?;
                for (tid, next) in tenants {
                    query::catch_up(c, &inner.ctx(), tid, next as u64 - 1)?;
                }
                Ok(())
            });
            if let Err(e) = result {
                tracing::warn!(error = %e, "index catch-up failed; queries will retry it");
            }
        });
    }

    /// Prepares rows on the caller's thread: encoding, term extraction and most of the leaf
    /// hash stay off the writer.
    fn rows(&self, tenant: &TenantId, events: Vec<PreparedEvent>) -> Vec<writer::Row> {
        let codec = &self.inner.codec;
        events
            .into_iter()
            .map(|ev| {
                let record = trail_store::record::encode(&ev.secret, &ev.layout, &ev.canonical);
                if !codec.has_dict()
                    && let Some(samples) = codec.sample(&trail_store::record::scrubbed(&record))
                {
                    self.train_dictionary(samples);
                }
                writer::Row {
                    seen: trail_store::rollup::Seen::of(&ev.body),
                    fact: trail_store::rollup::Fact::of(&ev.body),
                    occurred_at: ev.body.occurred_at.as_microsecond(),
                    doc: trail_index::doc(&ev.body),
                    leaf: self.inner.options.merkle_tree.then(|| ev.leaf_hasher(tenant)),
                    blob: codec.encode(&record),
                    id: ev.body.id,
                    digest: i64::from_le_bytes(ev.digest[..8].try_into().expect("8 bytes")),
                }
            })
            .collect()
    }

    /// Trains the compression dictionary on a thread of its own, stores it, then uses it.
    fn train_dictionary(&self, samples: Vec<Vec<u8>>) {
        let store = self.clone();
        let _ = std::thread::Builder::new().name("trail-dictionary".into()).spawn(move || {
            let dict = match codec::train(&samples) {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot train a compression dictionary; events stay uncompressed");
                    return;
                }
            };
            let (tx, rx) = std::sync::mpsc::channel();
            let codec = store.inner.codec.clone();
            let job = Job::Exec(Box::new(move |conn: &mut Connection| {
                let r = conn
                    .execute(
                        "INSERT INTO dictionaries (created_at, data) VALUES (?1, ?2)",
                        params![now_us(), codec::seal_dict(&dict)],
                    )
                    .map(|_| conn.last_insert_rowid());
                if let Ok(id) = r {
                    codec.add_dict(id as u32, &dict);
                }
                let _ = tx.send(r.is_ok());
            }));
            if store.inner.jobs.blocking_send(job).is_ok() && rx.recv() == Ok(true) {
                tracing::info!(samples = samples.len(), "trained a compression dictionary");
            }
        });
    }

    /// Counters of the writer: append requests and the group commits that wrote them.
    pub fn writer_stats(&self) -> &WriterStats {
        &self.inner.stats
    }

    /// Writes the whole term index to disk and waits (for measuring sizes, or before a planned
    /// stop, so the next start has nothing to index again).
    pub fn flush_index(&self) {
        self.inner.index.flush_all();
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Runs `f` on a read connection, on a blocking thread, once one of the pool's read slots is
    /// free (`pool.rs`): waiting here costs no thread and no connection.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let inner = self.inner.clone();
        let slot = inner.readers.slot().await?;
        tokio::task::spawn_blocking(move || {
            let out = inner.readers.with(f);
            drop(slot);
            out
        })
        .await
        .map_err(StoreError::internal)?
    }

    /// Read connections open and idle, and opened since the store was opened.
    pub fn read_connections(&self) -> (usize, usize) {
        (self.inner.readers.idle(), self.inner.readers.opened())
    }

    /// Copies the write-ahead log into the database and empties it, so that page versions it
    /// held (an erased value's, say) are gone from disk. Readers may hold the log open for a
    /// moment: it retries for up to ten seconds, then says what stopped it.
    async fn truncate_wal(&self) -> StoreResult<()> {
        for _ in 0..100 {
            let (tx, rx) = oneshot::channel();
            let job = Job::Exec(Box::new(move |conn: &mut Connection| {
                let r = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
                let _ = tx.send(r);
            }));
            self.inner.jobs.send(job).await.map_err(|_| unavailable())?;
            match rx.await.map_err(|_| unavailable())? {
                Ok(0) => return Ok(()),
                Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                Err(e) => return Err(StoreError::internal(e)),
            }
        }
        Err(StoreError::Unavailable(
            "the write-ahead log could not be emptied (readers kept it busy for 10 s): run the erasure again".into(),
        ))
    }

    /// Runs `f` in a write transaction of its own on the writer thread.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = oneshot::channel();
        let job = Job::Exec(Box::new(move |conn: &mut Connection| {
            let result = (|| {
                let t = conn.transaction_with_behavior(TransactionBehavior::Immediate).sql()?;
                let v = f(&t)?;
                t.commit().sql()?;
                Ok(v)
            })();
            let _ = tx.send(result);
        }));
        self.inner.jobs.send(job).await.map_err(|_| unavailable())?;
        rx.await.map_err(|_| unavailable())?
    }

    /// The internal number of a tenant, or `NotFound`.
    async fn tid(&self, tenant: &TenantId) -> StoreResult<i64> {
        if let Some(&tid) = self.inner.tids.read().expect("tid cache").get(tenant) {
            return Ok(tid);
        }
        let t = tenant.clone();
        let tid = self
            .read(move |c| {
                c.prepare_cached("SELECT tid FROM tenants WHERE id = ?1")
                    .sql()?
                    .query_row([t.as_str()], |r| r.get::<_, i64>(0))
                    .optional()
                    .sql()
            })
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tenant {tenant}")))?;
        self.inner.tids.write().expect("tid cache").insert(tenant.clone(), tid);
        Ok(tid)
    }
}

const TENANT_COLUMNS: &str = "id, name, plan, time_zone, settings, created_at, next_seq";

fn tenant_row(r: &Row<'_>) -> rusqlite::Result<Tenant> {
    let id: String = r.get(0)?;
    let settings: String = r.get(4)?;
    Ok(Tenant {
        id: TenantId::parse(&id)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))?,
        name: r.get(1)?,
        plan: r.get(2)?,
        time_zone: r.get(3)?,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        created_at: ts(r.get(5)?),
        event_count: (r.get::<_, i64>(6)? - 1) as u64,
    })
}

fn get_tenant(c: &Connection, id: &TenantId) -> StoreResult<Option<Tenant>> {
    c.prepare_cached(&format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"))
        .sql()?
        .query_row([id.as_str()], tenant_row)
        .optional()
        .sql()
}

const KEY_COLUMNS: &str = "k.id, t.id, k.name, k.scopes, k.created_at, k.revoked_at";

fn key_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let tenant: String = r.get(1)?;
    let scopes: String = r.get(3)?;
    Ok(ApiKey {
        id: r.get(0)?,
        tenant: TenantId::parse(&tenant)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))?,
        name: r.get(2)?,
        scopes: scopes.split(',').filter_map(|s| Scope::parse(s).ok()).collect(),
        created_at: ts(r.get(4)?),
        revoked_at: r.get::<_, Option<i64>>(5)?.map(ts),
    })
}

/// A tree size must be between 1 and the tenant's event count.
fn check_size(c: &Connection, tenant: &TenantId, tid: i64, size: u64) -> StoreResult<()> {
    let count = query::next_seq(c, tenant, tid)? - 1;
    if size == 0 || size > count {
        return Err(StoreError::NotFound(format!("a tree of {size} events (the log of {tenant} holds {count})")));
    }
    Ok(())
}

pub(crate) fn checkpoint_row(r: &Row<'_>) -> rusqlite::Result<StoredCheckpoint> {
    let root: Vec<u8> = r.get(1)?;
    Ok(StoredCheckpoint {
        size: r.get::<_, i64>(0)? as u64,
        root: root.try_into().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Blob, "a root has 32 bytes".into())
        })?,
        note: r.get(2)?,
        created_at: ts(r.get(3)?),
    })
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn create_tenant(&self, t: NewTenant) -> StoreResult<Tenant> {
        self.write(move |tx| {
            let exists = tx
                .query_row("SELECT 1 FROM tenants WHERE id = ?1", [t.id.as_str()], |_| Ok(()))
                .optional()
                .sql()?
                .is_some();
            if exists {
                return Err(StoreError::AlreadyExists(format!("tenant {}", t.id)));
            }
            tx.execute(
                "INSERT INTO tenants (id, name, plan, time_zone, settings, created_at, next_seq) VALUES (?1, ?2, ?3, ?4, '{}', ?5, 1)",
                params![t.id.as_str(), t.name, t.plan, t.time_zone, now_us()],
            )
            .sql()?;
            get_tenant(tx, &t.id)?.ok_or_else(|| StoreError::NotFound(format!("tenant {}", t.id)))
        })
        .await
    }

    async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.read(|c| {
            c.prepare_cached(&format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id"))
                .sql()?
                .query_map([], tenant_row)
                .sql()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .sql()
        })
        .await
    }

    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        let id = id.clone();
        self.read(move |c| get_tenant(c, &id)).await
    }

    async fn update_tenant(&self, id: &TenantId, patch: TenantPatch) -> StoreResult<Tenant> {
        let id = id.clone();
        self.write(move |tx| {
            let mut t = get_tenant(tx, &id)?.ok_or_else(|| StoreError::NotFound(format!("tenant {id}")))?;
            t.apply(patch);
            let settings = serde_json::to_string(&t.settings).map_err(StoreError::internal)?;
            tx.execute(
                "UPDATE tenants SET name = ?1, plan = ?2, time_zone = ?3, settings = ?4 WHERE id = ?5",
                params![t.name, t.plan, t.time_zone, settings, id.as_str()],
            )
            .sql()?;
            Ok(t)
        })
        .await
    }

    async fn create_api_key(&self, tenant: &TenantId, key: NewApiKey) -> StoreResult<ApiKey> {
        let tid = self.tid(tenant).await?;
        let tenant = tenant.clone();
        self.write(move |tx| {
            let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
            let created = now_us();
            tx.execute(
                "INSERT INTO api_keys (id, tid, name, scopes, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![key.id, tid, key.name, scopes.join(","), &key.token_hash[..], created],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::AlreadyExists(format!("api key {}", key.id))
                }
                e => from_sqlite(e),
            })?;
            Ok(ApiKey {
                id: key.id,
                tenant,
                name: key.name,
                scopes: key.scopes,
                created_at: ts(created),
                revoked_at: None,
            })
        })
        .await
    }

    async fn api_keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKey>> {
        let tid = self.tid(tenant).await?;
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys k JOIN tenants t ON t.tid = k.tid WHERE k.tid = ?1 ORDER BY k.created_at DESC, k.id"
            ))
            .sql()?
            .query_map([tid], key_row)
            .sql()?
            .collect::<rusqlite::Result<Vec<_>>>()
            .sql()
        })
        .await
    }

    async fn revoke_api_key(&self, tenant: &TenantId, key_id: &str) -> StoreResult<ApiKey> {
        let tid = self.tid(tenant).await?;
        let key_id = key_id.to_owned();
        self.write(move |tx| {
            tx.execute(
                "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND tid = ?3 AND revoked_at IS NULL",
                params![now_us(), key_id, tid],
            )
            .sql()?;
            tx.query_row(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys k JOIN tenants t ON t.tid = k.tid WHERE k.id = ?1 AND k.tid = ?2"),
                params![key_id, tid],
                key_row,
            )
            .optional()
            .sql()?
            .ok_or_else(|| StoreError::NotFound(format!("api key {key_id}")))
        })
        .await
    }

    async fn api_key_by_token_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiKey>> {
        let hash = *token_hash;
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys k JOIN tenants t ON t.tid = k.tid WHERE k.token_hash = ?1"
            ))
            .sql()?
            .query_row([&hash[..]], key_row)
            .optional()
            .sql()
        })
        .await
    }

    async fn create_member(&self, tenant: &TenantId, member: NewMember) -> StoreResult<Member> {
        let tid = self.tid(tenant).await?;
        let tenant = tenant.clone();
        self.write(move |tx| members::create(tx, &tenant, tid, member)).await
    }

    async fn members(&self, tenant: &TenantId) -> StoreResult<Vec<Member>> {
        let tid = self.tid(tenant).await?;
        self.read(move |c| members::list(c, tid)).await
    }

    async fn member(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Member>> {
        let tid = self.tid(tenant).await?;
        let id = id.to_owned();
        self.read(move |c| members::one(c, tid, &id)).await
    }

    async fn member_login(&self, tenant: &TenantId, email: &str) -> StoreResult<Option<(Member, String)>> {
        let tid = self.tid(tenant).await?;
        let email = email.to_owned();
        self.read(move |c| members::login(c, tid, &email)).await
    }

    async fn update_member(&self, tenant: &TenantId, id: &str, patch: MemberPatch) -> StoreResult<Member> {
        let tid = self.tid(tenant).await?;
        let id = id.to_owned();
        self.write(move |tx| members::update(tx, tid, &id, patch)).await
    }

    async fn delete_member(&self, tenant: &TenantId, id: &str) -> StoreResult<()> {
        let tid = self.tid(tenant).await?;
        let id = id.to_owned();
        self.write(move |tx| members::delete(tx, tid, &id)).await
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        let tid = self.tid(&session.tenant).await?;
        self.write(move |tx| members::create_session(tx, tid, &session)).await
    }

    async fn session(&self, id_hash: &[u8; 32]) -> StoreResult<Option<Session>> {
        let hash = *id_hash;
        self.read(move |c| members::session(c, &hash)).await
    }

    async fn delete_session(&self, id_hash: &[u8; 32]) -> StoreResult<()> {
        let hash = *id_hash;
        self.write(move |tx| members::delete_session(tx, &hash)).await
    }

    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_owned();
        self.read(move |c| {
            c.query_row("SELECT value FROM server_settings WHERE key = ?1", [key], |r| r.get(0)).optional().sql()
        })
        .await
    }

    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO server_settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .sql()?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn append(&self, tenant: &TenantId, events: Vec<PreparedEvent>) -> StoreResult<AppendReceipt> {
        let tid = self.tid(tenant).await?;
        let rows = self.rows(tenant, events);
        let (reply, rx) = oneshot::channel();
        self.inner
            .jobs
            .send(Job::Append { tid, tenant: tenant.clone(), rows, reply })
            .await
            .map_err(|_| unavailable())?;
        rx.await.map_err(|_| unavailable())?
    }

    async fn query(&self, tenant: &TenantId, filter: &Filter, page: Page) -> StoreResult<EventPage> {
        self.query_fields(tenant, filter, page, Fields::All).await
    }

    async fn event(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<StoredEvent>> {
        let tid = self.tid(tenant).await?;
        if seq == 0 || seq as i64 > crate::SEQ_MASK {
            return Ok(None);
        }
        let (tenant, inner) = (tenant.clone(), self.inner.clone());
        self.read(move |c| query::event(c, &inner.ctx(), &tenant, tid, seq)).await
    }

    async fn events_after(&self, tenant: &TenantId, after: u64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        let tid = self.tid(tenant).await?;
        let (tenant, inner) = (tenant.clone(), self.inner.clone());
        let lo = crate::event_pos(tid, after.min(crate::SEQ_MASK as u64));
        let hi = crate::event_pos(tid, crate::SEQ_MASK as u64);
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT pos, body FROM events WHERE pos > ?1 AND pos <= ?2 ORDER BY pos LIMIT ?3")
                .sql()?;
            let mut rows = stmt.query(params![lo, hi, limit as i64]).sql()?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().sql()? {
                let pos: i64 = row.get(0).sql()?;
                let blob =
                    row.get_ref(1).sql()?.as_blob().map_err(|e| StoreError::internal(rusqlite::Error::from(e)))?;
                let seq = (pos & crate::SEQ_MASK) as u64;
                // An event that does not decode is read as its placeholder, so one damaged
                // record does not stop a live tail.
                let body = inner.codec.read(blob, trail_core::event::Fields::All, &tenant, seq, None).body;
                out.push(StoredEvent { tenant: tenant.clone(), seq, body });
            }
            Ok(out)
        })
        .await
    }

    async fn count_buckets(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        boundaries: &[Timestamp],
    ) -> StoreResult<Vec<u64>> {
        let tid = self.tid(tenant).await?;
        let (tenant, filter, boundaries, inner) =
            (tenant.clone(), filter.clone(), boundaries.to_vec(), self.inner.clone());
        self.read(move |c| query::count_buckets(c, &inner.ctx(), &tenant, tid, &filter, &boundaries)).await
    }

    async fn first_occurred_at(&self, tenant: &TenantId) -> StoreResult<Option<Timestamp>> {
        let tid = self.tid(tenant).await?;
        let (tenant, inner) = (tenant.clone(), self.inner.clone());
        self.read(move |c| {
            let newest = query::next_seq(c, &tenant, tid)? - 1;
            query::catch_up(c, &inner.ctx(), tid, newest)?;
            Ok(inner.index.first_occurred_at(tid as u64).map(ts))
        })
        .await
    }
}

#[async_trait]
impl ExportReads for SqliteStore {
    async fn query_fields(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        page: Page,
        fields: Fields,
    ) -> StoreResult<EventPage> {
        let tid = self.tid(tenant).await?;
        let (tenant, filter, inner) = (tenant.clone(), filter.clone(), self.inner.clone());
        self.read(move |c| query::run(c, &inner.ctx(), &query::PageQuery::new(&tenant, tid, &filter, page, fields)))
            .await
    }

    async fn query_rendered(
        &self,
        tenant: &TenantId,
        filter: &Filter,
        page: Page,
        fields: Fields,
        render: Arc<dyn RenderRow>,
    ) -> StoreResult<RenderedPage> {
        let tid = self.tid(tenant).await?;
        let (tenant, filter, inner) = (tenant.clone(), filter.clone(), self.inner.clone());
        self.read(move |c| {
            query::run_rendered(c, &inner.ctx(), &query::PageQuery::new(&tenant, tid, &filter, page, fields), render)
        })
        .await
    }
}

#[async_trait]
impl Rollups for SqliteStore {
    async fn actors(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<ActorSummary>> {
        let (tid, page) = (self.tid(tenant).await?, page.clone());
        self.read(move |c| crate::rollups::actors(c, tid, &page)).await
    }

    async fn person(
        &self,
        tenant: &TenantId,
        ids: &[String],
        emails: &[String],
    ) -> StoreResult<trail_store::identity::Person> {
        let (tid, ids, emails) = (self.tid(tenant).await?, ids.to_vec(), emails.to_vec());
        self.read(move |c| crate::identity::person(c, tid, &ids, &emails)).await
    }

    async fn actions(&self, tenant: &TenantId) -> StoreResult<Vec<ActionCount>> {
        let tid = self.tid(tenant).await?;
        self.read(move |c| crate::rollups::actions(c, tid)).await
    }

    async fn logins(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<LoginSummary>> {
        let (tid, page) = (self.tid(tenant).await?, page.clone());
        self.read(move |c| crate::logins::page(c, tid, &page)).await
    }

    async fn usage(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<UsageSummary>> {
        let (tid, page) = (self.tid(tenant).await?, page.clone());
        self.read(move |c| crate::usage::page(c, tid, &page)).await
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
        let tid = self.tid(tenant).await?;
        let after = after.map(|(t, k)| (t.as_microsecond(), k));
        let (from, to) = (from.as_microsecond(), to.as_microsecond());
        let found = self.read(move |c| crate::buckets::active_in(c, tid, kind, from, to, after, limit)).await?;
        Ok(found.into_iter().map(|(at, key)| (ts(at), key)).collect())
    }

    async fn links(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<LinkSummary>> {
        let (tid, page) = (self.tid(tenant).await?, page.clone());
        self.read(move |c| crate::links::page(c, tid, &page)).await
    }
}

#[async_trait]
impl Tree for SqliteStore {
    async fn leaf_hash(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Hash>> {
        let tid = self.tid(tenant).await?;
        if seq == 0 {
            return Ok(None);
        }
        self.read(move |c| {
            let tile = crate::tree::read_tile(c, tid, 0, (seq - 1) / crate::tree::TILE)?;
            Ok(tile.and_then(|t| t.get(((seq - 1) % crate::tree::TILE) as usize).copied()))
        })
        .await
    }

    async fn leaf_data(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Vec<u8>>> {
        let tid = self.tid(tenant).await?;
        if seq == 0 || seq as i64 > crate::SEQ_MASK {
            return Ok(None);
        }
        let (tenant, inner) = (tenant.clone(), self.inner.clone());
        self.read(move |c| query::leaf_data(c, &inner.ctx(), &tenant, tid, seq)).await
    }

    async fn tree_root(&self, tenant: &TenantId, size: u64) -> StoreResult<Hash> {
        let tid = self.tid(tenant).await?;
        let tenant = tenant.clone();
        self.read(move |c| {
            check_size(c, &tenant, tid, size)?;
            trail_core::merkle::root(&crate::tree::nodes(c, tid), size)
        })
        .await
    }

    async fn inclusion_proof(&self, tenant: &TenantId, seq: u64, size: u64) -> StoreResult<Vec<Hash>> {
        let tid = self.tid(tenant).await?;
        let tenant = tenant.clone();
        self.read(move |c| {
            check_size(c, &tenant, tid, size)?;
            if seq == 0 || seq > size {
                return Err(StoreError::NotFound(format!("event {seq} in the tree of {size} events")));
            }
            trail_core::merkle::inclusion_proof(&crate::tree::nodes(c, tid), seq - 1, size)
        })
        .await
    }

    async fn consistency_proof(&self, tenant: &TenantId, from: u64, to: u64) -> StoreResult<Vec<Hash>> {
        let tid = self.tid(tenant).await?;
        let tenant = tenant.clone();
        self.read(move |c| {
            check_size(c, &tenant, tid, to)?;
            if from == 0 || from > to {
                return Err(StoreError::NotFound(format!("a tree of {from} events before the tree of {to}")));
            }
            trail_core::merkle::consistency_proof(&crate::tree::nodes(c, tid), from, to)
        })
        .await
    }

    async fn add_checkpoint(&self, tenant: &TenantId, cp: StoredCheckpoint) -> StoreResult<()> {
        let tid = self.tid(tenant).await?;
        self.write(move |tx| {
            tx.execute(
                "INSERT OR IGNORE INTO checkpoints (tid, size, root, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![tid, cp.size as i64, &cp.root[..], cp.note, cp.created_at.as_microsecond()],
            )
            .sql()?;
            Ok(())
        })
        .await
    }

    async fn latest_checkpoint(&self, tenant: &TenantId) -> StoreResult<Option<StoredCheckpoint>> {
        let tid = self.tid(tenant).await?;
        self.read(move |c| {
            c.prepare_cached(
                "SELECT size, root, note, created_at FROM checkpoints WHERE tid = ?1 ORDER BY size DESC LIMIT 1",
            )
            .sql()?
            .query_row([tid], checkpoint_row)
            .optional()
            .sql()
        })
        .await
    }
}

#[async_trait]
impl Maintenance for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).sql()).await
    }

    async fn erase(&self, tenant: &TenantId, request: &ErasureRequest) -> StoreResult<ErasureReport> {
        let tid = self.tid(tenant).await?;
        let (codec, request) = (self.inner.codec.clone(), request.clone());
        let report = self.write(move |tx| crate::erase::apply(tx, &codec, tid, &request)).await?;
        self.truncate_wal().await?;
        Ok(report)
    }

    async fn purge(&self, tenant: &TenantId, rule: &PurgeRule) -> StoreResult<PurgeReport> {
        let tid = self.tid(tenant).await?;
        let (t, r, inner) = (tenant.clone(), rule.clone(), self.inner.clone());
        let (expired, links) = self.read(move |c| crate::purge::select(c, &inner.ctx(), &t, tid, &r)).await?;
        if expired.is_empty() && links.is_empty() {
            return Ok(PurgeReport::default());
        }
        let rule = rule.clone();
        let (report, removed) = self.write(move |tx| crate::purge::apply(tx, tid, &rule, &expired, &links)).await?;
        self.inner.index.forget(tid as u64, &removed);
        Ok(report)
    }

    async fn verify_log(&self, tenant: &TenantId, public_key: &[u8; 32]) -> StoreResult<VerifyReport> {
        let public = ed25519_dalek::VerifyingKey::from_bytes(public_key)
            .map_err(|e| StoreError::Internal(format!("the public key is not valid: {e}").into()))?;
        let (dir, tenant) = (self.inner.dir.clone(), tenant.to_string());
        // One thread: the server keeps the other core for requests.
        let reports = tokio::task::spawn_blocking(move || {
            crate::verify::verify(&dir, Some(&tenant), &public, &Default::default(), 1, &|_| {})
        })
        .await
        .map_err(StoreError::internal)??;
        let r = reports.into_iter().next().ok_or_else(|| StoreError::NotFound("tenant".into()))?;
        Ok(VerifyReport {
            events: r.events,
            checkpoints: r.checkpoints,
            problem: r.problem.map(|p| (p.seq, p.message)),
        })
    }
}
