//! The identity table (`trail_store::identity`): per tenant, one row per e-mail spelling seen,
//! with the actor id it is linked to. Every spelling of one e-mail (`email_key`) carries the
//! same link, so one row answers "whose is this e-mail" and the rows of an id are all their
//! spellings. Kept by every append in its transaction, before the rollups, which are folded
//! with the links it returns.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};
use trail_store::{
    StoreResult,
    identity::{Person, Resolved, email_key, fold_emails},
    rollup::Seen,
};

use crate::error::SqlResultExt;

/// Records the e-mails of one append's new events and the ids they are paired with, merges the
/// rollup rows of any e-mail linked (or moved) to an id by them, and returns the id each e-mail
/// of the batch is linked to.
pub(crate) fn link<'a>(conn: &Connection, tid: i64, seen: impl Iterator<Item = &'a Seen>) -> StoreResult<Resolved> {
    let mut resolved = Resolved::default();
    for (key, f) in fold_emails(seen) {
        let before = current(conn, tid, &key)?;
        let mut insert = conn
            .prepare_cached(
                "INSERT INTO identities (tid, email, email_key, actor_id, linked_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tid, email) DO NOTHING",
            )
            .sql()?;
        let (id, at) = match &before {
            Some((id, at)) => (Some(id.as_str()), Some(*at)),
            None => (None, None),
        };
        for spelling in &f.spellings {
            insert.execute(params![tid, spelling, key, id, at]).sql()?;
        }
        let mut now = before.as_ref().map(|(id, _)| id.clone());
        if let Some((at, id)) = f.pairing
            && before.as_ref().is_none_or(|(was, was_at)| at >= *was_at && (was != id || at > *was_at))
        {
            conn.prepare_cached(
                "UPDATE identities SET actor_id = ?3, linked_at = ?4 WHERE tid = ?1 AND email_key = ?2",
            )
            .sql()?
            .execute(params![tid, key, id, at])
            .sql()?;
            if now.as_deref() != Some(id) {
                // A new link (or a moved e-mail): what was kept under the e-mail is the id's.
                for spelling in spellings(conn, tid, &key)? {
                    merge(conn, tid, &spelling, id)?;
                }
                tracing::debug!(tenant = tid, "linked an e-mail to an actor id");
            }
            now = Some(id.to_owned());
        }
        if let Some(id) = now {
            for spelling in &f.spellings {
                resolved.insert(spelling, &id);
            }
        }
    }
    Ok(resolved)
}

