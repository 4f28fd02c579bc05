//! Roots, proofs and checkpoints from the `tree_tiles` and `checkpoints` tables. A proof's
//! tiles are found first on stand-in hashes (`trail_store::tree::TileRecorder`), then read in
//! one query, so a proof costs one round trip whatever its length.

use std::collections::HashMap;

use tokio_postgres::GenericClient;
use trail_core::{
    TenantId,
    merkle::{self, Hash},
};
use trail_store::{
    StoreError, StoreResult, StoredCheckpoint,
    tree::{TILE, TileNodes, TileRecorder, hashes},
};

use crate::{
    PgStore,
    error::{PgResultExt, corrupt},
    store::ts,
};

/// The tiles `(levels[i], idxs[i])` of a tenant's tree that exist.
pub(crate) async fn read_tiles(
    c: &impl GenericClient,
    tenant: &str,
    levels: &[i16],
    idxs: &[i64],
) -> StoreResult<HashMap<(u8, u64), Vec<Hash>>> {
    let rows = c
        .query(
            "SELECT t.level, t.idx, t.hashes FROM tree_tiles t
             JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, idx) ON t.level = w.level AND t.idx = w.idx
             WHERE t.tenant_id = $1",
            &[&tenant, &levels, &idxs],
        )
        .await
        .pg()?;
    Ok(rows
        .iter()
        .map(|r| ((r.get::<_, i16>(0) as u8, r.get::<_, i64>(1) as u64), hashes(r.get::<_, &[u8]>(2))))
        .collect())
}

/// The tiles a recorder saw a computation read, as a node source (one query).
async fn nodes_for(
    c: &impl GenericClient,
    tenant: &TenantId,
    recorder: TileRecorder,
) -> StoreResult<TileNodes<impl Fn(u8, u64) -> StoreResult<Option<Vec<Hash>>>>> {
    let wanted = recorder.tiles();
    let levels: Vec<i16> = wanted.iter().map(|w| w.0 as i16).collect();
    let idxs: Vec<i64> = wanted.iter().map(|w| w.1 as i64).collect();
    let tiles = read_tiles(c, tenant.as_str(), &levels, &idxs).await?;
    Ok(TileNodes::new(move |level, idx| Ok(tiles.get(&(level, idx)).cloned())))
}

/// A tree size must be between 1 and the tenant's event count.
async fn check_size(c: &impl GenericClient, tenant: &TenantId, size: u64) -> StoreResult<()> {
    let count = PgStore::next_seq(c.client(), tenant).await? - 1;
    if size == 0 || size > count {
        return Err(StoreError::NotFound(format!("a tree of {size} events (the log of {tenant} holds {count})")));
    }
    Ok(())
}

pub(crate) async fn leaf_hash(store: &PgStore, tenant: &TenantId, seq: u64) -> StoreResult<Option<Hash>> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    if seq == 0 || seq > i64::MAX as u64 {
        return Ok(None);
    }
    let idx = (seq - 1) / TILE;
    let tiles = read_tiles(&**client, tenant.as_str(), &[0], &[idx as i64]).await?;
    Ok(tiles.get(&(0, idx)).and_then(|t| t.get(((seq - 1) % TILE) as usize).copied()))
}

pub(crate) async fn root(store: &PgStore, tenant: &TenantId, size: u64) -> StoreResult<Hash> {
    let client = store.client().await?;
    check_size(&**client, tenant, size).await?;
    let recorder = TileRecorder::default();
    merkle::root(&recorder, size)?;
    merkle::root(&nodes_for(&**client, tenant, recorder).await?, size)
}

pub(crate) async fn inclusion_proof(store: &PgStore, tenant: &TenantId, seq: u64, size: u64) -> StoreResult<Vec<Hash>> {
    let client = store.client().await?;
    check_size(&**client, tenant, size).await?;
    if seq == 0 || seq > size {
        return Err(StoreError::NotFound(format!("event {seq} in the tree of {size} events")));
    }
    let recorder = TileRecorder::default();
    merkle::inclusion_proof(&recorder, seq - 1, size)?;
    merkle::inclusion_proof(&nodes_for(&**client, tenant, recorder).await?, seq - 1, size)
}

pub(crate) async fn consistency_proof(
    store: &PgStore,
    tenant: &TenantId,
    from: u64,
    to: u64,
) -> StoreResult<Vec<Hash>> {
    let client = store.client().await?;
    check_size(&**client, tenant, to).await?;
    if from == 0 || from > to {
        return Err(StoreError::NotFound(format!("a tree of {from} events before the tree of {to}")));
    }
    let recorder = TileRecorder::default();
    merkle::consistency_proof(&recorder, from, to)?;
    merkle::consistency_proof(&nodes_for(&**client, tenant, recorder).await?, from, to)
}

pub(crate) async fn add_checkpoint(store: &PgStore, tenant: &TenantId, cp: StoredCheckpoint) -> StoreResult<()> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    // Two servers signing the same tree size keep one checkpoint.
    client
        .execute(
            "INSERT INTO checkpoints (tenant_id, size, root, note, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, size) DO NOTHING",
            &[&tenant.as_str(), &(cp.size as i64), &&cp.root[..], &cp.note, &cp.created_at.as_microsecond()],
        )
        .await
        .pg()?;
    Ok(())
}

pub(crate) fn checkpoint_row(r: &tokio_postgres::Row) -> StoreResult<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        size: r.get::<_, i64>(0) as u64,
        root: r.get::<_, &[u8]>(1).try_into().map_err(|_| corrupt("a checkpoint's root is not 32 bytes"))?,
        note: r.get(2),
        created_at: ts(r.get(3)),
    })
}

pub(crate) async fn latest_checkpoint(store: &PgStore, tenant: &TenantId) -> StoreResult<Option<StoredCheckpoint>> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    let row = client
        .query_opt(
            "SELECT size, root, note, created_at FROM checkpoints WHERE tenant_id = $1 ORDER BY size DESC LIMIT 1",
            &[&tenant.as_str()],
        )
        .await
        .pg()?;
    row.as_ref().map(checkpoint_row).transpose()
}
