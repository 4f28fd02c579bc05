//! The rollups (actors, action counts, logins, usage, links, activity buckets), folded per batch
//! by `trail_store::rollup` and written in the append transaction with one statement per table
//! (`INSERT ... SELECT unnest(...) ON CONFLICT DO UPDATE`: a fold's keys are distinct, so no row
//! is touched twice). The merge rules are those of the SQLite store's upserts: a name, e-mail or
//! place replaces the kept one only when at least as recent.

use jiff::Timestamp;
use tokio_postgres::{GenericClient, Row, Transaction, types::ToSql};
use trail_core::TenantId;
use trail_store::{
    ActionCount, ActorSummary, LinkSummary, LoginSummary, RecentPage, RollupKind, StoreResult, UsageSummary,
    identity::Resolved,
    rollup::{Fact, Seen, fold_buckets, fold_links, fold_logins, fold_seen, fold_usage, split},
};

use crate::{PgStore, error::PgResultExt, store::ts};

/// Runs `sql` once for a whole batch: `$1` is the tenant, `$2...` are the columns, each an array
/// holding one element per row (the statement reads them with `unnest`).
async fn upsert(tx: &Transaction<'_>, sql: &str, tenant: &str, columns: &[&(dyn ToSql + Sync)]) -> StoreResult<()> {
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&tenant];
    params.extend_from_slice(columns);
    tx.execute(sql, &params).await.pg()?;
    Ok(())
}

/// How a person's part of a batch (or a row merged into theirs) joins their kept row. A name or
/// e-mail replaces the kept one only when given at least as recently (`name_at`, `email_at`).
const ACTORS_MERGE: &str = "ON CONFLICT (tenant_id, key) DO UPDATE SET
  actor_id = COALESCE(actors.actor_id, excluded.actor_id),
  name = CASE WHEN excluded.name IS NOT NULL AND (excluded.name_at >= actors.last_seen OR actors.name IS NULL)
              THEN excluded.name ELSE actors.name END,
  email = CASE WHEN excluded.email IS NOT NULL AND (excluded.email_at >= actors.last_seen OR actors.email IS NULL)
               THEN excluded.email ELSE actors.email END,
  first_seen = LEAST(actors.first_seen, excluded.first_seen),
  last_seen = GREATEST(actors.last_seen, excluded.last_seen),
  event_count = actors.event_count + excluded.event_count,
  last_login = GREATEST(actors.last_login, excluded.last_login)";

/// How a person's attempts join their kept row: the latest attempt's details replace the kept
/// ones only when at least as recent.
const LOGINS_MERGE: &str = "ON CONFLICT (tenant_id, key) DO UPDATE SET
  actor_id = COALESCE(logins.actor_id, excluded.actor_id),
  name = CASE WHEN excluded.last_at >= logins.last_at THEN COALESCE(excluded.name, logins.name) ELSE COALESCE(logins.name, excluded.name) END,
  email = CASE WHEN excluded.last_at >= logins.last_at THEN COALESCE(excluded.email, logins.email) ELSE COALESCE(logins.email, excluded.email) END,
  last_ok = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.last_ok ELSE logins.last_ok END,
  ip = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.ip ELSE logins.ip END,
  country = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.country ELSE logins.country END,
  region = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.region ELSE logins.region END,
  city = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.city ELSE logins.city END,
  last_at = GREATEST(logins.last_at, excluded.last_at),
  last_success = GREATEST(logins.last_success, excluded.last_success),
  last_failure = GREATEST(logins.last_failure, excluded.last_failure),
  failed_total = logins.failed_total + excluded.failed_total";

