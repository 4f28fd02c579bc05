//! The single writer and its group commit.
//!
//! Requests queue [`Job`]s on a channel. The writer thread blocks for the first job, then takes
//! whatever else is already waiting (up to [`MAX_GROUP_EVENTS`]), and writes all appends of the
//! group in one `BEGIN IMMEDIATE ... COMMIT`. Each append runs in a savepoint: a conflict rolls
//! back that request alone. After the commit returns (SQLite has fsynced the WAL:
//! `synchronous=FULL`), the new events are added to the term index, in seq order, and then every
//! request of the group is answered. If the commit fails, every request of the group gets the
//! error and nothing of the group is stored or indexed.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};
use trail_core::TenantId;
use trail_core::canonical::LeafHasher;
use trail_index::{Doc, TermIndex};
use trail_store::{AppendReceipt, Appended, StoreError, StoreResult};

use crate::{
    codec::Codec,
    error::{SqlResultExt, from_sqlite},
    event_pos,
};

/// Events one group may hold before the writer commits and starts another.
const MAX_GROUP_EVENTS: usize = 50_000;

pub(crate) type ExecFn = Box<dyn FnOnce(&mut Connection) + Send>;

/// One event ready for its row: encoded, indexed (`doc.key` is its client id's key), and its
/// leaf hashed but for the seq.
pub(crate) struct Row {
    pub occurred_at: i64,
    pub id: Option<String>,
    pub digest: i64,
    pub blob: Vec<u8>,
    pub doc: Doc,
    /// `None` when the store keeps no tree (a benchmark's baseline).
    pub leaf: Option<LeafHasher>,
    /// What the event adds to the rollups.
    pub seen: trail_store::rollup::Seen,
    /// What it tells the login, usage or link rollup, if anything.
    pub fact: Option<trail_store::rollup::Fact>,
}

pub(crate) enum Job {
    Append {
        tid: i64,
        tenant: TenantId,
        rows: Vec<Row>,
        reply: oneshot::Sender<StoreResult<AppendReceipt>>,
    },
    /// Any other write, run in a transaction of its own (tenants, keys, settings).
    Exec(ExecFn),
}

/// What the writer has done, for metrics and for the test that proves requests share commits.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Append requests written.
    pub appends: AtomicU64,
    /// Transactions committed for them (one per group).
    pub groups: AtomicU64,
}

pub(crate) struct Writer {
    pub conn: Connection,
    pub index: Arc<TermIndex>,
    pub codec: Arc<Codec>,
    pub stats: Arc<WriterStats>,
    /// The right edge of each tenant's tree, as of the last commit.
    pub edges: HashMap<i64, trail_store::tree::Edge>,
}

pub(crate) fn spawn(writer: Writer, jobs: mpsc::Receiver<Job>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("trail-sqlite-writer".into()).spawn(move || run(writer, jobs))
}

fn run(mut w: Writer, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut appends = Vec::new();
        let mut execs = Vec::new();
        let mut n_events = 0;
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Append { tid, tenant, rows, reply } => {
                    n_events += rows.len();
                    appends.push(Pending { tid, tenant, rows, reply });
                }
                Job::Exec(f) => execs.push(f),
            }
            if n_events < MAX_GROUP_EVENTS {
                next = jobs.try_recv().ok();
            }
        }
        if !appends.is_empty() {
            w.stats.appends.fetch_add(appends.len() as u64, Ordering::Relaxed);
            w.stats.groups.fetch_add(1, Ordering::Relaxed);
            commit_group(&mut w, appends);
        }
        for f in execs {
            f(&mut w.conn);
        }
    }
    tracing::debug!("sqlite writer stopped");
}

struct Pending {
    tid: i64,
    tenant: TenantId,
    rows: Vec<Row>,
    reply: oneshot::Sender<StoreResult<AppendReceipt>>,
}

/// What one request added: its receipt, and which of its rows are new events.
#[derive(Debug)]
struct Written {
    receipt: AppendReceipt,
    first_new: u64,
    new_rows: Vec<usize>,
}

