//! Folds what an append's new events tell the domain rollups (`trail_store::rollup::Fact`) into
//! the login, usage and link rollups and the activity buckets.

use rusqlite::Connection;
use trail_store::{
    StoreResult,
    rollup::{Fact, split},
};

/// Folds the facts of one append's new events into their rollups and activity buckets.
pub(crate) fn add<'a>(conn: &Connection, tid: i64, facts: impl Iterator<Item = &'a Fact> + Clone) -> StoreResult<()> {
    crate::buckets::add(conn, tid, facts.clone().map(Fact::activity))?;
    let (logins, files, links) = split(facts);
    crate::logins::add(conn, tid, logins)?;
    crate::usage::add(conn, tid, files)?;
    crate::links::add(conn, tid, links)
}
