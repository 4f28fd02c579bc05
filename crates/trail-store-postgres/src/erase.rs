//! Erasure on PostgreSQL: each event's record is rewritten with its fields'
//! commitments in place of their values and without their salts (`trail_store::record::erase`),
//! so its leaf, the tree and every proof stay as they were; the person's rollup rows go. The
//! tables the old row versions are in are vacuumed after the commit, so PostgreSQL frees them
//! at once (see docs/postgres.md for what vacuuming does not reach: the WAL and backups).
//!
//! A person with many events is erased in many requests (the application layer hands over a
//! page of 1,000 events at a time), so a request costs a fixed number of round trips, not two
//! an event: its events are read in one query and written back in one `UPDATE ... FROM
//! unnest(...)`. Only the partitions it rewrote are vacuumed, and the rollup tables only when
//! it named the person (the last request of an erasure), since only then did they change.

use std::collections::HashMap;

use tokio_postgres::types::ToSql;
use trail_core::TenantId;
use trail_store::{ErasureReport, ErasureRequest, StoreError, StoreResult};

use crate::{PgStore, error::PgResultExt};

/// The tables an erasure that names the person changes, besides the events.
const PERSON_TABLES: [&str; 6] = ["actors", "logins", "usage", "activity_buckets", "identities", "links"];

pub(crate) async fn erase(store: &PgStore, tenant: &TenantId, request: &ErasureRequest) -> StoreResult<ErasureReport> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.pg()?;
    let t = tenant.as_str();
    crate::store::lock_tenant(&tx, tenant).await?;
    let mut report = ErasureReport::default();
    let mut touched: Vec<String> = Vec::new();
    if !request.events.is_empty() {
        let seqs: Vec<i64> = request.events.iter().map(|(seq, _)| *seq as i64).collect();
        let rows =
            tx.query("SELECT seq, body FROM events WHERE tenant_id = $1 AND seq = ANY($2)", &[&t, &seqs]).await.pg()?;
        let mut bodies: HashMap<i64, Vec<u8>> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        // The new bodies, one per seq (a seq asked twice is erased on top of the first time).
        let mut changed: Vec<(i64, Vec<u8>)> = Vec::new();
        let mut at: HashMap<i64, usize> = HashMap::new();
        let internal = |e: String| StoreError::Internal(e.into());
        for (seq, fields) in &request.events {
            let seq = *seq as i64;
            let Some(bytes) = bodies.get_mut(&seq) else { continue };
            let before = trail_store::record::decode(bytes).map_err(internal)?.erased.len();
            let Some(erased) = trail_store::record::erase(bytes, fields).map_err(internal)? else { continue };
            let after = trail_store::record::decode(&erased).map_err(internal)?.erased.len();
            report.events += 1;
            report.fields += (after - before) as u64;
            *bytes = erased.clone();
            match at.get(&seq) {
                Some(&i) => changed[i].1 = erased,
                None => {
                    at.insert(seq, changed.len());
                    changed.push((seq, erased));
                }
            }
        }
        if !changed.is_empty() {
            let (seqs, bodies): (Vec<i64>, Vec<Vec<u8>>) = changed.into_iter().unzip();
            let parts = tx
                .query(
                    "UPDATE events AS e SET body = u.body FROM unnest($2::bigint[], $3::bytea[]) AS u(seq, body)
                     WHERE e.tenant_id = $1 AND e.seq = u.seq RETURNING e.tableoid::regclass::text",
                    &[&t, &seqs, &bodies],
                )
                .await
                .pg()?;
            for part in parts {
                let part: String = part.get(0);
                if !touched.contains(&part) {
                    touched.push(part);
                }
            }
        }
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
    let person_tables = if who.is_empty() { &[][..] } else { &PERSON_TABLES[..] };
    for table in touched.iter().map(String::as_str).chain(person_tables.iter().copied()) {
        client.batch_execute(&format!("VACUUM {table}")).await.pg()?;
    }
    Ok(report)
}
