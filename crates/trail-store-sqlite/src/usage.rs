//! The usage rollup (behind the usage report), kept by every append in its transaction: per
//! person seen in `file.uploaded` [`size_bytes`], `file.downloaded` and `file.deleted`
//! [`size_bytes`], their uploads, downloads and deletes, the bytes they uploaded and deleted,
//! and their latest file event. Files held and storage used are the differences, read as never
//! below zero (a delete of a file uploaded before Trail was installed must not go negative).

use rusqlite::{Connection, OptionalExtension, params};
use trail_store::{
    RecentPage, StoreResult, UsageSummary,
    identity::Resolved,
    rollup::{FileUse, fold_usage},
};

use crate::{
    error::SqlResultExt,
    recent::{Table, ts},
};

/// Adds a person's file events to their row. The latest event's name and e-mail replace the kept
/// ones only when it is at least as recent: events may arrive out of `occurred_at` order. (SET
/// expressions see the old row.)
const UPSERT: &str = "INSERT INTO usage (tid, key, actor_id, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (tid, key) DO UPDATE SET
               actor_id = COALESCE(usage.actor_id, excluded.actor_id),
               name = CASE WHEN excluded.last_at >= usage.last_at THEN COALESCE(excluded.name, usage.name) ELSE COALESCE(usage.name, excluded.name) END,
               email = CASE WHEN excluded.last_at >= usage.last_at THEN COALESCE(excluded.email, usage.email) ELSE COALESCE(usage.email, excluded.email) END,
               uploads = usage.uploads + excluded.uploads,
               downloads = usage.downloads + excluded.downloads,
               deletes = usage.deletes + excluded.deletes,
               bytes_in = usage.bytes_in + excluded.bytes_in,
               bytes_out = usage.bytes_out + excluded.bytes_out,
               last_at = MAX(usage.last_at, excluded.last_at)";

/// Folds the newly stored file events of one append into the rollup (`ids`: the id each e-mail
/// of the batch is linked to).
pub(crate) fn add<'a>(
    conn: &Connection,
    tid: i64,
    uses: impl IntoIterator<Item = &'a FileUse>,
    ids: &'a Resolved,
) -> StoreResult<()> {
    let people = fold_usage(uses, ids);
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
                f.uploads,
                f.downloads,
                f.deletes,
                f.bytes_in,
                f.bytes_out,
                l.at
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
            "SELECT name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at FROM usage
             WHERE tid = ?1 AND key = ?2",
        )
        .sql()?
        .query_row(params![tid, from], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                [r.get::<_, i64>(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?],
            ))
        })
        .optional()
        .sql()?;
    let Some((name, email, [uploads, downloads, deletes, bytes_in, bytes_out, last_at])) = row else { return Ok(()) };
    conn.prepare_cached(UPSERT)
        .sql()?
        .execute(params![tid, id, id, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at])
        .sql()?;
    conn.prepare_cached("DELETE FROM usage WHERE tid = ?1 AND key = ?2").sql()?.execute(params![tid, from]).sql()?;
    Ok(())
}

/// The usage rollup's table, for [`crate::recent::page`].
const TABLE: Table = Table {
    name: "usage",
    latest: "last_at",
    columns: "key, actor_id, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at",
    email_index: Some("usage_by_email"),
};

pub(crate) fn page(conn: &Connection, tid: i64, page: &RecentPage) -> StoreResult<Vec<UsageSummary>> {
    crate::recent::page(conn, &TABLE, tid, page, row, |u| (u.last_activity_at.as_microsecond(), &u.key))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UsageSummary> {
    let (uploads, downloads, deletes): (i64, i64, i64) = (r.get(4)?, r.get(5)?, r.get(6)?);
    let (bytes_in, bytes_out): (i64, i64) = (r.get(7)?, r.get(8)?);
    Ok(UsageSummary {
        key: r.get(0)?,
        actor_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        files: (uploads - deletes).max(0) as u64,
        storage_bytes: (bytes_in.saturating_sub(bytes_out)).max(0) as u64,
        uploads: uploads as u64,
        downloads: downloads as u64,
        deletes: deletes as u64,
        last_activity_at: ts(r.get(9)?),
    })
}