/// Writes a group in one transaction. Requests are not isolated by savepoints (which cost a
/// copy of every page they touch): a request that fails on its own (a conflicting id, an
/// unknown tenant; both rare client errors) is answered, the transaction rolled back, and the
/// group written again without it.
fn commit_group(w: &mut Writer, mut group: Vec<Pending>) {
    let (codec, index) = (w.codec.clone(), w.index.clone());
    loop {
        let tx = match w.conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return fail_all(group, from_sqlite(e)),
        };
        let mut written = Vec::with_capacity(group.len());
        let mut failed = None;
        // Ids written in this transaction, which the index learns only after the commit.
        let mut fresh: HashMap<(i64, u64), Vec<u64>> = HashMap::new();
        let mut edges = std::mem::take(&mut w.edges);
        // Each tenant's next seq when the group began: the index may be caught up only to
        // committed events, never to this transaction's own.
        let mut committed: HashMap<i64, u64> = HashMap::new();
        for (i, p) in group.iter().enumerate() {
            let state = GroupState { fresh: &mut fresh, edges: &mut edges, committed: &mut committed };
            match append(&tx, &codec, &index, state, p.tid, &p.tenant, &p.rows) {
                Ok(done) => written.push(done),
                Err(e @ (StoreError::Conflict { .. } | StoreError::NotFound(_))) => {
                    failed = Some((i, e));
                    break;
                }
                Err(e) => {
                    drop(tx);
                    return fail_all(group, e);
                }
            }
        }
        if let Some((i, e)) = failed {
            // The edges may hold leaves of the rolled-back transaction: they are read again.
            drop(tx);
            let p = group.remove(i);
            let _ = p.reply.send(Err(e));
            if group.is_empty() {
                return;
            }
            continue;
        }
        if let Err(e) = tx.commit() {
            let e = from_sqlite(e);
            tracing::error!(error = %e, "group commit failed; no event of the group was stored");
            return fail_all(group, e);
        }
        w.edges = edges;
        for (p, done) in group.into_iter().zip(written) {
            if !done.new_rows.is_empty() {
                let mut rows: Vec<Option<Row>> = p.rows.into_iter().map(Some).collect();
                let docs: Vec<(i64, Doc)> =
                    done.new_rows.iter().filter_map(|&i| rows[i].take()).map(|r| (r.occurred_at, r.doc)).collect();
                if let Err(gap) = w.index.add(p.tid as u64, done.first_new, &docs) {
                    // Another process wrote in between: the next query indexes the rest.
                    tracing::debug!(tenant = p.tid, %gap, "index behind the log");
                }
            }
            let _ = p.reply.send(Ok(done.receipt));
        }
        return;
    }
}

fn fail_all(group: Vec<Pending>, e: StoreError) {
    for p in group {
        let _ = p.reply.send(Err(copy_err(&e)));
    }
}

/// One error for many requests: internal causes are logged once and reported as unavailable.
fn copy_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Unavailable(format!("the write failed: {other}")),
    }
}

/// The seq and digest of the tenant's earlier event with client id `id`, if any: the index
/// (and this transaction's own writes) name candidates with the same key, and the stored event
/// decides.
fn earlier(
    conn: &Connection,
    codec: &Codec,
    index: &TermIndex,
    fresh: &HashMap<(i64, u64), Vec<u64>>,
    tid: i64,
    key: u64,
    id: &str,
) -> StoreResult<Option<(u64, i64)>> {
    let mut candidates = index.seqs_with_key(tid as u64, key);
    candidates.extend(fresh.get(&(tid, key)).into_iter().flatten());
    for seq in candidates {
        let row = conn
            .prepare_cached("SELECT digest, body FROM events WHERE pos = ?1")
            .sql()?
            .query_row([event_pos(tid, seq)], |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .optional()
            .sql()?;
        let Some((Some(digest), blob)) = row else { continue };
        match codec.decode(&blob) {
            Ok(stored) if stored.id.as_deref() == Some(id) => return Ok(Some((seq, digest))),
            Ok(_) => {}
            // A damaged record cannot say its id. Its key (a 64-bit hash of the id) and its
            // digest (kept in its own column) still can: the same digest is the same event sent
            // again, a duplicate; another is taken as the id reused, a conflict, since two ids
            // sharing a key is far less likely than a client resending one. Failing here made
            // every batch resending that id fail with a storage error.
            Err(e) => {
                tracing::warn!(seq, error = %e, "an earlier event with this id does not decode: judged by its digest");
                return Ok(Some((seq, digest)));
            }
        }
    }
    Ok(None)
}

/// What an append shares with the rest of its group.
struct GroupState<'a> {
    /// Ids written in this transaction, which the index learns only after the commit.
    fresh: &'a mut HashMap<(i64, u64), Vec<u64>>,
    /// The right edge of each tenant's tree.
    edges: &'a mut HashMap<i64, trail_store::tree::Edge>,
    /// Each tenant's next seq before this group.
    committed: &'a mut HashMap<i64, u64>,
}

