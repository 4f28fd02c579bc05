//! The append transaction. Under the tenant's row lock (`SELECT next_seq ... FOR UPDATE`),
//! which makes appends to one tenant take turns across every server on the database:
//!
//! 1. the batch's client ids are looked up in `event_ids` (duplicates answer with the first
//!    event's seq; an id with a different body fails the batch, which then stores nothing);
//! 2. the tree's right edge is taken from this server's cache when `next_seq` shows nobody
//!    else appended since, else read from its tiles;
//! 3. events go in with one binary `COPY` (their partitions were made sure of before the
//!    transaction), ids with one `INSERT ... SELECT unnest(...)`, changed tiles and rollups with
//!    pipelined upserts;
//! 4. `next_seq` is written and the transaction commits (`synchronous_commit = on`): only then
//!    is the batch acknowledged.

use std::collections::HashMap;

use tokio_postgres::{Transaction, binary_copy::BinaryCopyInWriter, error::SqlState, types::Type};
use trail_core::{TenantId, canonical::LeafHasher};
use trail_index::terms::{actor_email_term, actor_id_term};
use trail_store::{
    AppendReceipt, Appended, PreparedEvent, StoreError, StoreResult,
    rollup::{Fact, Seen},
    tree::{Edge, blob},
};

use crate::{PgStore, error::PgResultExt, partitions::month_of};

/// One event ready for its row, prepared before the transaction.
pub(crate) struct Row {
    occurred_at: i64,
    id: Option<String>,
    digest: Vec<u8>,
    action: String,
    terms: Vec<i64>,
    actor_id_term: Option<i64>,
    actor_email_term: Option<i64>,
    record: Vec<u8>,
    leaf: Option<LeafHasher>,
    seen: Seen,
    fact: Option<Fact>,
}

impl Row {
    fn of(tenant: &TenantId, ev: PreparedEvent, tree: bool) -> Row {
        let doc = trail_index::doc(&ev.body);
        let actor = ev.body.actor.as_ref();
        Row {
            occurred_at: ev.body.occurred_at.as_microsecond(),
            digest: ev.digest.to_vec(),
            action: doc.action,
            terms: doc.terms.into_iter().map(|t| t as i64).collect(),
            actor_id_term: actor.and_then(|a| a.id.as_deref()).map(|id| actor_id_term(id) as i64),
            actor_email_term: actor.and_then(|a| a.email.as_deref()).map(|e| actor_email_term(e) as i64),
            record: trail_store::record::encode(&ev.secret, &ev.layout, &ev.canonical),
            leaf: tree.then(|| ev.leaf_hasher(tenant)),
            seen: Seen::of(&ev.body),
            fact: Fact::of(&ev.body),
            id: ev.body.id,
        }
    }
}

