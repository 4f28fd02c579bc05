//! `trail.logs.viewed` (docs/console.md): written when a person views the log with a filter, or an
//! event, that their session had not just viewed: once per change of filter, not for every
//! reload, page or Load more. Which view each session saw last is kept in memory, as a hash:
//! after a restart the first view of each session is written again, which errs on the side of
//! the audit log.

use std::{collections::HashMap, sync::Mutex};

use serde_json::Value;
use sha2::{Digest, Sha256};
use trail_store::StoreError;

use crate::{
    AppState, audit,
    auth::{Person, Principal},
};

/// Sessions remembered at most; past this the map starts afresh.
const MAX_SESSIONS: usize = 50_000;

#[derive(Default)]
pub struct LastViewed {
    by_session: Mutex<HashMap<[u8; 32], [u8; 32]>>,
}

impl LastViewed {
    /// Records that `session` viewed `what`; true when that differs from its last view.
    pub fn changed(&self, session: [u8; 32], what: &str) -> bool {
        let what: [u8; 32] = Sha256::digest(what.as_bytes()).into();
        let mut map = self.by_session.lock().expect("not poisoned");
        if map.get(&session) == Some(&what) {
            return false;
        }
        if map.len() >= MAX_SESSIONS {
            map.clear();
        }
        map.insert(session, what);
        true
    }

    /// Forgets the session's last view (its event could not be written: the next view tries
    /// again).
    pub fn forget(&self, session: [u8; 32]) {
        self.by_session.lock().expect("not poisoned").remove(&session);
    }
}

/// Writes `trail.logs.viewed` for `person` viewing `what` (a key naming the view and its
/// filters), unless their session viewed exactly that last.
pub(crate) async fn record(
    s: &AppState,
    person: &Person,
    session: [u8; 32],
    what: &str,
    description: String,
    metadata: Value,
) -> Result<(), StoreError> {
    if !s.viewed.changed(session, what) {
        return Ok(());
    }
    let actor = Principal::Person(person.clone()).actor();
    match audit::record(&*s.store, &person.tenant, actor, "trail.logs.viewed", description, metadata).await {
        Ok(_) => Ok(()),
        Err(e) => {
            s.viewed.forget(session);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_change_of_filter_counts() {
        let v = LastViewed::default();
        assert!(v.changed([1; 32], "activity?range=today"));
        assert!(!v.changed([1; 32], "activity?range=today"));
        assert!(v.changed([2; 32], "activity?range=today"));
        assert!(v.changed([1; 32], "activity?range=all"));
        assert!(v.changed([1; 32], "activity?range=today"));
        v.forget([1; 32]);
        assert!(v.changed([1; 32], "activity?range=today"));
    }
}
