//! Each tenant's Merkle tree, kept as tiles (the layout of C2SP `tlog-tiles`), the same in every
//! backend; a backend only stores and reads tiles by `(tenant, level, index)`.
//!
//! Tile (level L, index i) holds up to 256 consecutive hashes of the nodes at height 8L: level 0
//! holds leaf hashes, level 1 the roots of complete 256-leaf subtrees, and so on. Complete tiles
//! never change; the rightmost tile of each level is rewritten as it grows. Any complete subtree
//! is one tile entry or the root of at most 128 entries of one tile, so a proof reads O(log n)
//! tiles, and an append hashes about one node per leaf: amortised O(1).

use std::{cell::RefCell, collections::HashMap};

use trail_core::merkle::{Hash, NodeSource, naive_root};

use crate::{StoreError, StoreResult};

/// Hashes per tile.
pub const TILE: u64 = 256;

/// The hashes a stored tile holds (32 bytes each, concatenated).
pub fn hashes(blob: &[u8]) -> Vec<Hash> {
    blob.chunks_exact(32).map(|c| c.try_into().expect("32 bytes")).collect()
}

/// A tile as stored.
pub fn blob(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flatten().copied().collect()
}

/// A tile to write: `(level, index, hashes)`.
pub type TileWrite = (u8, u64, Vec<Hash>);

/// The right edge of a tree: its size and the rightmost (incomplete) tile of each level.
#[derive(Debug, Clone, Default)]
pub struct Edge {
    size: u64,
    partial: Vec<Vec<Hash>>,
    /// Levels whose rightmost tile changed since the last write.
    dirty: Vec<bool>,
    /// Tiles completed since the last write.
    full: Vec<TileWrite>,
}

impl Edge {
    /// The edge of a tree of `size` leaves, from its tiles (`read_tile(level, index)`).
    pub fn load(size: u64, mut read_tile: impl FnMut(u8, u64) -> StoreResult<Option<Vec<Hash>>>) -> StoreResult<Edge> {
        let mut partial = Vec::new();
        for (level, idx, count) in Edge::tiles_of(size) {
            let tile = if count > 0 { read_tile(level, idx)?.unwrap_or_default() } else { Vec::new() };
            if tile.len() != count {
                return Err(StoreError::internal(std::io::Error::other(format!(
                    "tree tile {level}/{idx} has {} hashes, {count} expected",
                    tile.len()
                ))));
            }
            partial.push(tile);
        }
        let levels = partial.len();
        Ok(Edge { size, partial, dirty: vec![false; levels], full: Vec::new() })
    }

    /// The rightmost tile of each level of a tree of `size` leaves: `(level, index, hashes
    /// it holds)` (none when the level's tiles are all complete).
    pub fn tiles_of(size: u64) -> Vec<(u8, u64, usize)> {
        let mut out = Vec::new();
        let mut level = 0u8;
        loop {
            let nodes = size >> (8 * level as u32);
            if nodes == 0 {
                return out;
            }
            out.push((level, nodes / TILE, (nodes % TILE) as usize));
            level += 1;
        }
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.size
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

    /// The tiles changed since the last call, to write (complete ones first).
    pub fn take_writes(&mut self) -> Vec<TileWrite> {
        let mut out = std::mem::take(&mut self.full);
        for level in 0..self.dirty.len() {
            if std::mem::take(&mut self.dirty[level]) {
                let idx = (self.size >> (8 * level as u32)) / TILE;
                out.push((level as u8, idx, self.partial[level].clone()));
            }
        }
        out
    }
}

/// Complete subtrees read from tiles (for roots and proofs), each tile read once per use.
pub struct TileNodes<F> {
    read_tile: F,
    cache: RefCell<HashMap<(u8, u64), Vec<Hash>>>,
}

impl<F: Fn(u8, u64) -> StoreResult<Option<Vec<Hash>>>> TileNodes<F> {
    pub fn new(read_tile: F) -> Self {
        TileNodes { read_tile, cache: Default::default() }
    }