/// The id an e-mail (by key) is linked to, and since when.
fn current(conn: &Connection, tid: i64, key: &str) -> StoreResult<Option<(String, i64)>> {
    conn.prepare_cached(
        "SELECT actor_id, linked_at FROM identities WHERE tid = ?1 AND email_key = ?2 AND actor_id IS NOT NULL LIMIT 1",
    )
    .sql()?
    .query_row(params![tid, key], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
    .sql()
}

fn spellings(conn: &Connection, tid: i64, key: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT email FROM identities WHERE tid = ?1 AND email_key = ?2").sql()?;
    let rows = stmt.query_map(params![tid, key], |r| r.get(0)).sql()?;
    rows.collect::<rusqlite::Result<_>>().sql()
}

/// Merges every rollup row of a person kept under `from` (an e-mail) into the row of `id`.
fn merge(conn: &Connection, tid: i64, from: &str, id: &str) -> StoreResult<()> {
    if from == id {
        return Ok(());
    }
    crate::rollups::merge(conn, tid, from, id)?;
    crate::logins::merge(conn, tid, from, id)?;
    crate::usage::merge(conn, tid, from, id)?;
    crate::buckets::merge(conn, tid, from, id)
}

/// See `Store::person`.
pub(crate) fn person(conn: &Connection, tid: i64, ids: &[String], emails: &[String]) -> StoreResult<Person> {
    let mut p = Person::default();
    let mut keys: HashSet<String> = HashSet::new();
    let mut all: Vec<String> = ids.to_vec();
    for e in emails {
        let key = email_key(e);
        if let Some((id, _)) = current(conn, tid, &key)? {
            all.push(id);
        }
        keys.insert(key);
    }
    let mut by_id =
        conn.prepare_cached("SELECT DISTINCT email_key FROM identities WHERE tid = ?1 AND actor_id = ?2").sql()?;
    for id in &all {
        let linked = by_id.query_map(params![tid, id], |r| r.get::<_, String>(0)).sql()?;
        let linked: Vec<String> = linked.collect::<rusqlite::Result<_>>().sql()?;
        if !linked.is_empty() || !ids.contains(id) {
            p.add_id(id);
        }
        keys.extend(linked);
    }
    let mut keys: Vec<String> = keys.into_iter().collect();
    keys.sort();
    for key in keys {
        for spelling in spellings(conn, tid, &key)? {
            p.add_email(&spelling);
        }
    }
    Ok(p)
}

/// Fills the table from the rollups of a database written before it existed: every row that
/// names an id and an e-mail links them (the latest such row by activity wins), every e-mail
/// kept without an id is a spelling, and rows kept under a linked e-mail are merged into the
/// id's, as if the events had arrived with the table in place.
pub(crate) fn rebuild(conn: &Connection) -> StoreResult<()> {
    let mut stmt = conn
        .prepare(
            "SELECT tid, actor_id, email, last_seen FROM actors WHERE email IS NOT NULL
             UNION ALL SELECT tid, actor_id, email, last_at FROM logins WHERE email IS NOT NULL
             UNION ALL SELECT tid, actor_id, email, last_at FROM usage WHERE email IS NOT NULL
             UNION ALL SELECT tid, NULL, key, last_seen FROM actors WHERE actor_id IS NULL
             UNION ALL SELECT tid, NULL, key, last_at FROM logins WHERE actor_id IS NULL
             UNION ALL SELECT tid, NULL, key, last_at FROM usage WHERE actor_id IS NULL
             ORDER BY 1, 4",
        )
        .sql()?;
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
        })
        .sql()?;
    let rows: Vec<(i64, Option<String>, String, i64)> = rows.collect::<rusqlite::Result<_>>().sql()?;
    // Each row is replayed as an event that carried its id and e-mail: one batch per tenant.
    let mut start = 0;
    while start < rows.len() {
        let tid = rows[start].0;
        let end = start + rows[start..].iter().take_while(|r| r.0 == tid).count();
        let seen: Vec<Seen> =
            rows[start..end].iter().map(|(_, id, email, at)| Seen::pairing(id.clone(), email.clone(), *at)).collect();
        link(conn, tid, seen.iter())?;
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    /// Regression (one person counted as two, in databases written before the identity table):
    /// opening a database of schema 7 whose rollups hold a person twice, under their id and
    /// under their e-mail, links the e-mail to the id and merges the rows.
    #[test]
    fn the_migration_merges_rows_kept_under_a_linked_email() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate_to(&mut conn, 7).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants (tid, id, name, plan, time_zone, created_at) VALUES (1, 't', 't', 'p', 'UTC', 0);
             INSERT INTO actors VALUES (1, 'u_1002', 'u_1002', 'Ben Khan', 'ben.khan@example.com', 100, 500, 362, 400);
             INSERT INTO actors VALUES (1, 'Ben.Khan@example.com', NULL, NULL, 'Ben.Khan@example.com', 50, 600, 50, NULL);
             INSERT INTO actors VALUES (1, 'eve@example.com', NULL, NULL, 'eve@example.com', 10, 20, 5, NULL);
             INSERT INTO logins VALUES (1, 'u_1002', 'u_1002', 'Ben Khan', 'ben.khan@example.com',
                                        400, 1, 400, 300, 6, '198.51.100.1', 'GB', NULL, 'London');
             INSERT INTO logins VALUES (1, 'Ben.Khan@example.com', NULL, NULL, 'Ben.Khan@example.com',
                                        600, 0, NULL, 600, 56, '203.0.113.9', 'NL', NULL, 'Amsterdam');
             INSERT INTO usage VALUES (1, 'Ben.Khan@example.com', NULL, NULL, 'Ben.Khan@example.com', 2, 1, 0, 300, 0, 550);
             INSERT INTO activity_buckets VALUES (1, 1, 'Ben.Khan@example.com', 0, 600);
             INSERT INTO activity_buckets VALUES (1, 1, 'u_1002', 0, 400);",
        )
        .unwrap();
        crate::schema::migrate(&mut conn).unwrap();

        let actors: Vec<(String, Option<String>, i64, i64, i64)> = conn
            .prepare("SELECT key, actor_id, event_count, first_seen, last_seen FROM actors ORDER BY key")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            actors,
            [("eve@example.com".into(), None, 5, 10, 20), ("u_1002".into(), Some("u_1002".into()), 412, 50, 600)]
        );
        let logins: Vec<(String, i64, i64, Option<String>)> = conn
            .prepare("SELECT key, failed_total, last_ok, city FROM logins ORDER BY key")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(logins, [("u_1002".into(), 62, 0, Some("Amsterdam".into()))]);
        let usage: Vec<(String, Option<String>, i64)> = conn
            .prepare("SELECT key, actor_id, uploads FROM usage")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(usage, [("u_1002".into(), Some("u_1002".into()), 2)]);
        let buckets: Vec<(String, i64)> = conn
            .prepare("SELECT key, last_at FROM activity_buckets")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(buckets, [("u_1002".into(), 600)]);
        let p = super::person(&conn, 1, &["u_1002".into()], &[]).unwrap();
        assert_eq!(p.emails, ["Ben.Khan@example.com", "ben.khan@example.com"]);
    }
}
