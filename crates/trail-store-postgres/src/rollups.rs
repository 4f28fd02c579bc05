//! The rollups (actors, action counts, logins, usage, links, activity buckets), folded per batch
//! by `trail_store::rollup` and written in the append transaction with one upsert per distinct
//! row, pipelined (sent together, answered together). The merge rules are those of the SQLite
//! store's upserts: a name, e-mail or place replaces the kept one only when at least as recent.

use jiff::Timestamp;
use tokio_postgres::{GenericClient, Row, Statement, Transaction, types::ToSql};
use trail_core::TenantId;
use trail_store::{
    ActionCount, ActorSummary, LinkSummary, LoginSummary, RecentPage, RollupKind, StoreResult, UsageSummary,
    rollup::{Fact, Seen, fold_buckets, fold_links, fold_logins, fold_seen, fold_usage, split},
};

use crate::{PgStore, error::PgResultExt, store::ts};

type Param = Box<dyn ToSql + Sync + Send>;

/// Runs one statement for each parameter row, pipelined.
async fn each(tx: &Transaction<'_>, sql: &str, rows: Vec<Vec<Param>>) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let stmt: Statement = tx.prepare(sql).await.pg()?;
    let runs = rows.iter().map(|p| tx.execute_raw(&stmt, p.iter().map(|b| &**b as &(dyn ToSql + Sync))));
    futures::future::try_join_all(runs).await.pg()?;
    Ok(())
}

fn p<T: ToSql + Sync + Send + 'static>(v: T) -> Param {
    Box::new(v)
}

fn s(v: Option<&str>) -> Param {
    Box::new(v.map(str::to_owned))
}

