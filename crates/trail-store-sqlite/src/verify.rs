//! `trail verify`: an offline check of a data directory against its own history.
//!
//! For each tenant it recomputes every leaf from the stored event (canonical bytes, salts and
//! commitments: nothing is taken on trust from the tree), compares it with the stored tree,
//! rebuilds every level of the tree and compares those, checks every checkpoint's signature,
//! recomputes every checkpoint's root from the leaves, and checks that each checkpoint's tree
//! extends the previous one's. It reports the first seq at which the log and its tree disagree.
//!
//! Leaves are computed by several threads, each over chunks of 65,536 events (256 tiles, so the
//! chunk also yields its level-1 and level-2 tree nodes); reading, decompressing and hashing an
//! event takes about a microsecond and a half.

use std::{path::Path, sync::Mutex};

use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use trail_core::{
    canonical::tenant_suffix,
    merkle::{Hash, consistency_proof, naive_root},
};
use trail_store::{StoreError, StoreResult};

use crate::{
    DB_FILE, SEQ_MASK,
    codec::Codec,
    error::SqlResultExt,
    event_pos,
    tree::{TILE, read_tile},
};

const CHUNK: u64 = TILE * TILE;

pub use trail_store::verify::VerifyOptions;
pub use trail_store::verify::{Problem, TenantReport};
use trail_store::verify::{check_checkpoints, check_nodes, check_unsigned, note, past_the_end};

fn open(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.pragma_update(None, "cache_size", -65536).sql()?;
    conn.pragma_update(None, "mmap_size", 1i64 << 30).sql()?;
    Ok(conn)
}

/// How many events `verify` will look at (for a progress bar).
pub fn event_count(dir: &Path, only: Option<&str>) -> StoreResult<u64> {
    let path = dir.join(DB_FILE);
    if !path.exists() {
        return Err(StoreError::NotFound(format!("a Trail database in {}", dir.display())));
    }
    let conn = open(&path)?;
    let counts: Vec<(String, i64)> = conn
        .prepare("SELECT id, next_seq - 1 FROM tenants")
        .sql()?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .sql()?
        .collect::<rusqlite::Result<_>>()
        .sql()?;
    Ok(counts.iter().filter(|(id, _)| only.is_none_or(|t| t == id)).map(|(_, n)| *n as u64).sum())
}

/// Verifies every tenant of the data directory `dir` (or only `only`), with the public key
/// checkpoints must be signed with. `progress` is told how many events each step verified.
pub fn verify(
    dir: &Path,
    only: Option<&str>,
    public: &VerifyingKey,
    options: &VerifyOptions,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> StoreResult<Vec<TenantReport>> {
    let path = dir.join(DB_FILE);
    if !path.exists() {
        return Err(StoreError::NotFound(format!("a Trail database in {}", dir.display())));
    }
    let conn = open(&path)?;
    // One read transaction: every count, tile and checkpoint below comes from one snapshot, so
    // a server appending meanwhile cannot look like events past the log's end. (Workers read
    // events at or below the snapshot's count, which later appends never change.)
    conn.execute_batch("BEGIN").sql()?;
    let codec = Codec::new();
    crate::codec::load_dicts(&conn, &codec, &path)?;
    let tenants: Vec<(i64, String, u64)> = conn
        .prepare("SELECT tid, id, next_seq FROM tenants ORDER BY id")
        .sql()?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64 - 1)))
        .sql()?
        .collect::<rusqlite::Result<_>>()
        .sql()?;
    if let Some(t) = only
        && !tenants.iter().any(|(_, id, _)| id == t)
    {
        return Err(StoreError::NotFound(format!("tenant {t}")));
    }
    let mut reports = Vec::new();
    for (tid, tenant, n) in tenants.into_iter().filter(|(_, id, _)| only.is_none_or(|t| t == id)) {
        reports.push(verify_tenant(&path, &conn, &codec, tid, &tenant, n, public, options, threads.max(1), progress)?);
    }
    Ok(reports)
}

