//! Which filters each console session last viewed, so that `trail.logs.viewed` is written once
//! per change of filter (SPEC 7: "not for every keystroke"), not for every page or Load more.
//! Kept in memory: after a restart the first view of each session is written again, which
//! errs on the side of the audit log.

use std::{collections::HashMap, sync::Mutex};

/// Sessions remembered at most; past this the map starts afresh.
const MAX_SESSIONS: usize = 50_000;

#[derive(Default)]
pub struct LastViewed {
    by_session: Mutex<HashMap<[u8; 32], String>>,
}

impl LastViewed {
    /// Records that `session` viewed `what`; true when that differs from its last view.
    pub fn changed(&self, session: [u8; 32], what: &str) -> bool {
        let mut map = self.by_session.lock().expect("not poisoned");
        if map.get(&session).is_some_and(|last| last == what) {
            return false;
        }
        if map.len() >= MAX_SESSIONS {
            map.clear();
        }
        map.insert(session, what.to_owned());
        true
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
    }
}
