//! Retention on PostgreSQL. A month's partition whose whole range is past the
//! retention and which holds only this tenant's events is dropped outright (its seqs recorded
//! as purged first); other expired events are deleted row by row. Link access events of links
//! that ended long enough ago are found like a query (the plan's terms, then each checked).
//! Purged positions (`seq - 1`) go into the tenant's `purged` bitmap, which `verify` reads to
//! tell a purged event from a deleted one; the tree keeps every leaf.

use roaring::RoaringBitmap;
use tokio_postgres::{GenericClient, Transaction};
use trail_core::TenantId;
use trail_index::Plan;
use trail_store::{PurgeReport, PurgeRule, StoreError, StoreResult};

use crate::{
    PgStore,
    error::PgResultExt,
    partitions::{self, Month},
    query::{Scan, body},
    schema::DDL_LOCK,
};

/// The tenant's purged positions.
pub(crate) async fn purged(c: &impl GenericClient, tenant: &str) -> StoreResult<RoaringBitmap> {
    let row = c.query_opt("SELECT seqs FROM purged WHERE tenant_id = $1", &[&tenant]).await.pg()?;
    match row {
        None => Ok(RoaringBitmap::new()),
        Some(r) => RoaringBitmap::deserialize_from(r.get::<_, &[u8]>(0))
            .map_err(|e| StoreError::Internal(format!("the purged set of tenant {tenant} is unreadable: {e}").into())),
    }
}

/// The months `events` has partitions for.
pub(crate) async fn months(c: &impl GenericClient) -> StoreResult<Vec<Month>> {
    let rows = c
        .query(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'events'::regclass",
            &[],
        )
        .await
        .pg()?;
    let mut months: Vec<Month> = rows.iter().filter_map(|r| partitions::parse(r.get(0))).collect();
    months.sort_unstable();
    Ok(months)
}

pub(crate) async fn purge(store: &PgStore, tenant: &TenantId, rule: &PurgeRule) -> StoreResult<PurgeReport> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    let t = tenant.as_str();
    // The tenant's append lock: no event of it comes or goes meanwhile.
    let next = crate::store::lock_tenant(&tx, tenant).await?;
    let mut report = PurgeReport::default();
    let mut removed = RoaringBitmap::new();
    let mut dropped = false;
    if let Some(before) = rule.before {
        let before = before.as_microsecond();
        for month in months(&*tx).await? {
            if partitions::bounds(month).1 <= before {
                dropped |= drop_if_only_ours(&tx, t, month, &mut removed).await?;
            }
        }
        report.expired = removed.len();
        for r in tx
            .query("DELETE FROM events WHERE tenant_id = $1 AND occurred_at < $2 RETURNING seq", &[&t, &before])
            .await
            .pg()?
        {
            removed.insert((r.get::<_, i64>(0) - 1) as u32);
            report.expired += 1;
        }
        crate::counts::expire(&tx, t, before).await?;
    }
    if let Some(ended) = rule.link_access_ended_before {
        let links: Vec<String> = tx
            .query(
                "SELECT key FROM links WHERE tenant_id = $1 AND ended_at IS NOT NULL AND ended_at < $2",
                &[&t, &ended.as_microsecond()],
            )
            .await
            .pg()?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut seqs: Vec<i64> = Vec::new();
        for link in links {
            let f = PurgeRule::link_access(link);
            let plan = Plan::of(&f);
            let scan = Scan::new(t, &f, &plan, next - 1);
            let mut before = (i64::MAX, i64::MAX);
            loop {
                let rows = scan.next(&*tx, before, 5000).await?;
                let exhausted = rows.len() < 5000;
                for (occ, seq, record) in rows {
                    before = (occ, seq as i64);
                    if f.matches(&body(&record)?) {
                        seqs.push(seq as i64);
                    }
                }
                if exhausted {
                    break;
                }
            }
        }
        if !seqs.is_empty() {
            let gone = tx
                .query(
                    "DELETE FROM events WHERE tenant_id = $1 AND seq = ANY($2) RETURNING seq, occurred_at",
                    &[&t, &seqs],
                )
                .await
                .pg()?;
            for r in &gone {
                removed.insert((r.get::<_, i64>(0) - 1) as u32);
                report.link_access += 1;
            }
            crate::counts::subtract(&tx, t, gone.iter().map(|r| r.get::<_, i64>(1))).await?;
        }
    }
    if !removed.is_empty() {
        let mut all = purged(&*tx, t).await?;
        all |= &removed;
        let mut blob = Vec::with_capacity(all.serialized_size());
        all.serialize_into(&mut blob).map_err(StoreError::internal)?;
        tx.execute(
            "INSERT INTO purged (tenant_id, seqs, n) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE SET seqs = excluded.seqs, n = excluded.n",
            &[&t, &blob, &(all.len() as i64)],
        )
        .await
        .pg()?;
    }
    if let Some(before) = rule.before {
        report.rollup_rows = crate::rollups::expire(&*tx, t, before.as_microsecond()).await?;
    }
    tx.commit().await.pg()?;
    if dropped {
        store.inner.partitions.forget_all();
    }
    Ok(report)
}

/// Drops the month's partition when it holds no other tenant's events, adding this tenant's
/// seqs in it to `removed`. Returns whether it was dropped.
async fn drop_if_only_ours(
    tx: &Transaction<'_>,
    tenant: &str,
    month: Month,
    removed: &mut RoaringBitmap,
) -> StoreResult<bool> {
    let name = partitions::name(month);
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK]).await.pg()?;
    // Locked before looking: another tenant's append into this month that has not committed
    // yet is invisible to the look, and the drop would take its rows once it commits.
    tx.batch_execute(&format!("LOCK TABLE \"{name}\" IN ACCESS EXCLUSIVE MODE")).await.pg()?;
    let others =
        tx.query_opt(&format!("SELECT 1 FROM \"{name}\" WHERE tenant_id <> $1 LIMIT 1"), &[&tenant]).await.pg()?;
    if others.is_some() {
        return Ok(false);
    }
    for r in tx.query(&format!("SELECT seq FROM \"{name}\" WHERE tenant_id = $1"), &[&tenant]).await.pg()? {
        removed.insert((r.get::<_, i64>(0) - 1) as u32);
    }
    tx.batch_execute(&format!("DROP TABLE \"{name}\"")).await.pg()?;
    tracing::info!(partition = %name, "retention dropped a partition");
    Ok(true)
}
