//! The login rollup (behind the login report), kept by every append in its transaction: per
//! person seen in `auth.login.succeeded` / `auth.login.failed`, their latest attempt (when, how
//! it went, from where), their latest success and failure, and their failures in all. A batch
//! is folded in memory first, then one upsert per person.

use rusqlite::{Connection, OptionalExtension, params};
use trail_store::{
    LoginSummary, RecentPage, StoreResult,
    identity::Resolved,
    rollup::{Attempt, fold_logins},
};

use crate::{
    error::SqlResultExt,
    recent::{Table, ts},
};

/// Adds a person's attempts to their row. The latest attempt's details replace the kept ones only
/// when it is at least as recent: events may arrive out of `occurred_at` order. (SET expressions
/// see the old row.)
const UPSERT: &str = "INSERT INTO logins (tid, key, actor_id, name, email, last_at, last_ok, last_success, last_failure,
                                 failed_total, ip, country, region, city)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (tid, key) DO UPDATE SET
               actor_id = COALESCE(logins.actor_id, excluded.actor_id),
               name = CASE WHEN excluded.last_at >= logins.last_at THEN COALESCE(excluded.name, logins.name) ELSE COALESCE(logins.name, excluded.name) END,
               email = CASE WHEN excluded.last_at >= logins.last_at THEN COALESCE(excluded.email, logins.email) ELSE COALESCE(logins.email, excluded.email) END,
               last_ok = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.last_ok ELSE logins.last_ok END,
               ip = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.ip ELSE logins.ip END,
               country = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.country ELSE logins.country END,
               region = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.region ELSE logins.region END,
               city = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.city ELSE logins.city END,
               last_at = MAX(logins.last_at, excluded.last_at),
               last_success = MAX(COALESCE(logins.last_success, excluded.last_success), COALESCE(excluded.last_success, logins.last_success)),
               last_failure = MAX(COALESCE(logins.last_failure, excluded.last_failure), COALESCE(excluded.last_failure, logins.last_failure)),
               failed_total = logins.failed_total + excluded.failed_total";

/// Folds the newly stored attempts of one append into the rollup (`ids`: the id each e-mail of
/// the batch is linked to).
pub(crate) fn add<'a>(
    conn: &Connection,
    tid: i64,
    attempts: impl IntoIterator<Item = &'a Attempt>,
    ids: &'a Resolved,
) -> StoreResult<()> {
    let people = fold_logins(attempts, ids);
    if people.is_empty() {
        return Ok(());
    }
    let mut upsert = conn.prepare_cached(UPSERT).sql()?;
    for (key, f) in people {
        let l = f.latest;
        upsert
            .execute(params![
                tid,
                key,
                f.id,
                f.name.map(|n| n.1),
                f.email.map(|e| e.1),
                l.at,
                l.ok,
                f.success,
                f.failure,
                f.failed,
                l.ip,
                l.country,
                l.region,
                l.city
            ])
            .sql()?;
    }
    Ok(())
}

/// Merges the row kept under `from` (an e-mail) into the row of `id`, the person it is now
/// linked to, by the same rules as a batch's upsert; the e-mail's row goes.
pub(crate) fn merge(conn: &Connection, tid: i64, from: &str, id: &str) -> StoreResult<()> {
    let found = conn
        .prepare_cached(&format!("SELECT {} FROM logins WHERE tid = ?1 AND key = ?2", TABLE.columns))
        .sql()?
        .query_row(params![tid, from], row)
        .optional()
        .sql()?;
    let Some(mut r) = found else { return Ok(()) };
    r.actor_id = Some(id.to_owned());
    conn.prepare_cached(UPSERT)
        .sql()?
        .execute(params![
            tid,
            id,
            r.actor_id,
            r.name,
            r.email,
            r.last_attempt_at.as_microsecond(),
            r.last_succeeded,
            r.last_success_at.map(|t| t.as_microsecond()),
            r.last_failure_at.map(|t| t.as_microsecond()),
            r.failed_total as i64,
            r.ip,
            r.country,
            r.region,
            r.city
        ])
        .sql()?;
    conn.prepare_cached("DELETE FROM logins WHERE tid = ?1 AND key = ?2").sql()?.execute(params![tid, from]).sql()?;
    Ok(())
}

/// The login rollup's table, for [`crate::recent::page`].
pub(crate) const TABLE: Table = Table {
    name: "logins",
    latest: "last_at",
    columns: "key, actor_id, name, email, last_at, last_ok, last_success, last_failure, failed_total, ip, country, region, city",
    email_index: Some("logins_by_email"),
};

pub(crate) fn page(conn: &Connection, tid: i64, page: &RecentPage) -> StoreResult<Vec<LoginSummary>> {
    crate::recent::page(conn, &TABLE, tid, page, row, |l| (l.last_attempt_at.as_microsecond(), &l.key))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoginSummary> {
    Ok(LoginSummary {
        key: r.get(0)?,
        actor_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        last_attempt_at: ts(r.get(4)?),
        last_succeeded: r.get(5)?,
        last_success_at: r.get::<_, Option<i64>>(6)?.map(ts),
        last_failure_at: r.get::<_, Option<i64>>(7)?.map(ts),
        failed_total: r.get::<_, i64>(8)? as u64,
        ip: r.get(9)?,
        country: r.get(10)?,
        region: r.get(11)?,
        city: r.get(12)?,
    })
}
