//! The usage rollup (SPEC 5's usage report), kept by every append in its transaction: per
//! person seen in `file.uploaded` [`size_bytes`], `file.downloaded` and `file.deleted`
//! [`size_bytes`], their uploads, downloads and deletes, the bytes they uploaded and deleted,
//! and their latest file event. Files held and storage used are the differences, read as never
//! below zero (a delete of a file uploaded before Trail was installed must not go negative).

use std::collections::HashMap;

use rusqlite::{Connection, params};
use trail_core::event::EventBody;
use trail_store::{RecentPage, StoreResult, UsageSummary};

use crate::{
    error::SqlResultExt,
    recent::{Table, keep_latest, ts},
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Upload,
    Download,
    Delete,
}

/// One file event by someone identifiable.
pub(crate) struct FileUse {
    pub(crate) key: String,
    actor_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    pub(crate) at: i64,
    kind: Kind,
    /// `metadata.size_bytes` when it is a whole number of bytes, else 0.
    bytes: i64,
}

impl FileUse {
    pub(crate) fn of(body: &EventBody) -> Option<FileUse> {
        let kind = match body.action.as_str() {
            "file.uploaded" => Kind::Upload,
            "file.downloaded" => Kind::Download,
            "file.deleted" => Kind::Delete,
            _ => return None,
        };
        let actor = body.actor.as_ref()?;
        let key = actor.id.clone().or_else(|| actor.email.clone())?;
        let bytes = body
            .metadata
            .as_ref()
            .and_then(|m| m.get("size_bytes"))
            .and_then(serde_json::Value::as_u64)
            .map_or(0, |b| b.min(i64::MAX as u64) as i64);
        Some(FileUse {
            key,
            actor_id: actor.id.clone(),
            name: actor.name.clone(),
            email: actor.email.clone(),
            at: body.occurred_at.as_microsecond(),
            kind,
            bytes,
        })
    }
}

struct Fold<'a> {
    /// The latest name and e-mail given (not every event carries them).
    name: Option<(i64, &'a str)>,
    email: Option<(i64, &'a str)>,
    latest: &'a FileUse,
    uploads: i64,
    downloads: i64,
    deletes: i64,
    bytes_in: i64,
    bytes_out: i64,
}

/// Folds the newly stored file events of one append into the rollup.
pub(crate) fn add<'a>(conn: &Connection, tid: i64, uses: impl Iterator<Item = &'a FileUse>) -> StoreResult<()> {
    let mut people: HashMap<&str, Fold<'_>> = HashMap::new();
    for u in uses {
        let f = people.entry(&u.key).or_insert(Fold {
            name: None,
            email: None,
            latest: u,
            uploads: 0,
            downloads: 0,
            deletes: 0,
            bytes_in: 0,
            bytes_out: 0,
        });
        keep_latest(&mut f.name, u.at, u.name.as_deref());
        keep_latest(&mut f.email, u.at, u.email.as_deref());
        if u.at >= f.latest.at {
            f.latest = u;
        }
        match u.kind {
            Kind::Upload => {
                f.uploads += 1;
                f.bytes_in = f.bytes_in.saturating_add(u.bytes);
            }
            Kind::Download => f.downloads += 1,
            Kind::Delete => {
                f.deletes += 1;
                f.bytes_out = f.bytes_out.saturating_add(u.bytes);
            }
        }
    }
    if people.is_empty() {
        return Ok(());
    }
    // The latest event's name and e-mail replace the kept ones only when it is at least as
    // recent: events may arrive out of `occurred_at` order. (SET expressions see the old row.)
    let mut upsert = conn
        .prepare_cached(
            "INSERT INTO usage (tid, key, actor_id, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at)
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
               last_at = MAX(usage.last_at, excluded.last_at)",
        )
        .sql()?;
    for (key, f) in people {
        let l = f.latest;
        upsert
            .execute(params![
                tid,
                key,
                l.actor_id,
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
