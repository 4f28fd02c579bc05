//! Erasure: one person's personal fields removed from their events (and from the
//! remarks that name them), their rollup rows dropped, and no copy of the values left in the
//! database's files. Each event's record is rewritten with the fields' commitments in place of
//! their values and without their salts (`record::erase`), so its leaf, the tree and every
//! proof stay as they were. The writer connection runs with `secure_delete` (freed bytes are
//! zeroed, so an old row version does not linger in a free page), and after the transaction
//! the write-ahead log is checkpointed and truncated, so the old pages it held are gone too.
//!
//! A person with many events is erased in many requests (the application layer hands over a
//! page of 1,000 events at a time): each request reads and rewrites only its own events' pages,
//! and the writer's page cache is held to [`ERASE_CACHE_KIB`] while it does, so that the pages
//! of every event erased do not stay in memory (the writer's cache is otherwise 64 MiB).

use rusqlite::{OptionalExtension, Transaction, params_from_iter, types::Value};
use trail_store::{ErasureReport, ErasureRequest, StoreError, StoreResult};

use crate::{codec::Codec, error::SqlResultExt, event_pos};

/// The writer's page cache while it erases, in KiB: a request's pages, not every page erased.
const ERASE_CACHE_KIB: i64 = 8 * 1024;

pub(crate) fn apply(
    tx: &Transaction<'_>,
    codec: &Codec,
    tid: i64,
    request: &ErasureRequest,
) -> StoreResult<ErasureReport> {
    // Pages beyond the smaller limit are let go as the cache recycles them; the limit is put
    // back afterwards for the appends, which grow it again only as they need.
    let cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0)).sql()?;
    tx.pragma_update(None, "cache_size", -ERASE_CACHE_KIB).sql()?;
    let report = rewrite(tx, codec, tid, request);
    tx.pragma_update(None, "cache_size", cache).sql()?;
    report
}

fn rewrite(tx: &Transaction<'_>, codec: &Codec, tid: i64, request: &ErasureRequest) -> StoreResult<ErasureReport> {
    let mut report = ErasureReport::default();
    let mut read = tx.prepare_cached("SELECT body FROM events WHERE pos = ?1").sql()?;
    let mut write = tx.prepare_cached("UPDATE events SET body = ?1 WHERE pos = ?2").sql()?;
    for (seq, fields) in &request.events {
        let pos = event_pos(tid, *seq);
        let Some(blob) = read.query_row([pos], |r| r.get::<_, Vec<u8>>(0)).optional().sql()? else { continue };
        let bytes = codec.decompress(&blob)?;
        let before = trail_store::record::decode(&bytes).map_err(|e| StoreError::Internal(e.into()))?.erased.len();
        let Some(erased) = trail_store::record::erase(&bytes, fields).map_err(|e| StoreError::Internal(e.into()))?
        else {
            continue;
        };
        let after = trail_store::record::decode(&erased).map_err(|e| StoreError::Internal(e.into()))?.erased.len();
        write.execute(rusqlite::params![codec.encode(&erased), pos]).sql()?;
        report.events += 1;
        report.fields += (after - before) as u64;
    }
    // Rollup rows that hold the person's identifiers, names or e-mails.
    let ids: Vec<&String> = request.keys.iter().chain(&request.emails).collect();
    if !ids.is_empty() {
        let marks = |from: usize, n: usize| (from..from + n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let ids_in = marks(2, ids.len());
        let mut values: Vec<Value> = vec![tid.into()];
        values.extend(ids.iter().map(|s| Value::Text((*s).clone())));
        for table in ["actors", "logins", "usage"] {
            report.rollup_rows += tx
                .execute(
                    &format!("DELETE FROM {table} WHERE tid = ?1 AND (key IN ({ids_in}) OR email IN ({ids_in}))"),
                    params_from_iter(values.iter()),
                )
                .sql()? as u64;
        }
        tx.execute(
            &format!("DELETE FROM activity_buckets WHERE tid = ?1 AND key IN ({ids_in})"),
            params_from_iter(values.iter()),
        )
        .sql()?;
        // The person's links between e-mails and ids.
        tx.execute(
            &format!("DELETE FROM identities WHERE tid = ?1 AND (email IN ({ids_in}) OR actor_id IN ({ids_in}))"),
            params_from_iter(values.iter()),
        )
        .sql()?;
    }
    let who: Vec<&String> = request.keys.iter().chain(&request.emails).chain(&request.names).collect();
    if !who.is_empty() {
        let who_in = (2..2 + who.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let mut values: Vec<Value> = vec![tid.into()];
        values.extend(who.iter().map(|s| Value::Text((*s).clone())));
        report.rollup_rows += tx
            .execute(
                &format!("UPDATE links SET created_by = NULL WHERE tid = ?1 AND created_by IN ({who_in})"),
                params_from_iter(values.iter()),
            )
            .sql()? as u64;
    }
    Ok(report)
}
