//! Editing stored events behind Trail's back, as an attacker who knows the storage format would:
//! for the tamper tests that prove `trail verify` finds every change. Not used by Trail itself.

use std::path::Path;

use rusqlite::{Connection, params};
use trail_core::event::EventBody;

use crate::{DB_FILE, codec::Codec, error::SqlResultExt, event_pos};

fn codec(conn: &Connection) -> Codec {
    let codec = Codec::new();
    crate::codec::load_dicts(conn, &codec, Path::new(conn.path().unwrap_or_default())).expect("dictionaries");
    codec
}

fn tid(conn: &Connection, tenant: &str) -> i64 {
    conn.query_row("SELECT tid FROM tenants WHERE id = ?1", [tenant], |r| r.get(0)).expect("a tenant")
}

/// Rewrites event `seq` of `tenant` with `change` applied to its content, keeping its salts'
/// secret: a well-formed event that says something else.
pub fn rewrite_event(
    dir: &Path,
    tenant: &str,
    seq: u64,
    change: impl FnOnce(&mut EventBody),
) -> trail_store::StoreResult<()> {
    let conn = Connection::open(dir.join(DB_FILE)).sql()?;
    let codec = codec(&conn);
    let pos = event_pos(tid(&conn, tenant), seq);
    let blob: Vec<u8> = conn.query_row("SELECT body FROM events WHERE pos = ?1", [pos], |r| r.get(0)).sql()?;
    let bytes = codec.decompress(&blob)?;
    let record =
        trail_store::record::decode(&bytes).map_err(|e| trail_store::StoreError::internal(std::io::Error::other(e)))?;
    let mut body: EventBody = serde_json::from_slice(record.canonical).map_err(trail_store::StoreError::internal)?;
    change(&mut body);
    let (canon, layout) = trail_core::canonical::write(&body);
    let trail_store::record::SaltSource::Secret(secret) = record.salts_from else {
        panic!("rewrite_event works on events that were never erased");
    };
    let new = codec.encode(&trail_store::record::encode(&secret, &layout, &canon));
    conn.execute("UPDATE events SET body = ?1 WHERE pos = ?2", params![new, pos]).sql()?;
    Ok(())
}

/// Flips one bit of byte `offset` of event `seq`'s stored content (its canonical bytes, after
/// decompression), then stores it compressed again.
pub fn flip_content_byte(dir: &Path, tenant: &str, seq: u64, offset: usize) -> trail_store::StoreResult<()> {
    let conn = Connection::open(dir.join(DB_FILE)).sql()?;
    let codec = codec(&conn);
    let pos = event_pos(tid(&conn, tenant), seq);
    let blob: Vec<u8> = conn.query_row("SELECT body FROM events WHERE pos = ?1", [pos], |r| r.get(0)).sql()?;
    let mut bytes = codec.decompress(&blob)?;
    let header = bytes.len() - trail_store::record::decode(&bytes).map(|r| r.canonical.len()).unwrap_or(0);
    let at = header + offset % (bytes.len() - header);
    bytes[at] ^= 0x01;
    conn.execute("UPDATE events SET body = ?1 WHERE pos = ?2", params![codec.encode(&bytes), pos]).sql()?;
    Ok(())
}

/// Rebuilds `tenant`'s stored tree from its stored events, as an attacker who rewrote events
/// would, so the tree agrees with the rewritten log (only what was signed can then tell).
pub fn rebuild_tree(dir: &Path, tenant: &str) -> trail_store::StoreResult<()> {
    use trail_core::merkle::{Hash, naive_root};
    let conn = Connection::open(dir.join(DB_FILE)).sql()?;
    let codec = codec(&conn);
    let tid = tid(&conn, tenant);
    let n: i64 = conn.query_row("SELECT next_seq - 1 FROM tenants WHERE tid = ?1", [tid], |r| r.get(0)).sql()?;
    let suffix = trail_core::canonical::tenant_suffix(tenant);
    let mut leaves: Vec<Hash> = Vec::with_capacity(n as usize);
    for seq in 1..=n as u64 {
        let blob: Vec<u8> =
            conn.query_row("SELECT body FROM events WHERE pos = ?1", [event_pos(tid, seq)], |r| r.get(0)).sql()?;
        let bytes = codec.decompress(&blob)?;
        leaves.push(
            trail_store::record::leaf_hash(&bytes, &suffix, seq)
                .map_err(|e| trail_store::StoreError::internal(std::io::Error::other(e)))?,
        );
    }
    conn.execute("DELETE FROM tree_tiles WHERE tid = ?1", [tid]).sql()?;
    let mut level = leaves;
    let mut height = 0i64;
    while !level.is_empty() {
        for (idx, group) in level.chunks(256).enumerate() {
            conn.execute(
                "INSERT INTO tree_tiles (tid, level, idx, hashes) VALUES (?1, ?2, ?3, ?4)",
                params![tid, height, idx as i64, group.concat()],
            )
            .sql()?;
        }
        level = level.chunks_exact(256).map(naive_root).collect();
        height += 1;
    }
    Ok(())
}

/// Replaces event `seq`'s stored record with bytes that do not decode (a plain blob holding no
/// record): damage that a reader meets before `trail verify` is run.
pub fn garble_event(dir: &Path, tenant: &str, seq: u64) -> trail_store::StoreResult<()> {
    let conn = Connection::open(dir.join(DB_FILE)).sql()?;
    let pos = event_pos(tid(&conn, tenant), seq);
    let changed =
        conn.execute("UPDATE events SET body = ?1 WHERE pos = ?2", params![&[0u8, 0xff, 0xfe][..], pos]).sql()?;
    assert_eq!(changed, 1, "event {seq} of {tenant} exists");
    Ok(())
}
