//! Folds what an append's new events tell the domain rollups (`trail_store::rollup::Fact`) into
//! the login, usage and link rollups and the activity buckets.

use rusqlite::Connection;
use trail_store::{
    StoreResult,
    identity::Resolved,
    rollup::{Fact, split},
};

/// Folds the facts of one append's new events into their rollups and activity buckets (`ids`:
/// the id each e-mail of the batch is linked to).
pub(crate) fn add<'a>(
    conn: &Connection,
    tid: i64,
    facts: impl Iterator<Item = &'a Fact> + Clone,
    ids: &'a Resolved,
) -> StoreResult<()> {
    crate::buckets::add(conn, tid, facts.clone().map(|f| f.activity(ids)))?;
    let (logins, files, links) = split(facts);
    crate::logins::add(conn, tid, logins, ids)?;
    crate::usage::add(conn, tid, files, ids)?;
    crate::links::add(conn, tid, links)
}
