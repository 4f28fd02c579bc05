//! Rollups kept in the append transaction: who has acted (the users report and the console's
//! user picker) and which actions the log holds (the report-type picker, category tabs).
//!
//! A batch is folded in memory first (a batch of 1,000 events usually names a handful of people
//! and actions), then each distinct person and action is one upsert, so the cost per event is a
//! hash-map update, not a B-tree write.

use rusqlite::{Connection, OptionalExtension, params};
use trail_store::{
    ActionCount, ActorSummary, RecentPage, StoreResult,
    identity::Resolved,
    rollup::{Seen, fold_seen},
};

use crate::{
    error::SqlResultExt,
    recent::{Table, ts},
};

/// Adds a person's part of a batch to their row. A name or e-mail replaces the kept one when it
/// is at least as recent as the last event seen (?10 and ?11 say when they were given): events
/// may arrive out of `occurred_at` order.
const UPSERT_ACTOR: &str =
    "INSERT INTO actors (tid, key, actor_id, name, email, first_seen, last_seen, event_count, last_login)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
     ON CONFLICT (tid, key) DO UPDATE SET
       actor_id = COALESCE(actors.actor_id, excluded.actor_id),
       name = CASE WHEN excluded.name IS NOT NULL AND (?10 >= actors.last_seen OR actors.name IS NULL)
                   THEN excluded.name ELSE actors.name END,
       email = CASE WHEN excluded.email IS NOT NULL AND (?11 >= actors.last_seen OR actors.email IS NULL)
                    THEN excluded.email ELSE actors.email END,
       first_seen = MIN(actors.first_seen, excluded.first_seen),
       last_seen = MAX(actors.last_seen, excluded.last_seen),
       event_count = actors.event_count + excluded.event_count,
       last_login = MAX(COALESCE(actors.last_login, excluded.last_login),
                        COALESCE(excluded.last_login, actors.last_login))";

/// Folds the newly stored events of one append into the rollups (`ids`: the id each e-mail of
/// the batch is linked to).
pub(crate) fn add<'a>(
    conn: &Connection,
    tid: i64,
    seen: impl Iterator<Item = &'a Seen>,
    ids: &'a Resolved,
) -> StoreResult<()> {
    let (actions, actors) = fold_seen(seen, ids);
    let mut upsert_action = conn
        .prepare_cached(
            "INSERT INTO action_counts (tid, action, event_count) VALUES (?1, ?2, ?3)
             ON CONFLICT (tid, action) DO UPDATE SET event_count = event_count + excluded.event_count",
        )
        .sql()?;
    for (action, n) in actions {
        upsert_action.execute(params![tid, action, n]).sql()?;
    }
    let mut upsert_actor = conn.prepare_cached(UPSERT_ACTOR).sql()?;
    for (key, f) in actors {
        upsert_actor
            .execute(params![
                tid,
                key,
                f.id,
                f.name.map(|n| n.1),
                f.email.map(|e| e.1),
                f.first,
                f.last,
                f.count,
                f.login,
                f.name.map_or(i64::MIN, |n| n.0),
                f.email.map_or(i64::MIN, |e| e.0),
            ])
            .sql()?;
    }
    Ok(())
}

/// Merges the row kept under `from` (an e-mail) into the row of `id`, the person it is now
/// linked to, by the same rules as a batch's upsert; the e-mail's row goes.
pub(crate) fn merge(conn: &Connection, tid: i64, from: &str, id: &str) -> StoreResult<()> {
    let row = conn
        .prepare_cached(
            "SELECT name, email, first_seen, last_seen, event_count, last_login FROM actors WHERE tid = ?1 AND key = ?2",
        )
        .sql()?
        .query_row(params![tid, from], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })
        .optional()
        .sql()?;
    let Some((name, email, first, last, count, login)) = row else { return Ok(()) };
    conn.prepare_cached(UPSERT_ACTOR)
        .sql()?
        .execute(params![tid, id, id, name, email, first, last, count, login, last, last])
        .sql()?;
    conn.prepare_cached("DELETE FROM actors WHERE tid = ?1 AND key = ?2").sql()?.execute(params![tid, from]).sql()?;
    Ok(())
}

/// The actors rollup's table, for [`crate::recent::page`].
const TABLE: Table = Table {
    name: "actors",
    latest: "last_seen",
    columns: "key, actor_id, name, email, first_seen, last_seen, event_count, last_login",
    email_index: Some("actors_by_email"),
};

pub(crate) fn actors(conn: &Connection, tid: i64, page: &RecentPage) -> StoreResult<Vec<ActorSummary>> {
    crate::recent::page(conn, &TABLE, tid, page, row, |a| (a.last_seen_at.as_microsecond(), &a.key))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActorSummary> {
    Ok(ActorSummary {
        key: r.get(0)?,
        actor_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        first_seen_at: ts(r.get(4)?),
        last_seen_at: ts(r.get(5)?),
        event_count: r.get::<_, i64>(6)? as u64,
        last_login_at: r.get::<_, Option<i64>>(7)?.map(ts),
    })
}

pub(crate) fn actions(conn: &Connection, tid: i64) -> StoreResult<Vec<ActionCount>> {
    let mut stmt =
        conn.prepare_cached("SELECT action, event_count FROM action_counts WHERE tid = ?1 ORDER BY action").sql()?;
    let rows = stmt
        .query_map([tid], |r| Ok(ActionCount { action: r.get(0)?, event_count: r.get::<_, i64>(1)? as u64 }))
        .sql()?;
    rows.collect::<rusqlite::Result<_>>().sql()
}
