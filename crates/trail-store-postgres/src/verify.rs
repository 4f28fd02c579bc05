//! `trail verify --database postgres://...`: the check of `trail_store_sqlite::verify`, made on
//! one snapshot of the database (`REPEATABLE READ`, so servers appending meanwhile cannot look
//! like events past the log's end). Every leaf is recomputed from the stored event, compared
//! with the stored tree (a purged event's leaf is the stored one), every stored tile is
//! compared with the tree the leaves build, and every checkpoint is checked (signature, root
//! from the leaves, consistency with the one before).

use std::{collections::HashMap, sync::Mutex};

use ed25519_dalek::VerifyingKey;
use futures::StreamExt;
use tokio_postgres::types::ToSql;
use trail_core::{
    TenantId,
    canonical::tenant_suffix,
    merkle::{Hash, consistency_proof, naive_root, root},
};
use trail_store::{
    StoreError, StoreResult,
    tree::{TILE, TileNodes, hashes},
    verify::{TenantReport, VerifyOptions, check_checkpoints, check_nodes, check_unsigned, note, past_the_end},
};

use crate::{PgStore, error::PgResultExt};

/// How many events `verify` will look at (for a progress bar).
pub async fn event_count(store: &PgStore, only: Option<&TenantId>) -> StoreResult<u64> {
    let client = store.client().await?;
    let rows = client.query("SELECT tenant_id, next_seq - 1 FROM tenants", &[]).await.pg()?;
    Ok(rows
        .iter()
        .filter(|r| only.is_none_or(|t| t.as_str() == r.get::<_, &str>(0)))
        .map(|r| r.get::<_, i64>(1) as u64)
        .sum())
}