pub(crate) async fn append(
    store: &PgStore,
    tenant: &TenantId,
    events: Vec<PreparedEvent>,
) -> StoreResult<AppendReceipt> {
    let tree = store.inner.options.merkle_tree;
    let rows: Vec<Row> = events.into_iter().map(|e| Row::of(tenant, e, tree)).collect();
    let mut client = store.client().await?;
    // Partitions first, in their own transaction. A partition dropped by retention meanwhile
    // (here or on another server) shows as "no partition for the row": look again, once.
    for attempt in 0..2 {
        store.inner.partitions.ensure(&mut client, rows.iter().map(|r| month_of(r.occurred_at))).await?;
        let tx = client.transaction().await.pg()?;
        match write(store, &tx, tenant, &rows).await {
            Ok((receipt, edge)) => {
                tx.commit().await.pg()?;
                if let Some(edge) = edge {
                    store.inner.edges.lock().expect("edges lock").insert(tenant.clone(), edge);
                }
                return Ok(receipt);
            }
            Err(Retry::NoPartition) if attempt == 0 => store.inner.partitions.forget_all(),
            Err(Retry::NoPartition) => {
                return Err(StoreError::Unavailable("an event's month has no partition: try again".into()));
            }
            Err(Retry::Failed(e)) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

enum Retry {
    NoPartition,
    Failed(StoreError),
}

impl From<StoreError> for Retry {
    fn from(e: StoreError) -> Self {
        Retry::Failed(e)
    }
}

fn copy_err(e: tokio_postgres::Error) -> Retry {
    let no_partition = e.as_db_error().is_some_and(|d| d.message().starts_with("no partition of relation"));
    if e.code() == Some(&SqlState::CHECK_VIOLATION) && no_partition {
        Retry::NoPartition
    } else {
        Retry::Failed(crate::error::from_pg(e))
    }
}

async fn write(
    store: &PgStore,
    tx: &Transaction<'_>,
    tenant: &TenantId,
    rows: &[Row],
) -> Result<(AppendReceipt, Option<Edge>), Retry> {
    let t = tenant.as_str();
    let mut next = crate::store::lock_tenant(tx, tenant).await?;
    let size = next - 1;

    // Ids seen before: (seq, digest), also those earlier in this batch.
    let ids: Vec<&str> = rows.iter().filter_map(|r| r.id.as_deref()).collect();
    let mut known: HashMap<String, (u64, Vec<u8>)> = HashMap::new();
    if !ids.is_empty() {
        for r in tx
            .query("SELECT id, seq, digest FROM event_ids WHERE tenant_id = $1 AND id = ANY($2)", &[&t, &ids])
            .await
            .pg()?
        {
            known.insert(r.get(0), (r.get::<_, i64>(1) as u64, r.get(2)));
        }
    }

    let keeps_tree = rows.iter().any(|r| r.leaf.is_some());
    let mut edge = None;
    if keeps_tree {
        let cached = store.inner.edges.lock().expect("edges lock").remove(tenant);
        edge = Some(match cached {
            Some(e) if e.size() == size => e,
            _ => load_edge(tx, t, size).await?,
        });
    }

    let mut receipt = Vec::with_capacity(rows.len());
    let mut new_rows = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if let Some(id) = &row.id {
            match known.get(id) {
                Some((seq, digest)) if *digest == row.digest => {
                    receipt.push(Appended { seq: *seq, duplicate: true });
                    continue;
                }
                Some((seq, _)) => return Err(StoreError::Conflict { index: i, id: id.clone(), seq: *seq }.into()),
                None => {
                    known.insert(id.clone(), (next, row.digest.clone()));
                }
            }
        }
        if let (Some(leaf), Some(edge)) = (&row.leaf, edge.as_mut()) {
            edge.push(leaf.finish(next));
        }
        new_rows.push((next as i64, row));
        receipt.push(Appended { seq: next, duplicate: false });
        next += 1;
    }

    if !new_rows.is_empty() {
        let sink = tx
            .copy_in(
                "COPY events (tenant_id, occurred_at, seq, action, terms, actor_id_term, actor_email_term, body)
                 FROM STDIN BINARY",
            )
            .await
            .map_err(copy_err)?;
        let types =
            [Type::TEXT, Type::INT8, Type::INT8, Type::TEXT, Type::INT8_ARRAY, Type::INT8, Type::INT8, Type::BYTEA];
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
        for (seq, r) in &new_rows {
            let row: [&(dyn tokio_postgres::types::ToSql + Sync); 8] =
                [&t, &r.occurred_at, seq, &r.action, &r.terms, &r.actor_id_term, &r.actor_email_term, &r.record];
            writer.as_mut().write(&row).await.map_err(copy_err)?;
        }
        writer.finish().await.map_err(copy_err)?;

        let with_ids: Vec<&(i64, &Row)> = new_rows.iter().filter(|(_, r)| r.id.is_some()).collect();
        if !with_ids.is_empty() {
            let ids: Vec<&str> = with_ids.iter().filter_map(|(_, r)| r.id.as_deref()).collect();
            let seqs: Vec<i64> = with_ids.iter().map(|(s, _)| *s).collect();
            let digests: Vec<&[u8]> = with_ids.iter().map(|(_, r)| &r.digest[..]).collect();
            tx.execute(
                "INSERT INTO event_ids (tenant_id, id, seq, digest)
                 SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bytea[])",
                &[&t, &ids, &seqs, &digests],
            )
            .await
            .pg()?;
        }
        if let Some(edge) = edge.as_mut() {
            write_tiles(tx, t, edge).await?;
        }
        let new: Vec<&Row> = new_rows.iter().map(|(_, r)| *r).collect();
        // Who is who first: an event with only an e-mail linked to an id is rolled up as the id's.
        let ids = crate::identity::link(tx, t, new.iter().map(|r| &r.seen)).await?;
        crate::rollups::add(tx, t, new.iter().map(|r| &r.seen), new.iter().filter_map(|r| r.fact.as_ref()), &ids)
            .await?;
        crate::counts::add(tx, t, new.iter().map(|r| r.occurred_at)).await?;
        tx.execute("UPDATE tenants SET next_seq = $1 WHERE tenant_id = $2", &[&(next as i64), &t]).await.pg()?;
    }
    Ok((AppendReceipt { events: receipt, tree_size: next - 1 }, edge))
}

/// The edge of the tenant's tree of `size` leaves, from its rightmost tiles (one query).
async fn load_edge(tx: &Transaction<'_>, tenant: &str, size: u64) -> StoreResult<Edge> {
    let wanted = Edge::tiles_of(size);
    let levels: Vec<i16> = wanted.iter().map(|w| w.0 as i16).collect();
    let idxs: Vec<i64> = wanted.iter().map(|w| w.1 as i64).collect();
    let tiles = crate::tree::read_tiles(tx, tenant, &levels, &idxs).await?;
    Edge::load(size, |level, idx| Ok(tiles.get(&(level, idx)).cloned()))
}

/// Writes the tiles changed since the edge was last written (one statement).
async fn write_tiles(tx: &Transaction<'_>, tenant: &str, edge: &mut Edge) -> StoreResult<()> {
    let writes = edge.take_writes();
    if writes.is_empty() {
        return Ok(());
    }
    let levels: Vec<i16> = writes.iter().map(|w| w.0 as i16).collect();
    let idxs: Vec<i64> = writes.iter().map(|w| w.1 as i64).collect();
    let blobs: Vec<Vec<u8>> = writes.iter().map(|w| blob(&w.2)).collect();
    tx.execute(
        "INSERT INTO tree_tiles (tenant_id, level, idx, hashes)
         SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])
         ON CONFLICT (tenant_id, level, idx) DO UPDATE SET hashes = excluded.hashes",
        &[&tenant, &levels, &idxs, &blobs],
    )
    .await
    .pg()?;
    Ok(())
}