#[allow(clippy::too_many_arguments)]
fn verify_tenant(
    path: &Path,
    conn: &Connection,
    codec: &Codec,
    tid: i64,
    tenant: &str,
    n: u64,
    public: &VerifyingKey,
    options: &VerifyOptions,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> StoreResult<TenantReport> {
    let problem = Mutex::new(None);
    // Events removed by retention: their leaves are taken from the stored tree (their contents
    // are gone on purpose); any other missing event is a problem.
    let purged = crate::purge::purged(conn, tid)?;
    // Events beyond the tenant's count must not exist either.
    let extra: Option<i64> = conn
        .query_row(
            "SELECT min(pos) FROM events WHERE pos > ?1 AND pos <= ?2",
            [event_pos(tid, n), event_pos(tid, SEQ_MASK as u64)],
            |r| r.get(0),
        )
        .sql()?;
    if let Some(pos) = extra {
        note(&problem, (pos & SEQ_MASK) as u64, "an event beyond the log's end".into());
    }

    // Leaves, and the level-1 nodes of each chunk. Each worker allocates its own chunk's
    // leaves, so the pages are zeroed in parallel rather than up front by one thread.
    let chunk_count = n.div_ceil(CHUNK) as usize;
    let chunks = Mutex::new(vec![Vec::<Hash>::new(); chunk_count]);
    let level1 = Mutex::new(vec![None::<Hash>; (n / TILE) as usize]);
    {
        let queue: Mutex<Vec<usize>> = Mutex::new((0..chunk_count).rev().collect());
        let failed = Mutex::new(None::<StoreError>);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let conn = match open(path) {
                        Ok(c) => c,
                        Err(e) => {
                            *failed.lock().expect("lock") = Some(e);
                            return;
                        }
                    };
                    loop {
                        let next = queue.lock().expect("queue").pop();
                        let Some(k) = next else { return };
                        let start = k as u64 * CHUNK;
                        let mut slice = vec![[0u8; 32]; (n - start).min(CHUNK) as usize];
                        if let Err(e) = leaves_of_chunk(&conn, codec, tid, tenant, start, &mut slice, &purged, &problem)
                        {
                            *failed.lock().expect("lock") = Some(e);
                            return;
                        }
                        let nodes: Vec<Hash> = slice.chunks_exact(TILE as usize).map(naive_root).collect();
                        let mut l1 = level1.lock().expect("lock");
                        for (i, node) in nodes.into_iter().enumerate() {
                            l1[(start / TILE) as usize + i] = Some(node);
                        }
                        drop(l1);
                        progress(slice.len() as u64);
                        chunks.lock().expect("lock")[k] = slice;
                    }
                });
            }
        });
        if let Some(e) = failed.into_inner().expect("lock") {
            return Err(e);
        }
    }

    // Every stored tile above the leaves against the tree the leaves build. A node that differs
    // because a leaf under it differs says nothing new, so it is reported only when the leaves
    // under it all matched: then the stored tree itself was changed.
    let level1: Vec<Hash> =
        level1.into_inner().expect("lock").into_iter().map(|h| h.expect("every complete tile hashed")).collect();
    let mut level = level1.clone();
    let mut height = 1u8;
    while !level.is_empty() {
        for (idx, group) in level.chunks(TILE as usize).enumerate() {
            let stored = read_tile(conn, tid, height, idx as u64)?.unwrap_or_default();
            check_nodes(&problem, n, height, idx as u64, &stored, group);
        }
        level = level.chunks_exact(TILE as usize).map(naive_root).collect();
        height += 1;
    }
    // No stored tile may reach past the log's end.
    let beyond: Option<(u8, i64)> = conn
        .query_row(
            // Level L holds n >> 8L nodes, so its tiles are 0 ..= that / 256.
            "SELECT level, idx FROM tree_tiles WHERE tid = ?1 AND idx * 256 >= (?2 >> (8 * level)) LIMIT 1",
            [tid, n as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .sql()?;
    if let Some((level, idx)) = beyond {
        past_the_end(&problem, n, &format!("tile {level}/{idx}"));
    }

    // Checkpoints: signatures, roots recomputed from the leaves, consistency with the previous.
    let mut stmt = conn.prepare("SELECT size, root, note FROM checkpoints WHERE tid = ?1 ORDER BY size").sql()?;
    let cps: Vec<(u64, Vec<u8>, String)> = stmt
        .query_map([tid], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)))
        .sql()?
        .collect::<rusqlite::Result<_>>()
        .sql()?;
    let mut sizes: Vec<u64> = cps.iter().map(|c| c.0).filter(|&s| s <= n).chain(options.sizes(tenant, n)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let chunks = chunks.into_inner().expect("lock");
    let leaf = |i: usize| chunks[i / CHUNK as usize][i % CHUNK as usize];
    let roots = roots_at(leaf, n as usize, &level1, &sizes);
    let tiles = crate::tree::nodes(conn, tid);
    let checked = check_checkpoints(
        &problem,
        tenant,
        n,
        public,
        &cps,
        options,
        |size| roots.get(&size).copied().unwrap_or_default(),
        |from, to| consistency_proof(&tiles, from, to),
    )?;
    if checked.wrong_key.is_none() && checked.signed < n {
        let at = received_at(conn, codec, tid, checked.signed + 1)?;
        check_unsigned(&problem, n, checked.signed, at, options);
    }
    Ok(TenantReport {
        tenant: tenant.to_owned(),
        events: n,
        checkpoints: cps.len() as u64,
        problem: problem.into_inner().expect("lock"),
        checked,
    })
}

