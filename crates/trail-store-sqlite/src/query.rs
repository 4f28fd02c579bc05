//! A [`Filter`] and a [`Page`] become one SQL statement here, and only here.
//!
//! The statement walks the `(tid, occurred_at)` index backwards (its entries end with the
//! primary key, so ties on `occurred_at` come out by seq, descending) and stops after
//! `limit + 1` rows; the extra row tells whether there is a next page without counting.

use rusqlite::{Connection, OptionalExtension, types::Value};
use trail_core::{
    TenantId,
    event::{EventBody, Outcome, StoredEvent},
    filter::{ActionPattern, Cursor, Filter, Page},
};
use trail_store::{EventPage, StoreError, StoreResult};

use crate::{SEQ_MASK, error::SqlResultExt, event_pos};

/// Builds the statement for one page. Returns the SQL and its parameters.
fn build(tid: i64, snapshot: u64, filter: &Filter, page: &Page) -> (String, Vec<Value>) {
    let mut sql = String::from("SELECT pos, body FROM events WHERE tid = ?1 AND +pos <= ?2");
    let mut params: Vec<Value> = vec![Value::Integer(tid), Value::Integer(event_pos(tid, snapshot))];
    let mut push = |sql: &mut String, clause: &str, v: Value| {
        params.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", params.len())));
    };
    if let Some(from) = filter.time.from {
        push(&mut sql, " AND occurred_at >= ?", Value::Integer(from.as_microsecond()));
    }
    if let Some(to) = filter.time.to {
        push(&mut sql, " AND occurred_at < ?", Value::Integer(to.as_microsecond()));
    }
    if let Some(c) = &page.cursor {
        push(&mut sql, " AND (occurred_at, pos) < (?", Value::Integer(c.occurred_at_us));
        push(&mut sql, ", ?)", Value::Integer(event_pos(tid, c.seq)));
    }
    if !filter.actors.is_empty() {
        sql.push_str(" AND (");
        for (i, a) in filter.actors.iter().enumerate() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            push(&mut sql, "actor_id = ?", Value::Text(a.clone()));
            push(&mut sql, " OR actor_email = ?", Value::Text(a.clone()));
        }
        sql.push(')');
    }
    if !filter.actions.is_empty() {
        sql.push_str(" AND (");
        for (i, p) in filter.actions.iter().enumerate() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            match p {
                ActionPattern::Exact(a) => push(&mut sql, "action = ?", Value::Text(a.clone())),
                // Actions hold only [a-z0-9_.], none of which is special to GLOB.
                ActionPattern::Prefix(p) => push(&mut sql, "action GLOB ?", Value::Text(format!("{p}*"))),
            }
        }
        sql.push(')');
    }
    if !filter.categories.is_empty() {
        sql.push_str(" AND category IN (");
        for (i, c) in filter.categories.iter().enumerate() {
            push(&mut sql, if i == 0 { "?" } else { ", ?" }, Value::Text(c.as_str().to_owned()));
        }
        sql.push(')');
    }
    if filter.outcomes.len() == 1 {
        push(&mut sql, " AND outcome = ?", Value::Integer((filter.outcomes[0] == Outcome::Failure) as i64));
    }
    push(&mut sql, " ORDER BY occurred_at DESC, pos DESC LIMIT ?", Value::Integer(page.limit as i64 + 1));
    (sql, params)
}

pub(crate) fn decode(tenant: &TenantId, pos: i64, body: &[u8]) -> StoreResult<StoredEvent> {
    let body: EventBody = serde_json::from_slice(body).map_err(StoreError::internal)?;
    Ok(StoredEvent { tenant: tenant.clone(), seq: (pos & SEQ_MASK) as u64, body })
}

/// Candidate rows read per statement while filling a page.
const CHUNK: usize = 512;