fn append(
    conn: &Connection,
    codec: &Arc<Codec>,
    index: &TermIndex,
    group: GroupState<'_>,
    tid: i64,
    tenant: &TenantId,
    rows: &[Row],
) -> StoreResult<Written> {
    let GroupState { fresh, edges, committed } = group;
    let mut next_seq: u64 = conn
        .prepare_cached("SELECT next_seq FROM tenants WHERE tid = ?1")
        .sql()?
        .query_row([tid], |r| r.get::<_, i64>(0))
        .optional()
        .sql()?
        .ok_or_else(|| StoreError::NotFound(format!("tenant {tenant}")))? as u64;
    let committed_next = *committed.entry(tid).or_insert(next_seq);
    if rows.iter().any(|r| r.id.is_some()) {
        // The id check needs every committed event in the index, also those another process
        // appended: index what it lacks first (nothing, unless another process wrote). Events
        // of this transaction are found through `fresh` instead.
        crate::query::catch_up_with(conn, codec, index, tid, committed_next - 1)?;
    }
    let first_new = next_seq;
    // The tree's edge, read again unless it is known to end where the log ends.
    let keeps_tree = rows.iter().any(|r| r.leaf.is_some());
    if keeps_tree && edges.get(&tid).is_none_or(|e| e.size() != next_seq - 1) {
        edges.insert(tid, crate::tree::load_edge(conn, tid, next_seq - 1)?);
    }
    let mut insert = conn.prepare_cached("INSERT INTO events (pos, digest, body) VALUES (?1, ?2, ?3)").sql()?;
    let mut out = Vec::with_capacity(rows.len());
    let mut new_rows = Vec::with_capacity(rows.len());
    for (index_in_batch, row) in rows.iter().enumerate() {
        if let (Some(id), Some(key)) = (row.id.as_deref(), row.doc.key) {
            match earlier(conn, codec, index, fresh, tid, key, id)? {
                Some((seq, digest)) if digest == row.digest => {
                    out.push(Appended { seq, duplicate: true });
                    continue;
                }
                Some((seq, _)) => return Err(StoreError::Conflict { index: index_in_batch, id: id.to_owned(), seq }),
                None => fresh.entry((tid, key)).or_default().push(next_seq),
            }
        }
        insert.execute(params![event_pos(tid, next_seq), row.id.as_ref().map(|_| row.digest), &row.blob[..]]).sql()?;
        if let (Some(leaf), Some(edge)) = (&row.leaf, edges.get_mut(&tid)) {
            edge.push(leaf.finish(next_seq));
        }
        new_rows.push(index_in_batch);
        out.push(Appended { seq: next_seq, duplicate: false });
        next_seq += 1;
    }
    if let Some(edge) = edges.get_mut(&tid) {
        crate::tree::write_edge(edge, conn, tid)?;
    }
    // Who is who first: an event with only an e-mail linked to an id is rolled up as the id's.
    let ids = crate::identity::link(conn, tid, new_rows.iter().map(|&i| &rows[i].seen))?;
    crate::rollups::add(conn, tid, new_rows.iter().map(|&i| &rows[i].seen), &ids)?;
    crate::facts::add(conn, tid, new_rows.iter().filter_map(|&i| rows[i].fact.as_ref()), &ids)?;
    conn.prepare_cached("UPDATE tenants SET next_seq = ?1 WHERE tid = ?2")
        .sql()?
        .execute(params![next_seq as i64, tid])
        .sql()?;
    Ok(Written { receipt: AppendReceipt { events: out, tree_size: next_seq - 1 }, first_new, new_rows })
}

#[cfg(test)]
mod tests {
    use trail_index::IndexConfig;

    use super::*;

