//! Each tenant's Merkle tree, kept as tiles (the layout of C2SP `tlog-tiles`).
//!
//! Tile (level L, index i) holds up to 256 consecutive hashes of the nodes at height 8L: level 0
//! holds leaf hashes, level 1 the roots of complete 256-leaf subtrees, and so on. Complete tiles
//! never change; the rightmost tile of each level is rewritten as it grows. Any complete subtree
//! is one tile entry or the root of at most 128 entries of one tile, so a proof reads O(log n)
//! tiles, and an append hashes about one node per leaf: amortised O(1).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use trail_core::merkle::{Hash, NodeSource, naive_root};
use trail_store::{StoreError, StoreResult};

use crate::error::SqlResultExt;

pub(crate) const TILE: u64 = 256;

fn hashes(blob: &[u8]) -> Vec<Hash> {
    blob.chunks_exact(32).map(|c| c.try_into().expect("32 bytes")).collect()
}

fn blob(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flatten().copied().collect()
}

pub(crate) fn read_tile(conn: &Connection, tid: i64, level: u8, idx: u64) -> StoreResult<Option<Vec<Hash>>> {
    conn.prepare_cached("SELECT hashes FROM tree_tiles WHERE tid = ?1 AND level = ?2 AND idx = ?3")
        .sql()?
        .query_row(params![tid, level, idx as i64], |r| r.get::<_, Vec<u8>>(0))
        .optional()
        .sql()
        .map(|b| b.map(|b| hashes(&b)))
}

/// The right edge of a tree: its size and the rightmost (incomplete) tile of each level.
#[derive(Debug, Clone, Default)]
pub(crate) struct Edge {
    pub size: u64,
    partial: Vec<Vec<Hash>>,
    /// Levels whose rightmost tile changed since the last write.
    dirty: Vec<bool>,
    /// Tiles completed since the last write: (level, index, hashes).
    full: Vec<(u8, u64, Vec<Hash>)>,
}

impl Edge {
    /// The edge of the tenant's tree of `size` leaves, read from its tiles.
    pub fn load(conn: &Connection, tid: i64, size: u64) -> StoreResult<Edge> {
        let mut partial = Vec::new();
        let mut level = 0u8;
        loop {
            let nodes = size >> (8 * level as u32);
            if nodes == 0 {
                break;
            }
            let count = (nodes % TILE) as usize;
            let tile = if count > 0 {
                let t = read_tile(conn, tid, level, nodes / TILE)?.unwrap_or_default();
                if t.len() != count {
                    return Err(StoreError::internal(std::io::Error::other(format!(
                        "tree tile {level}/{} has {} hashes, {count} expected",
                        nodes / TILE,
                        t.len()
                    ))));
                }
                t
            } else {
                Vec::new()
            };
            partial.push(tile);
            level += 1;
        }
        let levels = partial.len();
        Ok(Edge { size, partial, dirty: vec![false; levels], full: Vec::new() })
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut level = 0usize;
        self.size += 1;
        loop {
            if self.partial.len() <= level {
                self.partial.push(Vec::new());
                self.dirty.push(false);
            }
            self.partial[level].push(h);
            if self.partial[level].len() < TILE as usize {
                self.dirty[level] = true;
                return;
            }
            // A complete tile: written once, and its root goes up a level.
            let nodes = self.size >> (8 * level as u32);
            let full = std::mem::take(&mut self.partial[level]);
            h = naive_root(&full);
            self.full.push((level as u8, (nodes - 1) / TILE, full));
            self.dirty[level] = false;
            level += 1;
        }
    }

    /// Writes the tiles changed since the last write.
    pub fn write(&mut self, conn: &Connection, tid: i64) -> StoreResult<()> {
        let mut stmt = conn
            .prepare_cached("INSERT OR REPLACE INTO tree_tiles (tid, level, idx, hashes) VALUES (?1, ?2, ?3, ?4)")
            .sql()?;
        for (level, idx, hashes) in self.full.drain(..) {
            stmt.execute(params![tid, level, idx as i64, blob(&hashes)]).sql()?;
        }
        for level in 0..self.dirty.len() {
            if std::mem::take(&mut self.dirty[level]) {
                let idx = (self.size >> (8 * level as u32)) / TILE;
                stmt.execute(params![tid, level as u8, idx as i64, blob(&self.partial[level])]).sql()?;
            }
        }
        Ok(())
    }
}

/// Complete subtrees read from tiles (for roots and proofs), with the tiles kept for the query.
pub(crate) struct Tiles<'a> {
    pub conn: &'a Connection,
    pub tid: i64,
    cache: std::cell::RefCell<HashMap<(u8, u64), Vec<Hash>>>,
}

impl<'a> Tiles<'a> {
    pub fn new(conn: &'a Connection, tid: i64) -> Self {
        Tiles { conn, tid, cache: Default::default() }
    }

    fn tile(&self, level: u8, idx: u64) -> StoreResult<Vec<Hash>> {
        if let Some(t) = self.cache.borrow().get(&(level, idx)) {
            return Ok(t.clone());
        }
        let t = read_tile(self.conn, self.tid, level, idx)?.unwrap_or_default();
        self.cache.borrow_mut().insert((level, idx), t.clone());
        Ok(t)
    }
}

impl NodeSource for Tiles<'_> {
    type Error = StoreError;

    fn node(&self, height: u8, index: u64) -> StoreResult<Hash> {
        let level = height / 8;
        let r = height % 8;
        let first = index << r;
        let tile = self.tile(level, first / TILE)?;
        let from = (first % TILE) as usize;
        let to = from + (1usize << r);
        let entries = tile.get(from..to).ok_or_else(|| {
            StoreError::internal(std::io::Error::other(format!("tree node {height}/{index} is not in the tiles")))
        })?;
        Ok(naive_root(entries))
    }
}