/// Verifies every tenant (or only `only`). `progress` is told how many events each step
/// verified.
pub async fn verify(
    store: &PgStore,
    only: Option<&TenantId>,
    public: &VerifyingKey,
    options: &VerifyOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> StoreResult<Vec<TenantReport>> {
    let client = store.client().await?;
    let tenants: Vec<String> = client
        .query("SELECT tenant_id FROM tenants ORDER BY tenant_id", &[])
        .await
        .pg()?
        .iter()
        .map(|r| r.get(0))
        .collect();
    drop(client);
    if let Some(t) = only
        && !tenants.iter().any(|id| id == t.as_str())
    {
        return Err(StoreError::NotFound(format!("tenant {t}")));
    }
    let mut reports = Vec::new();
    for id in tenants.iter().filter(|id| only.is_none_or(|t| t.as_str() == id.as_str())) {
        let tenant = TenantId::parse(id).map_err(|e| StoreError::Internal(format!("tenant id {id}: {e}").into()))?;
        reports.push(verify_tenant(store, &tenant, public, options, progress).await?);
    }
    Ok(reports)
}

/// Verifies one tenant's log.
pub async fn verify_tenant(
    store: &PgStore,
    tenant: &TenantId,
    public: &VerifyingKey,
    options: &VerifyOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> StoreResult<TenantReport> {
    let mut client = store.client().await?;
    let tx = crate::store::snapshot(&mut client).await?;
    let t = tenant.as_str();
    let n = PgStore::next_seq(tx.client(), tenant).await? - 1;
    let problem = Mutex::new(None);
    let purged = crate::purge::purged(&*tx, t).await?;
    let extra =
        tx.query_one("SELECT min(seq) FROM events WHERE tenant_id = $1 AND seq > $2", &[&t, &(n as i64)]).await.pg()?;
    if let Some(seq) = extra.get::<_, Option<i64>>(0) {
        note(&problem, seq as u64, "an event beyond the log's end".into());
    }

    // Every stored tile, by level and index.
    let mut stored: HashMap<(u8, u64), Vec<Hash>> = HashMap::new();
    for r in tx.query("SELECT level, idx, hashes FROM tree_tiles WHERE tenant_id = $1", &[&t]).await.pg()? {
        stored.insert((r.get::<_, i16>(0) as u8, r.get::<_, i64>(1) as u64), hashes(r.get(2)));
    }
    let stored_leaf =
        |seq: u64| stored.get(&(0, (seq - 1) / TILE)).and_then(|t| t.get(((seq - 1) % TILE) as usize)).copied();

    // Leaves, recomputed from the events in seq order.
    let suffix = tenant_suffix(t);
    let mut leaves: Vec<Hash> = Vec::with_capacity(n as usize);
    let missing = |from: u64, to: u64, leaves: &mut Vec<Hash>| {
        for seq in from..to {
            if purged.contains((seq - 1) as u32) {
                leaves.push(stored_leaf(seq).unwrap_or([0; 32]));
            } else {
                note(&problem, seq, format!("event {seq} is missing"));
                leaves.push([0; 32]);
            }
        }
    };
    let params: [&(dyn ToSql + Sync); 2] = [&t, &(n as i64)];
    let rows = tx
        .query_raw("SELECT seq, body FROM events WHERE tenant_id = $1 AND seq <= $2 ORDER BY seq", params)
        .await
        .pg()?;
    let mut rows = std::pin::pin!(rows);
    let mut expect = 1u64;
    while let Some(row) = rows.next().await {
        let row = row.pg()?;
        let seq = row.get::<_, i64>(0) as u64;
        missing(expect, seq, &mut leaves);
        expect = seq + 1;
        match trail_store::record::leaf_hash(row.get(1), &suffix, seq) {
            Ok(h) => {
                if stored_leaf(seq) != Some(h) {
                    note(&problem, seq, format!("event {seq} is not the event the tree holds (its leaf differs)"));
                }
                leaves.push(h);
            }
            Err(e) => {
                note(&problem, seq, format!("event {seq} cannot be read: {e}"));
                leaves.push([0; 32]);
            }
        }
        if seq.is_multiple_of(65_536) {
            progress(65_536);
        }
    }
    missing(expect, n + 1, &mut leaves);
    progress(n % 65_536);

    // The tree the leaves build, level by level, against the stored tiles.
    let mut computed: HashMap<(u8, u64), Vec<Hash>> = HashMap::new();
    let mut level = leaves;
    let mut height = 0u8;
    while !level.is_empty() {
        for (idx, group) in level.chunks(TILE as usize).enumerate() {
            let have = stored.get(&(height, idx as u64)).map(Vec::as_slice).unwrap_or_default();
            check_nodes(&problem, n, height, idx as u64, have, group);
            computed.insert((height, idx as u64), group.to_vec());
        }
        level = level.chunks_exact(TILE as usize).map(naive_root).collect();
        height += 1;
    }
    // No stored tile may reach past the log's end (level L holds n >> 8L nodes).
    if let Some((level, idx)) = stored.keys().filter(|(l, i)| i * TILE >= n >> (8 * *l as u32)).min().copied() {
        past_the_end(&problem, n, &format!("tile {level}/{idx}"));
    }

    let cps: Vec<(u64, Vec<u8>, String)> = tx
        .query("SELECT size, root, note FROM checkpoints WHERE tenant_id = $1 ORDER BY size", &[&t])
        .await
        .pg()?
        .iter()
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1), r.get(2)))
        .collect();
    let from_leaves = TileNodes::new(|level, idx| Ok(computed.get(&(level, idx)).cloned()));
    let from_store = TileNodes::new(|level, idx| Ok(stored.get(&(level, idx)).cloned()));
    let checked = check_checkpoints(
        &problem,
        t,
        n,
        public,
        &cps,
        options,
        |size| root(&from_leaves, size).unwrap_or([0; 32]),
        |from, to| consistency_proof(&from_store, from, to),
    )?;
    if checked.wrong_key.is_none() && checked.signed < n {
        let row = tx
            .query_opt("SELECT body FROM events WHERE tenant_id = $1 AND seq = $2", &[&t, &(checked.signed as i64 + 1)])
            .await
            .pg()?;
        let at = row.and_then(|r| trail_store::record::body(r.get(0)).ok()).map(|b| b.received_at);
        check_unsigned(&problem, n, checked.signed, at, options);
    }
    tx.commit().await.pg()?;
    Ok(TenantReport {
        tenant: t.to_owned(),
        events: n,
        checkpoints: cps.len() as u64,
        problem: problem.into_inner().expect("lock"),
        checked,
    })
}
