//! What one event tells the domain rollups (logins, usage, links), taken from its body before
//! it is encoded. An event feeds at most one of them: the catalogue's actions for each are
//! disjoint (`auth.login.*`, `file.*`, `link.*`).

use rusqlite::Connection;
use trail_core::event::EventBody;
use trail_store::{RollupKind, StoreResult};

use crate::{links::LinkUse, logins::Attempt, usage::FileUse};

pub(crate) enum Fact {
    Login(Attempt),
    File(FileUse),
    Link(LinkUse),
}

impl Fact {
    pub(crate) fn of(body: &EventBody) -> Option<Fact> {
        let action = body.action.as_str();
        if action.starts_with("auth.") {
            Attempt::of(body).map(Fact::Login)
        } else if action.starts_with("file.") {
            FileUse::of(body).map(Fact::File)
        } else if action.starts_with("link.") {
            LinkUse::of(body).map(Fact::Link)
        } else {
            None
        }
    }
}

impl Fact {
    /// The rollup row it touches, and when.
    fn activity(&self) -> (RollupKind, &str, i64) {
        match self {
            Fact::Login(a) => (RollupKind::Logins, &a.key, a.at),
            Fact::File(u) => (RollupKind::Usage, &u.key, u.at),
            Fact::Link(l) => (RollupKind::Links, &l.key, l.at),
        }
    }
}

/// Folds the facts of one append's new events into their rollups and activity buckets.
pub(crate) fn add<'a>(conn: &Connection, tid: i64, facts: impl Iterator<Item = &'a Fact> + Clone) -> StoreResult<()> {
    crate::buckets::add(conn, tid, facts.clone().map(Fact::activity))?;
    crate::logins::add(conn, tid, facts.clone().filter_map(|f| if let Fact::Login(a) = f { Some(a) } else { None }))?;
    crate::usage::add(conn, tid, facts.clone().filter_map(|f| if let Fact::File(u) = f { Some(u) } else { None }))?;
    crate::links::add(conn, tid, facts.filter_map(|f| if let Fact::Link(l) = f { Some(l) } else { None }))
}