/// Runs one page of a query in a single read transaction (one consistent snapshot).
///
/// SQL narrows by time, actor, action, category and outcome and walks the time index newest
/// first; every candidate is then checked against the whole filter with [`Filter::matches`],
/// the reference definition of a match. Candidates are read in chunks until the page is full.
pub(crate) fn run(
    conn: &mut Connection,
    tenant: &TenantId,
    tid: i64,
    filter: &Filter,
    page: Page,
) -> StoreResult<EventPage> {
    let tx = conn.transaction().sql()?;
    let snapshot = match page.cursor {
        Some(c) => c.snapshot,
        None => next_seq(&tx, tenant, tid)? - 1,
    };
    let mut events = Vec::with_capacity(page.limit.min(1000));
    let mut more = false;
    let mut position = page.cursor.map(|c| (c.occurred_at_us, c.seq));
    'chunks: loop {
        let chunk = Page {
            limit: CHUNK.max(page.limit + 1) - 1,
            cursor: position.map(|(occurred_at_us, seq)| Cursor { occurred_at_us, seq, snapshot, time: filter.time }),
        };
        let (sql, params) = build(tid, snapshot, filter, &chunk);
        let mut stmt = tx.prepare_cached(&sql).sql()?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).sql()?;
        let mut read = 0;
        while let Some(row) = rows.next().sql()? {
            read += 1;
            let pos: i64 = row.get(0).sql()?;
            let body = row.get_ref(1).sql()?.as_blob().map_err(|e| StoreError::internal(rusqlite::Error::from(e)))?;
            let event = decode(tenant, pos, body)?;
            position = Some((event.body.occurred_at.as_microsecond(), event.seq));
            if !filter.matches(&event.body) {
                continue;
            }
            if events.len() == page.limit {
                more = true;
                break 'chunks;
            }
            events.push(event);
        }
        if read < chunk.limit + 1 {
            break;
        }
    }
    let next_cursor = match (more, events.last()) {
        (true, Some(last)) => Some(Cursor {
            occurred_at_us: last.body.occurred_at.as_microsecond(),
            seq: last.seq,
            snapshot,
            time: filter.time,
        }),
        _ => None,
    };
    Ok(EventPage { events, next_cursor })
}

fn next_seq(tx: &rusqlite::Transaction<'_>, tenant: &TenantId, tid: i64) -> StoreResult<u64> {
    let next: i64 = tx
        .prepare_cached("SELECT next_seq FROM tenants WHERE tid = ?1")
        .sql()?
        .query_row([tid], |r| r.get(0))
        .optional()
        .sql()?
        .ok_or_else(|| StoreError::NotFound(format!("tenant {tenant}")))?;
    Ok(next as u64)
}

/// Counts matching events per interval by walking the matching events of the whole range.
pub(crate) fn count_buckets(
    conn: &mut Connection,
    tenant: &TenantId,
    tid: i64,
    filter: &Filter,
    boundaries: &[jiff::Timestamp],
) -> StoreResult<Vec<u64>> {
    let mut counts = vec![0u64; boundaries.len().saturating_sub(1)];
    if counts.is_empty() {
        return Ok(counts);
    }
    let mut f = filter.clone();
    let lo = boundaries[0].max(filter.time.from.unwrap_or(boundaries[0]));
    let hi = boundaries[boundaries.len() - 1].min(filter.time.to.unwrap_or(boundaries[boundaries.len() - 1]));
    f.time = trail_core::time::TimeBounds { from: Some(lo), to: Some(hi) };
    let mut page = Page { limit: Page::MAX_LIMIT, cursor: None };
    loop {
        let p = run(conn, tenant, tid, &f, page)?;
        for e in &p.events {
            let at = e.body.occurred_at;
            let i = boundaries.partition_point(|b| *b <= at);
            if (1..=counts.len()).contains(&i) {
                counts[i - 1] += 1;
            }
        }
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return Ok(counts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_walks_the_time_index_without_sorting() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        let mut f = Filter::default();
        f.time.from = Some(jiff::Timestamp::UNIX_EPOCH);
        f.actors = vec!["u".into()];
        let page = Page {
            limit: 50,
            cursor: Some(Cursor { occurred_at_us: 5, seq: 3, snapshot: 9, time: Default::default() }),
        };
        let (sql, params) = build(1, 9, &f, &page);
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(rusqlite::params_from_iter(params), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("events_by_time"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "the query must not sort: {plan}");
    }
}
