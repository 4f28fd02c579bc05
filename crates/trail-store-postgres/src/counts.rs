//! How many events each tenant has per 15-minute bucket of `occurred_at` (`event_counts`), kept
//! in the append's transaction and by purges, so a timeline without filters (the console's
//! chart, `GET .../timeline`) sums a few thousand rows instead of counting every event.
//!
//! An interval's whole buckets come from the table; the pieces of buckets its edges cut (a
//! range starting "30 days ago" to the microsecond, a time zone's day that does not start on a
//! quarter hour) are counted row by row, so the answer is exact.

use tokio_postgres::{GenericClient, Transaction, types::Type};
use trail_store::StoreResult;

use crate::error::PgResultExt;

/// A bucket's width in microseconds.
const WIDTH: i64 = 15 * 60 * 1_000_000;

fn bucket(us: i64) -> i64 {
    us.div_euclid(WIDTH)
}

/// Adds events at these times (microseconds) to the tenant's counts.
pub(crate) async fn add(tx: &Transaction<'_>, tenant: &str, times: impl Iterator<Item = i64>) -> StoreResult<()> {
    change(tx, tenant, times, 1).await.map(drop)
}

/// Takes events at these times away from the tenant's counts (a purge deleted them).
pub(crate) async fn subtract(tx: &Transaction<'_>, tenant: &str, times: impl Iterator<Item = i64>) -> StoreResult<()> {
    let buckets = change(tx, tenant, times, -1).await?;
    tx.execute("DELETE FROM event_counts WHERE tenant_id = $1 AND bucket = ANY($2) AND n <= 0", &[&tenant, &buckets])
        .await
        .pg()?;
    Ok(())
}

/// Adds `sign` for each time to its bucket's count; the buckets changed.
async fn change(
    tx: &Transaction<'_>,
    tenant: &str,
    times: impl Iterator<Item = i64>,
    sign: i64,
) -> StoreResult<Vec<i64>> {
    let mut per: std::collections::BTreeMap<i64, i64> = Default::default();
    for t in times {
        *per.entry(bucket(t)).or_default() += sign;
    }
    if per.is_empty() {
        return Ok(Vec::new());
    }
    let (buckets, counts): (Vec<i64>, Vec<i64>) = per.into_iter().unzip();
    tx.execute(
        "INSERT INTO event_counts (tenant_id, bucket, n) SELECT $1, * FROM unnest($2::bigint[], $3::bigint[])
         ON CONFLICT (tenant_id, bucket) DO UPDATE SET n = event_counts.n + excluded.n",
        &[&tenant, &buckets, &counts],
    )
    .await
    .pg()?;
    Ok(buckets)
}

/// After every event before `before` was purged: buckets wholly before it go, and the bucket
/// it cuts is counted again from the events left in it.
pub(crate) async fn expire(tx: &Transaction<'_>, tenant: &str, before: i64) -> StoreResult<()> {
    let cut = bucket(before);
    tx.execute("DELETE FROM event_counts WHERE tenant_id = $1 AND bucket <= $2", &[&tenant, &cut]).await.pg()?;
    tx.execute(
        "INSERT INTO event_counts (tenant_id, bucket, n)
         SELECT $1, $2, count(*) FROM events WHERE tenant_id = $1 AND occurred_at >= $3 AND occurred_at < $4
         HAVING count(*) > 0",
        &[&tenant, &cut, &(cut * WIDTH), &((cut + 1) * WIDTH)],
    )
    .await
    .pg()?;
    Ok(())
}

/// The events of the tenant up to seq `snapshot` in each interval `[edges[i], edges[i + 1])`.
/// Run inside the caller's snapshot, so the counts and the rows agree.
pub(crate) async fn per_interval(
    c: &impl GenericClient,
    tenant: &str,
    snapshot: u64,
    edges: &[i64],
) -> StoreResult<Vec<u64>> {
    let mut counts = vec![0u64; edges.len().saturating_sub(1)];
    // Per interval: its whole buckets `[first, end)`, and the cut pieces to count row by row.
    let mut whole: Vec<(usize, i64, i64)> = Vec::new();
    let (mut piece_at, mut piece_lo, mut piece_hi) = (Vec::new(), Vec::new(), Vec::new());
    for (i, w) in edges.windows(2).enumerate() {
        let (lo, hi) = (w[0], w[1]);
        if lo >= hi {
            continue;
        }
        let first = bucket(lo) + i64::from(lo.rem_euclid(WIDTH) != 0);
        let end = bucket(hi);
        let mut piece = |from: i64, to: i64| {
            if from < to {
                piece_at.push(i);
                piece_lo.push(from);
                piece_hi.push(to);
            }
        };
        if first < end {
            whole.push((i, first, end));
            piece(lo, first * WIDTH);
            piece(end * WIDTH, hi);
        } else {
            piece(lo, hi);
        }
    }
    if let (Some(&(_, first, _)), Some(&(_, _, end))) = (whole.first(), whole.last()) {
        let rows = c
            .query_typed(
                "SELECT bucket, n FROM event_counts WHERE tenant_id = $1 AND bucket >= $2 AND bucket < $3",
                &[(&tenant, Type::TEXT), (&first, Type::INT8), (&end, Type::INT8)],
            )
            .await
            .pg()?;
        for r in rows {
            let (b, n): (i64, i64) = (r.get(0), r.get(1));
            // Intervals are in order and their whole buckets do not overlap.
            let k = whole.partition_point(|&(_, _, e)| e <= b);
            if let Some(&(i, f, _)) = whole.get(k)
                && f <= b
            {
                counts[i] += n.max(0) as u64;
            }
        }
    }
    if !piece_at.is_empty() {
        let snapshot = snapshot.min(i64::MAX as u64) as i64;
        let rows = c
            .query_typed(
                "SELECT (SELECT count(*) FROM events
                         WHERE tenant_id = $1 AND seq <= $2 AND occurred_at >= p.lo AND occurred_at < p.hi)
                 FROM unnest($3::bigint[], $4::bigint[]) WITH ORDINALITY AS p(lo, hi, k) ORDER BY p.k",
                &[
                    (&tenant, Type::TEXT),
                    (&snapshot, Type::INT8),
                    (&piece_lo, Type::INT8_ARRAY),
                    (&piece_hi, Type::INT8_ARRAY),
                ],
            )
            .await
            .pg()?;
        for (r, &i) in rows.iter().zip(&piece_at) {
            counts[i] += r.get::<_, i64>(0) as u64;
        }
    }
    Ok(counts)
}
