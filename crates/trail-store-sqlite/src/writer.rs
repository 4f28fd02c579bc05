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

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};
use trail_core::TenantId;
use trail_index::{Doc, TermIndex};
use trail_store::{AppendReceipt, Appended, StoreError, StoreResult};

use crate::{
    SEQ_BITS, SEQ_MASK,
    codec::Codec,
    error::{SqlResultExt, from_sqlite},
    event_pos,
};

/// Events one group may hold before the writer commits and starts another.
const MAX_GROUP_EVENTS: usize = 50_000;

pub(crate) type ExecFn = Box<dyn FnOnce(&mut Connection) + Send>;

/// One event ready for its row: encoded, indexed, keyed.
pub(crate) struct Row {
    pub occurred_at: i64,
    pub id: Option<String>,
    pub idkey: Option<i64>,
    pub digest: i64,
    pub blob: Vec<u8>,
    pub doc: Doc,
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

/// What one request added: its receipt, and the new events for the index.
struct Written {
    receipt: AppendReceipt,
    first_new: u64,
    docs: Vec<(i64, Doc)>,
}

fn commit_group(w: &mut Writer, group: Vec<Pending>) {
    let codec = w.codec.clone();
    let mut tx = match w.conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let e = from_sqlite(e);
            for p in group {
                let _ = p.reply.send(Err(copy_err(&e)));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(group.len());
    for p in group {
        let r = append_in_savepoint(&mut tx, &codec, p.tid, &p.tenant, p.rows);
        results.push((p.tid, r, p.reply));
    }
    match tx.commit() {
        Ok(()) => {
            for (tid, r, reply) in results {
                let r = r.map(|written| {
                    if !written.docs.is_empty()
                        && let Err(gap) = w.index.add(tid as u64, written.first_new, &written.docs)
                    {
                        // Another process wrote in between: the next query indexes the rest.
                        tracing::debug!(tenant = tid, %gap, "index behind the log");
                    }
                    written.receipt
                });
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            let e = from_sqlite(e);
            tracing::error!(error = %e, "group commit failed; no event of the group was stored");
            for (_, _, reply) in results {
                let _ = reply.send(Err(copy_err(&e)));
            }
        }
    }
}

/// One error for many requests: internal causes are logged once and reported as unavailable.
fn copy_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Unavailable(format!("the write failed: {other}")),
    }
}

fn append_in_savepoint(
    tx: &mut Transaction<'_>,
    codec: &Codec,
    tid: i64,
    tenant: &TenantId,
    rows: Vec<Row>,
) -> StoreResult<Written> {
    let sp = tx.savepoint().sql()?;
    let written = append(&sp, codec, tid, tenant, rows)?;
    sp.commit().sql()?;
    Ok(written)
}

/// The seq and digest of an earlier event of this tenant with client id `id`, if any.
fn earlier(conn: &Connection, codec: &Codec, tid: i64, idkey: i64, id: &str) -> StoreResult<Option<(u64, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT pos, digest, body FROM events WHERE idkey = ?1").sql()?;
    let mut rows = stmt.query([idkey]).sql()?;
    while let Some(row) = rows.next().sql()? {
        let pos: i64 = row.get(0).sql()?;
        if pos >> SEQ_BITS != tid {
            continue;
        }
        let blob = row.get_ref(2).sql()?.as_blob().map_err(|e| StoreError::internal(rusqlite::Error::from(e)))?;
        if codec.decode(blob)?.id.as_deref() == Some(id) {
            return Ok(Some(((pos & SEQ_MASK) as u64, row.get(1).sql()?)));
        }
    }
    Ok(None)
}

fn append(conn: &Connection, codec: &Codec, tid: i64, tenant: &TenantId, rows: Vec<Row>) -> StoreResult<Written> {
    let mut next_seq: u64 = conn
        .prepare_cached("SELECT next_seq FROM tenants WHERE tid = ?1")
        .sql()?
        .query_row([tid], |r| r.get::<_, i64>(0))
        .optional()
        .sql()?
        .ok_or_else(|| StoreError::NotFound(format!("tenant {tenant}")))? as u64;
    let first_new = next_seq;
    let mut insert = conn
        .prepare_cached("INSERT INTO events (pos, occurred_at, idkey, digest, body) VALUES (?1, ?2, ?3, ?4, ?5)")
        .sql()?;
    let mut in_batch: HashMap<String, (u64, i64)> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut docs = Vec::with_capacity(rows.len());
    for (index, row) in rows.into_iter().enumerate() {
        if let (Some(id), Some(idkey)) = (row.id.as_deref(), row.idkey) {
            let seen = match in_batch.get(id) {
                Some(&found) => Some(found),
                None => earlier(conn, codec, tid, idkey, id)?,
            };
            if let Some((seq, digest)) = seen {
                if digest != row.digest {
                    return Err(StoreError::Conflict { index, id: id.to_owned(), seq });
                }
                out.push(Appended { seq, duplicate: true });
                continue;
            }
        }
        let seq = next_seq;
        next_seq += 1;
        insert
            .execute(params![
                event_pos(tid, seq),
                row.occurred_at,
                row.idkey,
                row.idkey.map(|_| row.digest),
                &row.blob[..]
            ])
            .sql()?;
        if let Some(id) = row.id {
            in_batch.insert(id, (seq, row.digest));
        }
        docs.push((row.occurred_at, row.doc));
        out.push(Appended { seq, duplicate: false });
    }
    conn.prepare_cached("UPDATE tenants SET next_seq = ?1 WHERE tid = ?2")
        .sql()?
        .execute(params![next_seq as i64, tid])
        .sql()?;
    Ok(Written { receipt: AppendReceipt { events: out, tree_size: next_seq - 1 }, first_new, docs })
}
