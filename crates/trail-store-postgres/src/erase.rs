//! Erasure on PostgreSQL: each event's record is rewritten with its fields'
//! commitments in place of their values and without their salts (`trail_store::record::erase`),
//! so its leaf, the tree and every proof stay as they were; the person's rollup rows go. The
//! tables the old row versions are in are vacuumed after the commit, so PostgreSQL frees them
//! at once (see docs/postgres.md for what vacuuming does not reach: the WAL and backups).

use tokio_postgres::types::ToSql;
use trail_core::TenantId;
use trail_store::{ErasureReport, ErasureRequest, StoreError, StoreResult};

use crate::{PgStore, error::PgResultExt};

pub(crate) async fn erase(store: &PgStore, tenant: &TenantId, request: &ErasureRequest) -> StoreResult<ErasureReport> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    let t = tenant.as_str();
    crate::store::lock_tenant(&tx, tenant).await?;
    let mut report = ErasureReport::default();
    let mut touched: Vec<String> = Vec::new();
    for (seq, fields) in &request.events {
        let seq = *seq as i64;
        let Some(row) =
            tx.query_opt("SELECT body FROM events WHERE tenant_id = $1 AND seq = $2", &[&t, &seq]).await.pg()?
        else {
            continue;
        };
        let bytes: &[u8] = row.get(0);
        let internal = |e: String| StoreError::Internal(e.into());
        let before = trail_store::record::decode(bytes).map_err(internal)?.erased.len();
        let Some(erased) = trail_store::record::erase(bytes, fields).map_err(internal)? else { continue };
        let after = trail_store::record::decode(&erased).map_err(internal)?.erased.len();
        let part = tx
            .query_one(
                "UPDATE events SET body = $3 WHERE tenant_id = $1 AND seq = $2 RETURNING tableoid::regclass::text",
                &[&t, &seq, &erased],
            )
            .await
            .pg()?;
        let part: String = part.get(0);
        if !touched.contains(&part) {
            touched.push(part);
        }
        report.events += 1;
        report.fields += (after - before) as u64;
    }
    let ids: Vec<&String> = request.keys.iter().chain(&request.emails).collect();
    if !ids.is_empty() {
        for table in ["actors", "logins", "usage"] {
            report.rollup_rows += tx
                .execute(
                    &format!("DELETE FROM {table} WHERE tenant_id = $1 AND (key = ANY($2) OR email = ANY($2))"),
                    &[&t as &(dyn ToSql + Sync), &ids],
                )
                .await
                .pg()?;
        }
        tx.execute("DELETE FROM activity_buckets WHERE tenant_id = $1 AND key = ANY($2)", &[&t, &ids]).await.pg()?;
        // The person's links between e-mails and ids.
        tx.execute(
            "DELETE FROM identities WHERE tenant_id = $1 AND (email = ANY($2) OR actor_id = ANY($2))",
            &[&t, &ids],
        )
        .await
        .pg()?;
    }
    let who: Vec<&String> = request.keys.iter().chain(&request.emails).chain(&request.names).collect();
    if !who.is_empty() {
        report.rollup_rows += tx
            .execute("UPDATE links SET created_by = NULL WHERE tenant_id = $1 AND created_by = ANY($2)", &[&t, &who])
            .await
            .pg()?;
    }
    tx.commit().await.pg()?;
    // The old row versions hold the values: vacuum frees them now rather than some day.
    for table in touched.iter().map(String::as_str).chain(["actors", "logins", "usage", "links"]) {
        client.batch_execute(&format!("VACUUM {table}")).await.pg()?;
    }
    Ok(report)
}