/// When event `seq` was received (`None` if it is not stored or cannot be read: other checks
/// report that).
fn received_at(conn: &Connection, codec: &Codec, tid: i64, seq: u64) -> StoreResult<Option<jiff::Timestamp>> {
    let blob: Option<Vec<u8>> = conn
        .query_row("SELECT body FROM events WHERE pos = ?1", [event_pos(tid, seq)], |r| r.get(0))
        .optional()
        .sql()?;
    let Some(blob) = blob else { return Ok(None) };
    codec.with_decompressed(&blob, |bytes| trail_store::record::body(bytes).ok().map(|b| b.received_at))
}

/// Recomputes the leaves of seqs `start + 1 ..= start + slice.len()`, noting missing events,
/// events that do not decode, and leaves that differ from the stored tree.
#[allow(clippy::too_many_arguments)]
fn leaves_of_chunk(
    conn: &Connection,
    codec: &Codec,
    tid: i64,
    tenant: &str,
    start: u64,
    slice: &mut [Hash],
    purged: &roaring::RoaringBitmap,
    problem: &Mutex<Option<Problem>>,
) -> StoreResult<()> {
    let end = start + slice.len() as u64;
    let suffix = tenant_suffix(tenant);
    let mut stmt =
        conn.prepare_cached("SELECT pos, body FROM events WHERE pos > ?1 AND pos <= ?2 ORDER BY pos").sql()?;
    let mut rows = stmt.query([event_pos(tid, start), event_pos(tid, end)]).sql()?;
    let mut expect = start + 1;
    // Which events of the chunk have a row: only an absent one may be purged (a stored event
    // is always checked, whatever the purged set says).
    let mut present = vec![false; slice.len()];
    let missing = |from: u64, to: u64| {
        if let Some(seq) = (from..to).find(|s| !purged.contains((s - 1) as u32)) {
            note(problem, seq, format!("event {seq} is missing"));
        }
    };
    while let Some(row) = rows.next().sql()? {
        let seq = (row.get::<_, i64>(0).sql()? & SEQ_MASK) as u64;
        if seq != expect {
            missing(expect, seq);
        }
        expect = seq + 1;
        present[(seq - start - 1) as usize] = true;
        let blob = row.get_ref(1).sql()?.as_blob().map_err(|e| StoreError::internal(rusqlite::Error::from(e)))?;
        let leaf = codec
            .with_decompressed(blob, |bytes| trail_store::record::leaf_hash(bytes, &suffix, seq))
            .map_err(|e| e.to_string())
            .and_then(|r: Result<Hash, String>| r);
        match leaf {
            Ok(h) => slice[(seq - start - 1) as usize] = h,
            Err(e) => note(problem, seq, format!("event {seq} cannot be read: {e}")),
        }
    }
    if expect <= end {
        missing(expect, end + 1);
    }
    // The stored leaves of the chunk (a purged event's leaf is the stored one).
    for tile_idx in start / TILE..end.div_ceil(TILE) {
        let stored = read_tile(conn, tid, 0, tile_idx)?.unwrap_or_default();
        let lo = (tile_idx * TILE - start) as usize;
        let hi = (lo + TILE as usize).min(slice.len());
        for (k, computed) in slice[lo..hi].iter_mut().enumerate() {
            let seq = start + lo as u64 + k as u64 + 1;
            if !present[lo + k]
                && purged.contains((seq - 1) as u32)
                && let Some(leaf) = stored.get(k)
            {
                *computed = *leaf;
                continue;
            }
            if stored.get(k) != Some(computed) {
                note(problem, seq, format!("event {seq} is not the event the tree holds (its leaf differs)"));
                break;
            }
        }
    }
    Ok(())
}

