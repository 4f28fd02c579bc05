//! Tiles of each tenant's Merkle tree in the `tree_tiles` table; the tree itself
//! (`trail_store::tree`) is the same in every backend.

use rusqlite::{Connection, OptionalExtension, params};
use trail_core::merkle::Hash;
use trail_store::{
    StoreResult,
    tree::{Edge, TileNodes, blob, hashes},
};

use crate::error::SqlResultExt;

pub(crate) use trail_store::tree::TILE;

pub(crate) fn read_tile(conn: &Connection, tid: i64, level: u8, idx: u64) -> StoreResult<Option<Vec<Hash>>> {
    conn.prepare_cached("SELECT hashes FROM tree_tiles WHERE tid = ?1 AND level = ?2 AND idx = ?3")
        .sql()?
        .query_row(params![tid, level, idx as i64], |r| r.get::<_, Vec<u8>>(0))
        .optional()
        .sql()
        .map(|b| b.map(|b| hashes(&b)))
}

/// The edge of the tenant's tree of `size` leaves, read from its tiles.
pub(crate) fn load_edge(conn: &Connection, tid: i64, size: u64) -> StoreResult<Edge> {
    Edge::load(size, |level, idx| read_tile(conn, tid, level, idx))
}

/// Writes the tiles changed since the last write.
pub(crate) fn write_edge(edge: &mut Edge, conn: &Connection, tid: i64) -> StoreResult<()> {
    let mut stmt = conn
        .prepare_cached("INSERT OR REPLACE INTO tree_tiles (tid, level, idx, hashes) VALUES (?1, ?2, ?3, ?4)")
        .sql()?;
    for (level, idx, hashes) in edge.take_writes() {
        stmt.execute(params![tid, level, idx as i64, blob(&hashes)]).sql()?;
    }
    Ok(())
}

/// The tenant's tree as read from its tiles, for roots and proofs.
pub(crate) fn nodes(conn: &Connection, tid: i64) -> TileNodes<impl Fn(u8, u64) -> StoreResult<Option<Vec<Hash>>>> {
    TileNodes::new(move |level, idx| read_tile(conn, tid, level, idx))
}
