//! Activity buckets: per rollup row (a person's logins or files, a link), the latest activity
//! in each 15-minute interval it was active in, kept by every append. They answer "who was
//! active in this closed range, most recent first" by walking the range's rows newest first, so
//! a page of `yesterday` costs O(rows shown) instead of checking every person whose latest
//! activity came after the range. (Open ranges use the rollups' own `last_at` order.)

use std::collections::HashSet;

use rusqlite::{Connection, params};
use trail_store::{RollupKind, StoreResult};

use crate::error::SqlResultExt;

/// Folds `(kind, key, occurred_at)` of one append's new events into the buckets.
pub(crate) fn add<'a>(
    conn: &Connection,
    tid: i64,
    seen: impl Iterator<Item = (RollupKind, &'a str, i64)>,
) -> StoreResult<()> {
    let latest = trail_store::rollup::fold_buckets(seen);
    if latest.is_empty() {
        return Ok(());
    }
    let mut upsert = conn
        .prepare_cached(
            "INSERT INTO activity_buckets (tid, kind, key, bucket, last_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (tid, kind, key, bucket) DO UPDATE SET last_at = MAX(last_at, excluded.last_at)",
        )
        .sql()?;
    for ((kind, key, bucket), at) in latest {
        upsert.execute(params![tid, kind as i64, key, bucket, at]).sql()?;
    }
    Ok(())
}

/// Moves the login and usage buckets kept under `from` (an e-mail) to `id`, the person it is
/// now linked to (links' buckets are keyed by link, not by person).
pub(crate) fn merge(conn: &Connection, tid: i64, from: &str, id: &str) -> StoreResult<()> {
    let kinds = [RollupKind::Logins as i64, RollupKind::Usage as i64];
    conn.prepare_cached(
        "INSERT INTO activity_buckets (tid, kind, key, bucket, last_at)
         SELECT tid, kind, ?3, bucket, last_at FROM activity_buckets
         WHERE tid = ?1 AND kind IN (?4, ?5) AND key = ?2
         ON CONFLICT (tid, kind, key, bucket) DO UPDATE SET last_at = MAX(last_at, excluded.last_at)",
    )
    .sql()?
    .execute(params![tid, from, id, kinds[0], kinds[1]])
    .sql()?;
    conn.prepare_cached("DELETE FROM activity_buckets WHERE tid = ?1 AND kind IN (?3, ?4) AND key = ?2")
        .sql()?
        .execute(params![tid, from, kinds[0], kinds[1]])
        .sql()?;
    Ok(())
}

/// See `Store::active_in`. Walks the range's buckets newest first; the first time a key shows
/// up is its latest activity in the range. After a cursor, a key whose latest activity in the
/// range sorts before the cursor was on an earlier page and is passed over.
pub(crate) fn active_in(
    conn: &Connection,
    tid: i64,
    kind: RollupKind,
    from: i64,
    to: i64,
    after: Option<(i64, String)>,
    limit: usize,
) -> StoreResult<Vec<(i64, String)>> {
    let (after_at, after_key) = after.clone().unwrap_or((i64::MAX, String::new()));
    let mut walk = conn
        .prepare_cached(
            "SELECT key, last_at FROM activity_buckets INDEXED BY activity_by_last
             WHERE tid = ?1 AND kind = ?2 AND last_at >= ?3 AND last_at < ?4
               AND (last_at < ?5 OR (last_at = ?5 AND key > ?6))
             ORDER BY last_at DESC, key",
        )
        .sql()?;
    let mut latest_of = conn
        .prepare_cached(
            "SELECT MAX(last_at) FROM activity_buckets
             WHERE tid = ?1 AND kind = ?2 AND key = ?3 AND last_at >= ?4 AND last_at < ?5",
        )
        .sql()?;
    let mut rows = walk.query(params![tid, kind as i64, from, to, after_at, after_key]).sql()?;
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(row) = rows.next().sql()? else { break };
        let (key, at): (String, i64) = (row.get(0).sql()?, row.get(1).sql()?);
        if !seen.insert(key.clone()) {
            continue;
        }
        if after.is_some() {
            let latest: i64 = latest_of.query_row(params![tid, kind as i64, key, from, to], |r| r.get(0)).sql()?;
            if latest > after_at || (latest == after_at && key <= after_key) {
                continue;
            }
        }
        out.push((at, key));
    }
    Ok(out)
}