    fn tile(&self, level: u8, idx: u64) -> StoreResult<Vec<Hash>> {
        if let Some(t) = self.cache.borrow().get(&(level, idx)) {
            return Ok(t.clone());
        }
        let t = (self.read_tile)(level, idx)?.unwrap_or_default();
        self.cache.borrow_mut().insert((level, idx), t.clone());
        Ok(t)
    }
}

/// The tile entries `[from, to)` of level `height / 8` under node `(height, index)`.
fn node_span(height: u8, index: u64) -> (u8, u64, usize, usize) {
    let (level, r) = (height / 8, height % 8);
    let first = index << r;
    let from = (first % TILE) as usize;
    (level, first / TILE, from, from + (1usize << r))
}

impl<F: Fn(u8, u64) -> StoreResult<Option<Vec<Hash>>>> NodeSource for TileNodes<F> {
    type Error = StoreError;

    fn node(&self, height: u8, index: u64) -> StoreResult<Hash> {
        let (level, idx, from, to) = node_span(height, index);
        let tile = self.tile(level, idx)?;
        let entries = tile.get(from..to).ok_or_else(|| {
            StoreError::internal(std::io::Error::other(format!("tree node {height}/{index} is not in the tiles")))
        })?;
        Ok(naive_root(entries))
    }
}

/// Stands in for a tree's nodes to find which tiles a computation over the tree reads (a root
/// or a proof): which nodes it needs depends on sizes alone, never on hash values. A backend
/// whose reads are round trips runs the computation once on this, fetches the tiles it names
/// at once, then runs it for real.
#[derive(Default)]
pub struct TileRecorder(RefCell<Vec<(u8, u64)>>);

impl TileRecorder {
    /// The tiles read so far, in the order first read.
    pub fn tiles(self) -> Vec<(u8, u64)> {
        self.0.into_inner()
    }
}

impl NodeSource for TileRecorder {
    type Error = StoreError;

    fn node(&self, height: u8, index: u64) -> StoreResult<Hash> {
        let (level, idx, _, _) = node_span(height, index);
        let mut seen = self.0.borrow_mut();
        if !seen.contains(&(level, idx)) {
            seen.push((level, idx));
        }
        Ok([0; 32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trail_core::merkle::{inclusion_proof, leaf_hash, root};

    #[test]
    fn tiles_written_by_the_edge_give_rfc6962_roots_and_proofs() {
        let leaves: Vec<Hash> = (0..70_000u32).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let mut stored: HashMap<(u8, u64), Vec<Hash>> = HashMap::new();
        let mut edge = Edge::default();
        for (i, leaf) in leaves.iter().enumerate() {
            edge.push(*leaf);
            if i % 997 == 0 || i + 1 == leaves.len() {
                for (level, idx, hs) in edge.take_writes() {
                    stored.insert((level, idx), hs);
                }
                // A reloaded edge goes on the same way.
                edge = Edge::load(edge.size(), |l, i| Ok(stored.get(&(l, i)).cloned())).unwrap();
            }
        }
        let read = |l: u8, i: u64| Ok(stored.get(&(l, i)).cloned());
        let nodes = TileNodes::new(read);
        for size in [1u64, 255, 256, 257, 65_536, 65_537, 70_000] {
            assert_eq!(root(&nodes, size).unwrap(), naive_root(&leaves[..size as usize]), "size {size}");
        }
        let recorder = TileRecorder::default();
        inclusion_proof(&recorder, 12_345, 70_000).unwrap();
        let needed = recorder.tiles();
        let only = |l: u8, i: u64| {
            assert!(needed.contains(&(l, i)), "tile {l}/{i} was not named as needed");
            Ok(stored.get(&(l, i)).cloned())
        };
        assert_eq!(
            inclusion_proof(&TileNodes::new(only), 12_345, 70_000).unwrap(),
            inclusion_proof(&TileNodes::new(read), 12_345, 70_000).unwrap()
        );
    }
}