/// Folds the newly stored events of one append into every rollup.
pub(crate) async fn add<'a>(
    tx: &Transaction<'_>,
    tenant: &str,
    seen: impl Iterator<Item = &'a Seen>,
    facts: impl Iterator<Item = &'a Fact> + Clone,
) -> StoreResult<()> {
    let t = || p(tenant.to_owned());
    let (actions, actors) = fold_seen(seen);
    each(
        tx,
        "INSERT INTO action_counts (tenant_id, action, event_count) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, action) DO UPDATE SET event_count = action_counts.event_count + excluded.event_count",
        actions.into_iter().map(|(a, n)| vec![t(), p(a.to_owned()), p(n)]).collect(),
    )
    .await?;
    each(
        tx,
        "INSERT INTO actors (tenant_id, key, actor_id, name, email, first_seen, last_seen, event_count, last_login)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id, key) DO UPDATE SET
           actor_id = COALESCE(actors.actor_id, excluded.actor_id),
           name = CASE WHEN excluded.name IS NOT NULL AND ($10 >= actors.last_seen OR actors.name IS NULL)
                       THEN excluded.name ELSE actors.name END,
           email = CASE WHEN excluded.email IS NOT NULL AND ($11 >= actors.last_seen OR actors.email IS NULL)
                        THEN excluded.email ELSE actors.email END,
           first_seen = LEAST(actors.first_seen, excluded.first_seen),
           last_seen = GREATEST(actors.last_seen, excluded.last_seen),
           event_count = actors.event_count + excluded.event_count,
           last_login = GREATEST(actors.last_login, excluded.last_login)",
        actors
            .into_iter()
            .map(|(key, f)| {
                vec![
                    t(),
                    p(key.to_owned()),
                    s(f.id),
                    s(f.name.map(|n| n.1)),
                    s(f.email.map(|e| e.1)),
                    p(f.first),
                    p(f.last),
                    p(f.count),
                    p(f.login),
                    p(f.name.map_or(i64::MIN, |n| n.0)),
                    p(f.email.map_or(i64::MIN, |e| e.0)),
                ]
            })
            .collect(),
    )
    .await?;
    each(
        tx,
        "INSERT INTO activity_buckets (tenant_id, kind, key, bucket, last_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, kind, key, bucket) DO UPDATE
           SET last_at = GREATEST(activity_buckets.last_at, excluded.last_at)",
        fold_buckets(facts.clone().map(Fact::activity))
            .into_iter()
            .map(|((kind, key, bucket), at)| vec![t(), p(kind as i16), p(key.to_owned()), p(bucket), p(at)])
            .collect(),
    )
    .await?;
    let (logins, files, links) = split(facts);
    let newer = "excluded.last_at >= logins.last_at";
    each(
        tx,
        &format!(
            "INSERT INTO logins (tenant_id, key, actor_id, name, email, last_at, last_ok, last_success, last_failure,
                                 failed_total, ip, country, region, city)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (tenant_id, key) DO UPDATE SET
               actor_id = COALESCE(logins.actor_id, excluded.actor_id),
               name = CASE WHEN {newer} THEN COALESCE(excluded.name, logins.name) ELSE COALESCE(logins.name, excluded.name) END,
               email = CASE WHEN {newer} THEN COALESCE(excluded.email, logins.email) ELSE COALESCE(logins.email, excluded.email) END,
               last_ok = CASE WHEN {newer} THEN excluded.last_ok ELSE logins.last_ok END,
               ip = CASE WHEN {newer} THEN excluded.ip ELSE logins.ip END,
               country = CASE WHEN {newer} THEN excluded.country ELSE logins.country END,
               region = CASE WHEN {newer} THEN excluded.region ELSE logins.region END,
               city = CASE WHEN {newer} THEN excluded.city ELSE logins.city END,
               last_at = GREATEST(logins.last_at, excluded.last_at),
               last_success = GREATEST(logins.last_success, excluded.last_success),
               last_failure = GREATEST(logins.last_failure, excluded.last_failure),
               failed_total = logins.failed_total + excluded.failed_total"
        ),
        fold_logins(logins)
            .into_iter()
            .map(|(key, f)| {
                let l = f.latest;
                vec![
                    t(),
                    p(key.to_owned()),
                    p(l.actor_id.clone()),
                    s(f.name.map(|n| n.1)),
                    s(f.email.map(|e| e.1)),
                    p(l.at),
                    p(l.ok),
                    p(f.success),
                    p(f.failure),
                    p(f.failed),
                    p(l.ip.clone()),
                    p(l.country.clone()),
                    p(l.region.clone()),
                    p(l.city.clone()),
                ]
            })
            .collect(),
    )
    .await?;
    let newer = "excluded.last_at >= usage.last_at";
    each(
        tx,
        &format!(
            "INSERT INTO usage (tenant_id, key, actor_id, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (tenant_id, key) DO UPDATE SET
               actor_id = COALESCE(usage.actor_id, excluded.actor_id),
               name = CASE WHEN {newer} THEN COALESCE(excluded.name, usage.name) ELSE COALESCE(usage.name, excluded.name) END,
               email = CASE WHEN {newer} THEN COALESCE(excluded.email, usage.email) ELSE COALESCE(usage.email, excluded.email) END,
               uploads = usage.uploads + excluded.uploads,
               downloads = usage.downloads + excluded.downloads,
               deletes = usage.deletes + excluded.deletes,
               bytes_in = usage.bytes_in + excluded.bytes_in,
               bytes_out = usage.bytes_out + excluded.bytes_out,
               last_at = GREATEST(usage.last_at, excluded.last_at)"
        ),
        fold_usage(files)
            .into_iter()
            .map(|(key, f)| {
                vec![
                    t(),
                    p(key.to_owned()),
                    p(f.latest.actor_id.clone()),
                    s(f.name.map(|n| n.1)),
                    s(f.email.map(|e| e.1)),
                    p(f.uploads),
                    p(f.downloads),
                    p(f.deletes),
                    p(f.bytes_in),
                    p(f.bytes_out),
                    p(f.latest.at),
                ]
            })
            .collect(),
    )
    .await?;
    // The first ending wins (a link revoked and later reported expired was revoked).
    let first_end = "links.ended_at IS NULL OR (excluded.ended_at IS NOT NULL AND excluded.ended_at < links.ended_at)";
    each(
        tx,
        &format!(
            "INSERT INTO links (tenant_id, key, name, file_name, created_by, created_at, expires_at, require_email,
                                views, saves, state, ended_at, last_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (tenant_id, key) DO UPDATE SET
               name = COALESCE(excluded.name, links.name),
               file_name = COALESCE(excluded.file_name, links.file_name),
               created_by = COALESCE(excluded.created_by, links.created_by),
               created_at = COALESCE(excluded.created_at, links.created_at),
               expires_at = COALESCE(excluded.expires_at, links.expires_at),
               require_email = CASE WHEN excluded.created_at IS NOT NULL THEN excluded.require_email ELSE links.require_email END,
               views = links.views + excluded.views,
               saves = links.saves + excluded.saves,
               state = CASE WHEN {first_end} THEN excluded.state ELSE links.state END,
               ended_at = CASE WHEN {first_end} THEN excluded.ended_at ELSE links.ended_at END,
               last_at = GREATEST(links.last_at, excluded.last_at)"
        ),
        fold_links(links)
            .into_iter()
            .map(|(key, f)| {
                let c = f.created;
                vec![
                    t(),
                    p(key.to_owned()),
                    s(f.name),
                    s(f.file_name),
                    s(c.and_then(|c| c.actor.as_deref())),
                    p(c.map(|c| c.at)),
                    s(c.and_then(|c| c.expires_at.as_deref())),
                    p(c.is_some_and(|c| c.require_email)),
                    p(f.views),
                    p(f.saves),
                    p(f.ended.map_or("active", |e| e.state).to_owned()),
                    p(f.ended.map(|e| e.at)),
                    p(f.last_at),
                ]
            })
            .collect(),
    )
    .await
}

