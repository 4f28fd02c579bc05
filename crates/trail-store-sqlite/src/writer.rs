//! The single writer and its group commit.
//!
//! Requests queue [`Job`]s on a channel. The writer thread blocks for the first job, then takes
//! whatever else is already waiting (up to [`MAX_GROUP_EVENTS`]), and writes all appends of the
//! group in one `BEGIN IMMEDIATE ... COMMIT`. Each append runs in a savepoint: a conflict rolls
//! back that request alone. Replies are sent after the commit returns, that is after SQLite has
//! fsynced the WAL (`synchronous=FULL`); if the commit fails, every request of the group gets
//! the error and nothing of the group is stored.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};
use trail_core::{TenantId, event::Outcome};
use trail_store::{AppendReceipt, Appended, PreparedEvent, StoreError, StoreResult};

use crate::{
    SEQ_MASK,
    error::{SqlResultExt, from_sqlite},
    event_pos,
};

/// Events one group may hold before the writer commits and starts another.
const MAX_GROUP_EVENTS: usize = 50_000;

pub(crate) type ExecFn = Box<dyn FnOnce(&mut Connection) + Send>;

pub(crate) enum Job {
    Append {
        tid: i64,
        tenant: TenantId,
        events: Vec<PreparedEvent>,
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

pub(crate) fn spawn(
    conn: Connection,
    jobs: mpsc::Receiver<Job>,
    stats: Arc<WriterStats>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("trail-sqlite-writer".into()).spawn(move || run(conn, jobs, stats))
}

fn run(mut conn: Connection, mut jobs: mpsc::Receiver<Job>, stats: Arc<WriterStats>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut appends = Vec::new();
        let mut execs = Vec::new();
        let mut n_events = 0;
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Append { tid, tenant, events, reply } => {
                    n_events += events.len();
                    appends.push((tid, tenant, events, reply));
                }
                Job::Exec(f) => execs.push(f),
            }
            if n_events < MAX_GROUP_EVENTS {
                next = jobs.try_recv().ok();
            }
        }
        if !appends.is_empty() {
            stats.appends.fetch_add(appends.len() as u64, Ordering::Relaxed);
            stats.groups.fetch_add(1, Ordering::Relaxed);
            commit_group(&mut conn, appends);
        }
        for f in execs {
            f(&mut conn);
        }
    }
    tracing::debug!("sqlite writer stopped");
}

type Pending = (i64, TenantId, Vec<PreparedEvent>, oneshot::Sender<StoreResult<AppendReceipt>>);

fn commit_group(conn: &mut Connection, group: Vec<Pending>) {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let e = from_sqlite(e);
            for (.., reply) in group {
                let _ = reply.send(Err(copy_err(&e)));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(group.len());
    for (tid, tenant, events, reply) in group {
        let r = append_in_savepoint(&mut tx, tid, &tenant, &events);
        results.push((r, reply));
    }
    match tx.commit() {
        Ok(()) => {
            for (r, reply) in results {
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            let e = from_sqlite(e);
            tracing::error!(error = %e, "group commit failed; no event of the group was stored");
            for (_, reply) in results {
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
    tid: i64,
    tenant: &TenantId,
    events: &[PreparedEvent],
) -> StoreResult<AppendReceipt> {
    let sp = tx.savepoint().sql()?;
    let receipt = append(&sp, tid, tenant, events)?;
    sp.commit().sql()?;
    Ok(receipt)
}

fn append(conn: &Connection, tid: i64, tenant: &TenantId, events: &[PreparedEvent]) -> StoreResult<AppendReceipt> {
    let mut next_seq: u64 = conn
        .prepare_cached("SELECT next_seq FROM tenants WHERE tid = ?1")
        .sql()?
        .query_row([tid], |r| r.get::<_, i64>(0))
        .optional()
        .sql()?
        .ok_or_else(|| StoreError::NotFound(format!("tenant {tenant}")))? as u64;
    let mut find = conn.prepare_cached("SELECT pos, digest FROM events WHERE tid = ?1 AND ext_id = ?2").sql()?;
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO events (pos, tid, occurred_at, received_at, action, category, outcome, actor_id, actor_email, ext_id, digest, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .sql()?;
    let mut in_batch: HashMap<&str, (u64, [u8; 16])> = HashMap::new();
    let mut out = Vec::with_capacity(events.len());
    for (index, ev) in events.iter().enumerate() {
        let b = &ev.body;
        if let Some(id) = b.id.as_deref() {
            let earlier = match in_batch.get(id) {
                Some(&(seq, digest)) => Some((seq, digest.to_vec())),
                None => find
                    .query_row(params![tid, id], |r| {
                        Ok(((r.get::<_, i64>(0)? & SEQ_MASK) as u64, r.get::<_, Vec<u8>>(1)?))
                    })
                    .optional()
                    .sql()?,
            };
            if let Some((seq, digest)) = earlier {
                if digest != ev.digest {
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
                tid,
                b.occurred_at.as_microsecond(),
                b.received_at.as_microsecond(),
                b.action.as_str(),
                b.category.as_str(),
                (b.outcome == Outcome::Failure) as i64,
                b.actor_id(),
                b.actor_email(),
                b.id.as_deref(),
                b.id.as_ref().map(|_| &ev.digest[..]),
                &ev.body_json[..],
            ])
            .sql()?;
        if let Some(id) = b.id.as_deref() {
            in_batch.insert(id, (seq, ev.digest));
        }
        out.push(Appended { seq, duplicate: false });
    }
    conn.prepare_cached("UPDATE tenants SET next_seq = ?1 WHERE tid = ?2")
        .sql()?
        .execute(params![next_seq as i64, tid])
        .sql()?;
    Ok(AppendReceipt { events: out, tree_size: next_seq - 1 })
}