    fn row(codec: &Codec, id: &str, digest: i64) -> Row {
        let now = jiff::Timestamp::now();
        let e = trail_core::event::NewEvent::from_json(&format!(r#"{{"action":"a.b","id":"{id}"}}"#), now).unwrap();
        let body = e.into_body(now);
        let mut doc = trail_index::doc(&body);
        // Every id gets the same key, as if their hashes collided.
        doc.key = Some(42);
        let (canon, layout) = trail_core::canonical::write(&body);
        let blob = codec.encode(&trail_store::record::encode(&[1; 16], &layout, &canon));
        let leaf = Some(LeafHasher::new(b"test", b"leaf".to_vec()));
        let seen = trail_store::rollup::Seen::of(&body);
        Row { occurred_at: 0, id: Some(id.to_owned()), digest, blob, doc, leaf, seen, fact: None }
    }

    /// Different ids whose keys collide are all stored, and each stays idempotent, whether the
    /// earlier one is in the index or only in this transaction.
    #[test]
    fn colliding_id_keys_keep_idempotency_exact() {
        let dir = tempfile::tempdir().unwrap();
        let index = TermIndex::open(dir.path(), IndexConfig::default()).unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO tenants (tid, id, name, plan, time_zone, created_at) VALUES (1, 't', 't', 'p', 'UTC', 0)",
            [],
        )
        .unwrap();
        let codec = Arc::new(Codec::new());
        let t = TenantId::parse("t").unwrap();
        // As `commit_group` does: append, then tell the index about the new rows.
        let mut edges = HashMap::new();
        let mut run = |rows: Vec<Row>| -> StoreResult<Vec<(u64, bool)>> {
            let group = GroupState { fresh: &mut HashMap::new(), edges: &mut edges, committed: &mut HashMap::new() };
            let w = append(&conn, &codec, &index, group, 1, &t, &rows)?;
            let docs: Vec<(i64, Doc)> = w.new_rows.iter().map(|&i| (0, rows[i].doc.clone())).collect();
            if !docs.is_empty() {
                index.add(1, w.first_new, &docs).unwrap();
            }
            Ok(w.receipt.events.iter().map(|e| (e.seq, e.duplicate)).collect())
        };
        assert_eq!(
            run(vec![row(&codec, "a", 1), row(&codec, "b", 2), row(&codec, "a", 1)]).unwrap(),
            [(1, false), (2, false), (1, true)]
        );
        assert_eq!(
            run(vec![row(&codec, "b", 2), row(&codec, "c", 3), row(&codec, "a", 1)]).unwrap(),
            [(2, true), (3, false), (1, true)]
        );
        let e = run(vec![row(&codec, "b", 9)]).unwrap_err();
        assert!(matches!(e, StoreError::Conflict { seq: 2, .. }), "{e:?}");
        let e = run(vec![row(&codec, "c", 9)]).unwrap_err();
        assert!(matches!(e, StoreError::Conflict { seq: 3, .. }), "{e:?}");
    }

    /// Regression: the id check of a group's second request for a tenant used to catch the
    /// index up to the log *inside* the transaction, indexing the first request's rows before
    /// they were committed; a failed commit then left the index holding events that never
    /// existed, and the next events with those seqs were searched as the phantoms.
    #[test]
    fn the_index_never_learns_uncommitted_events() {
        let dir = tempfile::tempdir().unwrap();
        let index = TermIndex::open(dir.path(), IndexConfig::default()).unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO tenants (tid, id, name, plan, time_zone, created_at) VALUES (1, 't', 't', 'p', 'UTC', 0)",
            [],
        )
        .unwrap();
        let codec = Arc::new(Codec::new());
        let t = TenantId::parse("t").unwrap();
        let tx = conn.transaction().unwrap();
        let (mut fresh, mut edges, mut committed) = (HashMap::new(), HashMap::new(), HashMap::new());
        for batch in [vec![row(&codec, "a", 1)], vec![row(&codec, "b", 2)]] {
            let group = GroupState { fresh: &mut fresh, edges: &mut edges, committed: &mut committed };
            append(&tx, &codec, &index, group, 1, &t, &batch).unwrap();
        }
        drop(tx); // rolled back
        assert_eq!(index.covered(1), 0, "nothing was committed, so nothing may be indexed");
    }
}