/// A rollup table read by latest activity: its name, the column of the latest activity, the
/// columns a row is made from, and whether `only` may name e-mails.
struct Table {
    name: &'static str,
    latest: &'static str,
    columns: &'static str,
    by_email: bool,
}

/// One keyset page of a rollup, latest first, ties by key (see `RecentPage`).
async fn page<T>(
    store: &PgStore,
    tenant: &TenantId,
    table: &Table,
    page: &RecentPage,
    row: fn(&Row) -> T,
) -> StoreResult<Vec<T>> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    let (after_at, after_key) = page.after.as_ref().map_or((i64::MAX, ""), |(t, k)| (t.as_microsecond(), k.as_str()));
    let since = page.since.map_or(i64::MIN, |t| t.as_microsecond());
    let limit = page.limit.min(10_000) as i64;
    let Table { name, latest, columns, by_email } = table;
    let only = if page.only.is_empty() {
        String::new()
    } else if *by_email {
        " AND (key = ANY($6) OR email = ANY($6))".to_owned()
    } else {
        " AND key = ANY($6)".to_owned()
    };
    // After the cursor: an earlier latest activity, or the same one and a greater key.
    let sql = format!(
        "SELECT {columns} FROM {name}
         WHERE tenant_id = $1 AND {latest} >= $2 AND ({latest} < $3 OR ({latest} = $3 AND key > $4)){only}
         ORDER BY {latest} DESC, key LIMIT $5"
    );
    let (after_key, only_keys) = (after_key.to_owned(), page.only.clone());
    let t = tenant.as_str();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&t, &since, &after_at, &after_key, &limit];
    if !only_keys.is_empty() {
        params.push(&only_keys);
    }
    let rows = client.query(&sql, &params).await.pg()?;
    Ok(rows.iter().map(row).collect())
}

const ACTORS: Table = Table {
    name: "actors",
    latest: "last_seen",
    columns: "key, actor_id, name, email, first_seen, last_seen, event_count, last_login",
    by_email: true,
};

pub(crate) async fn actors(store: &PgStore, tenant: &TenantId, p: &RecentPage) -> StoreResult<Vec<ActorSummary>> {
    page(store, tenant, &ACTORS, p, |r| ActorSummary {
        key: r.get(0),
        actor_id: r.get(1),
        name: r.get(2),
        email: r.get(3),
        first_seen_at: ts(r.get(4)),
        last_seen_at: ts(r.get(5)),
        event_count: r.get::<_, i64>(6) as u64,
        last_login_at: r.get::<_, Option<i64>>(7).map(ts),
    })
    .await
}

pub(crate) async fn actions(store: &PgStore, tenant: &TenantId) -> StoreResult<Vec<ActionCount>> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    let rows = client
        .query(
            "SELECT action, event_count FROM action_counts WHERE tenant_id = $1 ORDER BY action",
            &[&tenant.as_str()],
        )
        .await
        .pg()?;
    Ok(rows.iter().map(|r| ActionCount { action: r.get(0), event_count: r.get::<_, i64>(1) as u64 }).collect())
}

const LOGINS: Table = Table {
    name: "logins",
    latest: "last_at",
    columns: "key, actor_id, name, email, last_at, last_ok, last_success, last_failure, failed_total, ip, country, region, city",
    by_email: true,
};

pub(crate) async fn logins(store: &PgStore, tenant: &TenantId, p: &RecentPage) -> StoreResult<Vec<LoginSummary>> {
    page(store, tenant, &LOGINS, p, |r| LoginSummary {
        key: r.get(0),
        actor_id: r.get(1),
        name: r.get(2),
        email: r.get(3),
        last_attempt_at: ts(r.get(4)),
        last_succeeded: r.get(5),
        last_success_at: r.get::<_, Option<i64>>(6).map(ts),
        last_failure_at: r.get::<_, Option<i64>>(7).map(ts),
        failed_total: r.get::<_, i64>(8) as u64,
        ip: r.get(9),
        country: r.get(10),
        region: r.get(11),
        city: r.get(12),
    })
    .await
}