/// How a person's file events join their kept row.
const USAGE_MERGE: &str = "ON CONFLICT (tenant_id, key) DO UPDATE SET
  actor_id = COALESCE(usage.actor_id, excluded.actor_id),
  name = CASE WHEN excluded.last_at >= usage.last_at THEN COALESCE(excluded.name, usage.name) ELSE COALESCE(usage.name, excluded.name) END,
  email = CASE WHEN excluded.last_at >= usage.last_at THEN COALESCE(excluded.email, usage.email) ELSE COALESCE(usage.email, excluded.email) END,
  uploads = usage.uploads + excluded.uploads,
  downloads = usage.downloads + excluded.downloads,
  deletes = usage.deletes + excluded.deletes,
  bytes_in = usage.bytes_in + excluded.bytes_in,
  bytes_out = usage.bytes_out + excluded.bytes_out,
  last_at = GREATEST(usage.last_at, excluded.last_at)";

/// Folds the newly stored events of one append into every rollup: one statement per table
/// (`ids`: the id each e-mail of the batch is linked to).
pub(crate) async fn add<'a>(
    tx: &Transaction<'_>,
    tenant: &str,
    seen: impl Iterator<Item = &'a Seen>,
    facts: impl Iterator<Item = &'a Fact> + Clone,
    ids: &'a Resolved,
) -> StoreResult<()> {
    let (actions, actors) = fold_seen(seen, ids);
    if !actions.is_empty() {
        let (names, counts): (Vec<&str>, Vec<i64>) = actions.into_iter().unzip();
        upsert(
            tx,
            "INSERT INTO action_counts (tenant_id, action, event_count)
             SELECT $1, * FROM unnest($2::text[], $3::bigint[])
             ON CONFLICT (tenant_id, action) DO UPDATE SET event_count = action_counts.event_count + excluded.event_count",
            tenant,
            &[&names, &counts],
        )
        .await?;
    }
    if !actors.is_empty() {
        let rows: Vec<_> = actors.into_iter().collect();
        let col = |f: fn(&(&'a str, trail_store::rollup::ActorFold<'a>)) -> Option<&'a str>| -> Vec<Option<&'a str>> {
            rows.iter().map(f).collect()
        };
        let num = |f: fn(&(&'a str, trail_store::rollup::ActorFold<'a>)) -> Option<i64>| -> Vec<Option<i64>> {
            rows.iter().map(f).collect()
        };
        // `name_at` / `email_at`: when the batch's name and e-mail were given, which decides
        // whether they replace the kept ones (events arrive out of order).
        upsert(
            tx,
            &format!(
                "INSERT INTO actors (tenant_id, key, actor_id, name, email, first_seen, last_seen, event_count, last_login,
                                     name_at, email_at)
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                                          $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
                 {ACTORS_MERGE}"
            ),
            tenant,
            &[
                &col(|r| Some(r.0)),
                &col(|r| r.1.id),
                &col(|r| r.1.name.map(|n| n.1)),
                &col(|r| r.1.email.map(|e| e.1)),
                &num(|r| Some(r.1.first)),
                &num(|r| Some(r.1.last)),
                &num(|r| Some(r.1.count)),
                &num(|r| r.1.login),
                &num(|r| Some(r.1.name.map_or(i64::MIN, |n| n.0))),
                &num(|r| Some(r.1.email.map_or(i64::MIN, |e| e.0))),
            ],
        )
        .await?;
    }
    let buckets = fold_buckets(facts.clone().map(|f| f.activity(ids)));
    if !buckets.is_empty() {
        let rows: Vec<_> = buckets.into_iter().collect();
        let kinds: Vec<i16> = rows.iter().map(|((k, _, _), _)| *k as i16).collect();
        let keys: Vec<&str> = rows.iter().map(|((_, key, _), _)| *key).collect();
        let ids: Vec<i64> = rows.iter().map(|((_, _, b), _)| *b).collect();
        let ats: Vec<i64> = rows.iter().map(|(_, at)| *at).collect();
        upsert(
            tx,
            "INSERT INTO activity_buckets (tenant_id, kind, key, bucket, last_at)
             SELECT $1, * FROM unnest($2::smallint[], $3::text[], $4::bigint[], $5::bigint[])
             ON CONFLICT (tenant_id, kind, key, bucket) DO UPDATE
               SET last_at = GREATEST(activity_buckets.last_at, excluded.last_at)",
            tenant,
            &[&kinds, &keys, &ids, &ats],
        )
        .await?;
    }
    let (logins, files, links) = split(facts);
    let people = fold_logins(logins, ids);
    if !people.is_empty() {
        let rows: Vec<_> = people.into_iter().collect();
        let text = |f: &dyn Fn(&trail_store::rollup::LoginFold<'a>) -> Option<&'a str>| -> Vec<Option<&'a str>> {
            rows.iter().map(|(_, r)| f(r)).collect()
        };
        let num = |f: &dyn Fn(&trail_store::rollup::LoginFold<'a>) -> Option<i64>| -> Vec<Option<i64>> {
            rows.iter().map(|(_, r)| f(r)).collect()
        };
        let keys: Vec<&str> = rows.iter().map(|(k, _)| *k).collect();
        let oks: Vec<bool> = rows.iter().map(|(_, r)| r.latest.ok).collect();
        upsert(
            tx,
            &format!(
                "INSERT INTO logins (tenant_id, key, actor_id, name, email, last_at, last_ok, last_success, last_failure,
                                     failed_total, ip, country, region, city)
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::boolean[],
                                          $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[],
                                          $13::text[], $14::text[])
                 {LOGINS_MERGE}"
            ),
            tenant,
            &[
                &keys,
                &text(&|r| r.id),
                &text(&|r| r.name.map(|n| n.1)),
                &text(&|r| r.email.map(|e| e.1)),
                &num(&|r| Some(r.latest.at)),
                &oks,
                &num(&|r| r.success),
                &num(&|r| r.failure),
                &num(&|r| Some(r.failed)),
                &text(&|r| r.latest.ip.as_deref()),
                &text(&|r| r.latest.country.as_deref()),
                &text(&|r| r.latest.region.as_deref()),
                &text(&|r| r.latest.city.as_deref()),
            ],
        )
        .await?;
    }
    let people = fold_usage(files, ids);
    if !people.is_empty() {
        let rows: Vec<_> = people.into_iter().collect();
        let text = |f: &dyn Fn(&trail_store::rollup::UsageFold<'a>) -> Option<&'a str>| -> Vec<Option<&'a str>> {
            rows.iter().map(|(_, r)| f(r)).collect()
        };
        let num = |f: &dyn Fn(&trail_store::rollup::UsageFold<'a>) -> i64| -> Vec<i64> {
            rows.iter().map(|(_, r)| f(r)).collect()
        };
        let keys: Vec<&str> = rows.iter().map(|(k, _)| *k).collect();
        upsert(
            tx,
            &format!(
                "INSERT INTO usage (tenant_id, key, actor_id, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at)
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                                          $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
                 {USAGE_MERGE}"
            ),
            tenant,
            &[
                &keys,
                &text(&|r| r.id),
                &text(&|r| r.name.map(|n| n.1)),
                &text(&|r| r.email.map(|e| e.1)),
                &num(&|r| r.uploads),
                &num(&|r| r.downloads),
                &num(&|r| r.deletes),
                &num(&|r| r.bytes_in),
                &num(&|r| r.bytes_out),
                &num(&|r| r.latest.at),
            ],
        )
        .await?;
    }
    let links = fold_links(links);
    if !links.is_empty() {
        let rows: Vec<_> = links.into_iter().collect();
        let text = |f: &dyn Fn(&trail_store::rollup::LinkFold<'a>) -> Option<&'a str>| -> Vec<Option<&'a str>> {
            rows.iter().map(|(_, r)| f(r)).collect()
        };
        let num = |f: &dyn Fn(&trail_store::rollup::LinkFold<'a>) -> Option<i64>| -> Vec<Option<i64>> {
            rows.iter().map(|(_, r)| f(r)).collect()
        };
        let keys: Vec<&str> = rows.iter().map(|(k, _)| *k).collect();
        let require: Vec<bool> = rows.iter().map(|(_, r)| r.created.is_some_and(|c| c.require_email)).collect();
        // The first ending wins (a link revoked and later reported expired was revoked).
        let first_end =
            "links.ended_at IS NULL OR (excluded.ended_at IS NOT NULL AND excluded.ended_at < links.ended_at)";
        upsert(
            tx,
            &format!(
                "INSERT INTO links (tenant_id, key, name, file_name, created_by, created_at, expires_at, require_email,
                                    views, saves, state, ended_at, last_at)
                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
                                          $8::boolean[], $9::bigint[], $10::bigint[], $11::text[], $12::bigint[],
                                          $13::bigint[])
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
            tenant,
            &[
                &keys,
                &text(&|r| r.name),
                &text(&|r| r.file_name),
                &text(&|r| r.created.and_then(|c| c.actor.as_deref())),
                &num(&|r| r.created.map(|c| c.at)),
                &text(&|r| r.created.and_then(|c| c.expires_at.as_deref())),
                &require,
                &num(&|r| Some(r.views)),
                &num(&|r| Some(r.saves)),
                &text(&|r| Some(r.ended.map_or("active", |e| e.state))),
                &num(&|r| r.ended.map(|e| e.at)),
                &num(&|r| Some(r.last_at)),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Merges the rows of a person kept under `from` (an e-mail) into the rows of `id`, the person it
/// is now linked to, by the same rules as a batch's upserts; the e-mail's rows go.
pub(crate) async fn merge(tx: &Transaction<'_>, tenant: &str, from: &str, id: &str) -> StoreResult<()> {
    let statements = [
        format!(
            "INSERT INTO actors (tenant_id, key, actor_id, name, email, first_seen, last_seen, event_count, last_login,
                                 name_at, email_at)
             SELECT tenant_id, $3, $3, name, email, first_seen, last_seen, event_count, last_login, last_seen, last_seen
             FROM actors WHERE tenant_id = $1 AND key = $2
             {ACTORS_MERGE}"
        ),
        format!(
            "INSERT INTO logins (tenant_id, key, actor_id, name, email, last_at, last_ok, last_success, last_failure,
                                 failed_total, ip, country, region, city)
             SELECT tenant_id, $3, $3, name, email, last_at, last_ok, last_success, last_failure, failed_total, ip,
                    country, region, city
             FROM logins WHERE tenant_id = $1 AND key = $2
             {LOGINS_MERGE}"
        ),
        format!(
            "INSERT INTO usage (tenant_id, key, actor_id, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at)
             SELECT tenant_id, $3, $3, name, email, uploads, downloads, deletes, bytes_in, bytes_out, last_at
             FROM usage WHERE tenant_id = $1 AND key = $2
             {USAGE_MERGE}"
        ),
        "INSERT INTO activity_buckets (tenant_id, kind, key, bucket, last_at)
         SELECT tenant_id, kind, $3, bucket, last_at FROM activity_buckets
         WHERE tenant_id = $1 AND kind IN (1, 2) AND key = $2
         ON CONFLICT (tenant_id, kind, key, bucket) DO UPDATE
           SET last_at = GREATEST(activity_buckets.last_at, excluded.last_at)"
            .to_owned(),
    ];
    for sql in statements {
        tx.execute(&sql, &[&tenant, &from, &id]).await.pg()?;
    }
    for sql in [
        "DELETE FROM actors WHERE tenant_id = $1 AND key = $2",
        "DELETE FROM logins WHERE tenant_id = $1 AND key = $2",
        "DELETE FROM usage WHERE tenant_id = $1 AND key = $2",
        "DELETE FROM activity_buckets WHERE tenant_id = $1 AND kind IN (1, 2) AND key = $2",
    ] {
        tx.execute(sql, &[&tenant, &from]).await.pg()?;
    }
    Ok(())
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
