//! Retention: removing events past a tenant's retention, and link access events of
//! links that ended long enough ago, while the tree keeps their leaf hashes, so every proof of
//! the remaining events (and every checkpoint) stays valid.
//!
//! Which events go is read from the index (time-bounded candidates, checked against the stored
//! event where the plan is not exact); then one write transaction deletes their rows, adds them
//! to the tenant's `purged` set (a roaring bitmap of positions, `seq - 1`, which `verify` reads
//! so that a purged event is told apart from a deleted one), and drops rollup rows whose latest
//! activity is past the retention (people and links with nothing left). The index keeps the
//! purged documents in its immutable segments but stops counting them (`TermIndex::forget`).

use roaring::RoaringBitmap;
use rusqlite::{Connection, OptionalExtension, params};
use trail_core::{TenantId, filter::Filter, time::TimeBounds};
use trail_index::Plan;
use trail_store::{PurgeReport, PurgeRule, StoreError, StoreResult};

use crate::{error::SqlResultExt, event_pos, query};

/// The tenant's purged positions.
pub(crate) fn purged(conn: &Connection, tid: i64) -> StoreResult<RoaringBitmap> {
    let blob: Option<Vec<u8>> =
        conn.query_row("SELECT seqs FROM purged WHERE tid = ?1", [tid], |r| r.get(0)).optional().sql()?;
    match blob {
        None => Ok(RoaringBitmap::new()),
        Some(b) => RoaringBitmap::deserialize_from(&b[..])
            .map_err(|e| StoreError::Internal(format!("the purged set of tenant {tid} is unreadable: {e}").into())),
    }
}

/// Every tenant's purged positions (loaded into the index at start).
pub(crate) fn all_purged(conn: &Connection) -> StoreResult<Vec<(i64, RoaringBitmap)>> {
    let tids: Vec<i64> = conn
        .prepare("SELECT tid FROM purged")
        .sql()?
        .query_map([], |r| r.get(0))
        .sql()?
        .collect::<Result<_, _>>()
        .sql()?;
    tids.into_iter().map(|tid| Ok((tid, purged(conn, tid)?))).collect()
}

/// Brings the index's purged set of a tenant up to date when another process (`trail purge`
/// beside a running server) purged since: one small read per count.
pub(crate) fn refresh(conn: &Connection, index: &trail_index::TermIndex, tid: i64) -> StoreResult<()> {
    let n: Option<i64> = conn.query_row("SELECT n FROM purged WHERE tid = ?1", [tid], |r| r.get(0)).optional().sql()?;
    if let Some(n) = n
        && n as u64 != index.forgotten(tid as u64)
    {
        index.forget(tid as u64, &purged(conn, tid)?);
    }
    Ok(())
}

/// What to delete: (expired positions, link access positions), read on one snapshot.
pub(crate) fn select(
    conn: &mut Connection,
    ctx: &query::Ctx<'_>,
    tenant: &TenantId,
    tid: i64,
    rule: &PurgeRule,
) -> StoreResult<(RoaringBitmap, RoaringBitmap)> {
    let tx = conn.transaction().sql()?;
    let newest = query::next_seq(&tx, tenant, tid)? - 1;
    query::catch_up(&tx, ctx, tid, newest)?;
    let gone = purged(&tx, tid)?;
    let mut expired = RoaringBitmap::new();
    if let Some(before) = rule.before {
        let f = Filter { time: TimeBounds { from: None, to: Some(before) }, ..Filter::default() };
        let plan = Plan::of(&f);
        for (_, seq) in ctx.index.search(tid as u64, &plan, query::bounds(&f, None, newest)) {
            let pos = (seq - 1) as u32;
            if !gone.contains(pos) {
                expired.insert(pos);
            }
        }
    }
    let mut links = RoaringBitmap::new();
    if let Some(ended) = rule.link_access_ended_before {
        let ended_links: Vec<String> = tx
            .prepare_cached("SELECT key FROM links WHERE tid = ?1 AND ended_at IS NOT NULL AND ended_at < ?2")
            .sql()?
            .query_map(params![tid, ended.as_microsecond()], |r| r.get(0))
            .sql()?
            .collect::<Result<_, _>>()
            .sql()?;
        for link in ended_links {
            let f = PurgeRule::link_access(link);
            let plan = Plan::of(&f);
            for (_, seq) in ctx.index.search(tid as u64, &plan, query::bounds(&f, None, newest)) {
                let pos = (seq - 1) as u32;
                if gone.contains(pos) || expired.contains(pos) {
                    continue;
                }
                if plan.exact
                    || query::read(&tx, ctx, tenant, tid, seq, None)?
                        .is_some_and(|(e, readable)| readable && f.matches(&e.body))
                {
                    links.insert(pos);
                }
            }
        }
    }
    Ok((expired, links))
}

/// Deletes the selected events and records them as purged; drops rollup rows with nothing left.
pub(crate) fn apply(
    tx: &rusqlite::Transaction<'_>,
    tid: i64,
    rule: &PurgeRule,
    expired: &RoaringBitmap,
    links: &RoaringBitmap,
) -> StoreResult<(PurgeReport, RoaringBitmap)> {
    let mut delete = tx.prepare_cached("DELETE FROM events WHERE pos = ?1").sql()?;
    let mut removed = RoaringBitmap::new();
    let mut report = PurgeReport::default();
    for (set, count) in [(expired, &mut report.expired), (links, &mut report.link_access)] {
        for pos in set.iter() {
            if delete.execute([event_pos(tid, pos as u64 + 1)]).sql()? == 1 {
                removed.insert(pos);
                *count += 1;
            }
        }
    }
    if !removed.is_empty() {
        let mut all = purged(tx, tid)?;
        all |= &removed;
        let mut blob = Vec::with_capacity(all.serialized_size());
        all.serialize_into(&mut blob).map_err(StoreError::internal)?;
        tx.execute(
            "INSERT INTO purged (tid, seqs, n) VALUES (?1, ?2, ?3)
             ON CONFLICT (tid) DO UPDATE SET seqs = excluded.seqs, n = excluded.n",
            params![tid, blob, all.len() as i64],
        )
        .sql()?;
    }
    if let Some(before) = rule.before {
        let b = before.as_microsecond();
        for sql in [
            "DELETE FROM actors WHERE tid = ?1 AND last_seen < ?2",
            "DELETE FROM logins WHERE tid = ?1 AND last_at < ?2",
            "DELETE FROM usage WHERE tid = ?1 AND last_at < ?2",
            "DELETE FROM links WHERE tid = ?1 AND last_at < ?2",
        ] {
            report.rollup_rows += tx.execute(sql, params![tid, b]).sql()? as u64;
        }
        tx.execute("DELETE FROM activity_buckets WHERE tid = ?1 AND last_at < ?2", params![tid, b]).sql()?;
    }
    Ok((report, removed))
}