const USAGE: Table = Table {
    name: "usage",
    latest: "last_at",
    columns: "key, actor_id, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at",
    by_email: true,
};

pub(crate) async fn usage(store: &PgStore, tenant: &TenantId, p: &RecentPage) -> StoreResult<Vec<UsageSummary>> {
    page(store, tenant, &USAGE, p, |r| {
        let (uploads, downloads, deletes): (i64, i64, i64) = (r.get(4), r.get(5), r.get(6));
        let (bytes_in, bytes_out): (i64, i64) = (r.get(7), r.get(8));
        UsageSummary {
            key: r.get(0),
            actor_id: r.get(1),
            name: r.get(2),
            email: r.get(3),
            files: (uploads - deletes).max(0) as u64,
            storage_bytes: bytes_in.saturating_sub(bytes_out).max(0) as u64,
            uploads: uploads as u64,
            downloads: downloads as u64,
            deletes: deletes as u64,
            last_activity_at: ts(r.get(9)),
        }
    })
    .await
}

const LINKS: Table = Table {
    name: "links",
    latest: "last_at",
    columns: "key, name, file_name, created_by, created_at, expires_at, require_email, views, saves, state, ended_at, last_at",
    by_email: false,
};

pub(crate) async fn links(store: &PgStore, tenant: &TenantId, p: &RecentPage) -> StoreResult<Vec<LinkSummary>> {
    page(store, tenant, &LINKS, p, |r| LinkSummary {
        key: r.get(0),
        name: r.get(1),
        file_name: r.get(2),
        created_by: r.get(3),
        created_at: r.get::<_, Option<i64>>(4).map(ts),
        expires_at: r.get(5),
        require_email: r.get(6),
        views: r.get::<_, i64>(7) as u64,
        saves: r.get::<_, i64>(8) as u64,
        state: r.get(9),
        ended_at: r.get::<_, Option<i64>>(10).map(ts),
        last_activity_at: ts(r.get(11)),
    })
    .await
}

/// See `Store::active_in`: each key's latest activity in `[from, to)` from its buckets, newest
/// first, after the cursor; the buckets' index keeps it to the range's rows.
pub(crate) async fn active_in(
    store: &PgStore,
    tenant: &TenantId,
    kind: RollupKind,
    from: Timestamp,
    to: Timestamp,
    after: Option<(Timestamp, String)>,
    limit: usize,
) -> StoreResult<Vec<(Timestamp, String)>> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    let (after_at, after_key) = after.map_or((i64::MAX, String::new()), |(t, k)| (t.as_microsecond(), k));
    let rows = client
        .query(
            "SELECT latest, key FROM (
               SELECT key, max(last_at) AS latest FROM activity_buckets
               WHERE tenant_id = $1 AND kind = $2 AND last_at >= $3 AND last_at < $4
               GROUP BY key) AS k
             WHERE latest < $5 OR (latest = $5 AND key > $6)
             ORDER BY latest DESC, key LIMIT $7",
            &[
                &tenant.as_str(),
                &(kind as i16),
                &from.as_microsecond(),
                &to.as_microsecond(),
                &after_at,
                &after_key,
                &(limit as i64),
            ],
        )
        .await
        .pg()?;
    Ok(rows.iter().map(|r| (ts(r.get(0)), r.get(1))).collect())
}

/// Deletes the rollup rows whose latest activity is before `before` (retention), and the
/// activity buckets before it; returns the rows deleted.
pub(crate) async fn expire(c: &impl GenericClient, tenant: &str, before: i64) -> StoreResult<u64> {
    let mut n = 0;
    for sql in [
        "DELETE FROM actors WHERE tenant_id = $1 AND last_seen < $2",
        "DELETE FROM logins WHERE tenant_id = $1 AND last_at < $2",
        "DELETE FROM usage WHERE tenant_id = $1 AND last_at < $2",
        "DELETE FROM links WHERE tenant_id = $1 AND last_at < $2",
    ] {
        n += c.execute(sql, &[&tenant, &before]).await.pg()?;
    }
    c.execute("DELETE FROM activity_buckets WHERE tenant_id = $1 AND last_at < $2", &[&tenant, &before]).await.pg()?;
    Ok(n)
}
