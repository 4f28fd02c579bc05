//! One page of a rollup table ordered by latest activity (`logins`, `usage`, `actors`, `links`):
//! rows whose latest activity is at or after `since`, latest first, ties by key, keyset-paged
//! by `(latest, key)` so a page costs O(rows shown) at any depth.

use rusqlite::{Connection, Row, types::Value};
use trail_store::{RecentPage, StoreResult};

use crate::error::SqlResultExt;

/// The table a page is read from: its name, the column holding the latest activity
/// (microseconds), the columns a row is made from, and the index by `(tid, email)` when `only`
/// may name an e-mail. (The index is named: without statistics SQLite would rather walk the
/// tenant's whole primary key than use it, ~50 ms at a million rows.)
pub(crate) struct Table {
    pub name: &'static str,
    pub latest: &'static str,
    pub columns: &'static str,
    pub email_index: Option<&'static str>,
}

pub(crate) fn page<T>(
    conn: &Connection,
    table: &Table,
    tid: i64,
    page: &RecentPage,
    row: fn(&Row<'_>) -> rusqlite::Result<T>,
    latest_of: fn(&T) -> (i64, &str),
) -> StoreResult<Vec<T>> {
    let (after_at, after_key) = page.after.as_ref().map_or((i64::MAX, ""), |(t, k)| (t.as_microsecond(), k.as_str()));
    let since = page.since.map_or(i64::MIN, |t| t.as_microsecond());
    let Table { name, latest, columns, email_index } = table;
    if !page.only.is_empty() {
        // A few named rows: look them up by key (and e-mail), then order them here; SQLite
        // would rather walk the whole `latest` index for the ORDER BY.
        let marks = (0..page.only.len()).map(|i| format!("?{}", i + 2)).collect::<Vec<_>>().join(", ");
        let mut sql = format!("SELECT {columns} FROM {name} WHERE tid = ?1 AND key IN ({marks})");
        if let Some(index) = email_index {
            sql.push_str(&format!(
                " UNION SELECT {columns} FROM {name} INDEXED BY {index} WHERE tid = ?1 AND email IN ({marks})"
            ));
        }
        let mut values: Vec<Value> = vec![tid.into()];
        values.extend(page.only.iter().map(|k| Value::Text(k.clone())));
        let mut stmt = conn.prepare_cached(&sql).sql()?;
        let mut rows: Vec<T> =
            stmt.query_map(rusqlite::params_from_iter(values), row).sql()?.collect::<rusqlite::Result<_>>().sql()?;
        rows.retain(|r| {
            let (at, key) = latest_of(r);
            at >= since && (at < after_at || (at == after_at && key > after_key))
        });
        rows.sort_by(|a, b| {
            let ((at_a, key_a), (at_b, key_b)) = (latest_of(a), latest_of(b));
            at_b.cmp(&at_a).then_with(|| key_a.cmp(key_b))
        });
        rows.truncate(page.limit);
        return Ok(rows);
    }
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {columns} FROM {name}
             WHERE tid = ?1 AND {latest} >= ?2 AND ({latest} < ?3 OR ({latest} = ?3 AND key > ?4))
             ORDER BY {latest} DESC, key
             LIMIT ?5"
        ))
        .sql()?;
    let values: Vec<Value> = vec![
        tid.into(),
        since.into(),
        after_at.into(),
        after_key.to_owned().into(),
        (page.limit.min(10_000) as i64).into(),
    ];
    let rows = stmt.query_map(rusqlite::params_from_iter(values), row).sql()?;
    rows.collect::<rusqlite::Result<_>>().sql()
}

/// A stored time (microseconds) as a timestamp.
pub(crate) fn ts(us: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(us).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}