/// The roots of the trees of the first `sizes[i]` leaves (sizes ascending), in one pass: the
/// complete subtrees of the right edge are kept on a stack as leaves are added. `level1` holds
/// the root of each complete 256-leaf tile, so whole tiles between sizes go on in one step.
fn roots_at(
    leaf: impl Fn(usize) -> Hash,
    n: usize,
    level1: &[Hash],
    sizes: &[u64],
) -> std::collections::HashMap<u64, Hash> {
    let mut out = std::collections::HashMap::new();
    let mut stack: Vec<(u32, Hash)> = Vec::new(); // (height, hash)
    let mut wanted = sizes.iter().copied().peekable();
    let mut i = 0usize;
    while i < n {
        let Some(&next) = wanted.peek() else { break };
        let whole_tile =
            i.is_multiple_of(TILE as usize) && (i + TILE as usize) as u64 <= next && i / (TILE as usize) < level1.len();
        let mut node = if whole_tile { (8u32, level1[i / TILE as usize]) } else { (0u32, leaf(i)) };
        i += if whole_tile { TILE as usize } else { 1 };
        while let Some(&(h, left)) = stack.last() {
            if h != node.0 {
                break;
            }
            stack.pop();
            node = (h + 1, trail_core::merkle::node_hash(&left, &node.1));
        }
        stack.push(node);
        let size = i as u64;
        while wanted.peek() == Some(&size) {
            wanted.next();
            let mut acc = stack.last().expect("a node was pushed").1;
            for (_, left) in stack.iter().rev().skip(1) {
                acc = trail_core::merkle::node_hash(left, &acc);
            }
            out.insert(size, acc);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_in_one_pass_are_the_rfc6962_roots() {
        let leaves: Vec<Hash> = (0..1500u32).map(|i| trail_core::merkle::leaf_hash(&i.to_le_bytes())).collect();
        let level1: Vec<Hash> = leaves.chunks_exact(TILE as usize).map(naive_root).collect();
        for sizes in
            [vec![1, 2, 3, 7, 8, 9, 255, 256, 257, 512, 1000, 1024, 1025, 1500], vec![1500], vec![768, 1499], vec![]]
        {
            let roots = roots_at(|i| leaves[i], leaves.len(), &level1, &sizes);
            assert_eq!(roots.len(), sizes.len());
            for s in sizes {
                assert_eq!(roots[&s], naive_root(&leaves[..s as usize]), "size {s}");
            }
        }
    }
}
