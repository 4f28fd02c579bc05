//! The link rollup (the link list in front of each per-link access log), kept by every append
//! in its transaction: per link (the id of its `link` target), what `link.created` said
//! ([`expires_at`], [`require_email`], who made it), how often it was viewed and saved, whether
//! it was revoked or expired, and its latest event.

use rusqlite::{Connection, params};
use trail_store::{
    LinkSummary, RecentPage, StoreResult,
    rollup::{LinkUse, fold_links},
};

use crate::{
    error::SqlResultExt,
    recent::{Table, ts},
};

/// Folds the newly stored link events of one append into the rollup.
pub(crate) fn add<'a>(conn: &Connection, tid: i64, uses: impl IntoIterator<Item = &'a LinkUse>) -> StoreResult<()> {
    let links = fold_links(uses);
    if links.is_empty() {
        return Ok(());
    }
    // The first ending wins (a link revoked and later reported expired was revoked).
    let mut upsert = conn
        .prepare_cached(
            "INSERT INTO links (tid, key, name, file_name, created_by, created_at, expires_at, require_email,
                                views, saves, state, ended_at, last_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (tid, key) DO UPDATE SET
               name = COALESCE(excluded.name, links.name),
               file_name = COALESCE(excluded.file_name, links.file_name),
               created_by = COALESCE(excluded.created_by, links.created_by),
               created_at = COALESCE(excluded.created_at, links.created_at),
               expires_at = COALESCE(excluded.expires_at, links.expires_at),
               require_email = CASE WHEN excluded.created_at IS NOT NULL THEN excluded.require_email ELSE links.require_email END,
               views = links.views + excluded.views,
               saves = links.saves + excluded.saves,
               state = CASE WHEN links.ended_at IS NULL OR (excluded.ended_at IS NOT NULL AND excluded.ended_at < links.ended_at)
                            THEN excluded.state ELSE links.state END,
               ended_at = CASE WHEN links.ended_at IS NULL OR (excluded.ended_at IS NOT NULL AND excluded.ended_at < links.ended_at)
                               THEN excluded.ended_at ELSE links.ended_at END,
               last_at = MAX(links.last_at, excluded.last_at)",
        )
        .sql()?;
    for (key, f) in links {
        let created = f.created;
        upsert
            .execute(params![
                tid,
                key,
                f.name,
                f.file_name,
                created.and_then(|c| c.actor.as_deref()),
                created.map(|c| c.at),
                created.and_then(|c| c.expires_at.as_deref()),
                created.is_some_and(|c| c.require_email),
                f.views,
                f.saves,
                f.ended.map_or("active", |e| e.state),
                f.ended.map(|e| e.at),
                f.last_at,
            ])
            .sql()?;
    }
    Ok(())
}

/// The link rollup's table, for [`crate::recent::page`].
const TABLE: Table = Table {
    name: "links",
    latest: "last_at",
    columns: "key, name, file_name, created_by, created_at, expires_at, require_email, views, saves, state, ended_at, last_at",
    email_index: None,
};

pub(crate) fn page(conn: &Connection, tid: i64, page: &RecentPage) -> StoreResult<Vec<LinkSummary>> {
    crate::recent::page(conn, &TABLE, tid, page, row, |l| (l.last_activity_at.as_microsecond(), &l.key))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LinkSummary> {
    Ok(LinkSummary {
        key: r.get(0)?,
        name: r.get(1)?,
        file_name: r.get(2)?,
        created_by: r.get(3)?,
        created_at: r.get::<_, Option<i64>>(4)?.map(ts),
        expires_at: r.get(5)?,
        require_email: r.get(6)?,
        views: r.get::<_, i64>(7)? as u64,
        saves: r.get::<_, i64>(8)? as u64,
        state: r.get(9)?,
        ended_at: r.get::<_, Option<i64>>(10)?.map(ts),
        last_activity_at: ts(r.get(11)?),
    })
}
