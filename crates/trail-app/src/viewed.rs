//! `trail.logs.viewed` (docs/console.md): written when a person views a log (Activity, a category's log) or an
//! event, at most once per person and view in [`WINDOW`]. A view is the page, and what its
//! path names (an event's seq, a document's trail), not its filters: changing the range, the
//! search or the page, reloading and Load more within the window are the same view, so the
//! log records who looked at what, and when, without filling up with the console's own
//! traffic. The event written holds the filters of the first view of the window.
//!
//! When each person last had each view recorded is kept in memory, as hashes: after a
//! restart the first view is written again, which errs on the side of the audit log.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::Value;
use sha2::{Digest, Sha256};
use trail_core::vocabulary::actions;
use trail_store::StoreError;

use crate::{
    App,
    access::{Person, Principal},
    own_events::{self, Origin},
};

/// Views of one view by one person within this long of the last one recorded are not
/// recorded again.
pub const WINDOW: Duration = Duration::from_secs(10 * 60);
/// Views remembered at most; past this, those older than the window are dropped, and if that
/// is not enough the map starts afresh.
const MAX_VIEWS: usize = 100_000;

/// Owned by the [`App`]: one per process.
#[derive(Default)]
pub struct LastViewed {
    recorded_at: Mutex<HashMap<[u8; 32], Instant>>,
}

impl LastViewed {
    /// Notes a view under `key` at `now`; true when it is to be recorded (none was in the
    /// window before it).
    fn fresh(&self, key: &str, now: Instant) -> bool {
        let key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let mut map = self.recorded_at.lock().expect("not poisoned");
        if map.get(&key).is_some_and(|at| now.duration_since(*at) < WINDOW) {
            return false;
        }
        if map.len() >= MAX_VIEWS {
            map.retain(|_, at| now.duration_since(*at) < WINDOW);
            if map.len() >= MAX_VIEWS {
                map.clear();
            }
        }
        map.insert(key, now);
        true
    }

    /// Forgets a view (its event could not be written: the next view tries again).
    fn forget(&self, key: &str) {
        let key: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        self.recorded_at.lock().expect("not poisoned").remove(&key);
    }
}

/// Who is viewing: the tenant and the person's member id, actor id and e-mail; a viewer whose
/// token names none of them is told apart by their session.
fn person_key(person: &Person, session: [u8; 32]) -> String {
    let ids = [&person.member_id, &person.actor_id, &person.email];
    let named = ids.iter().any(|v| v.is_some());
    let part = |v: &Option<String>| v.as_deref().unwrap_or("").replace('|', "||");
    let session = if named { String::new() } else { hex::encode(session) };
    format!("{}|{}|{}|{}|{session}", person.tenant, part(ids[0]), part(ids[1]), part(ids[2]))
}

/// Writes `trail.logs.viewed` for `person` viewing `view` (the page and what its path names,
/// such as `activity` or `event:42`), unless they had that view recorded in the window.
pub async fn record(
    app: &App,
    person: &Person,
    session: [u8; 32],
    origin: &Origin,
    view: &str,
    description: String,
    metadata: Value,
) -> Result<(), StoreError> {
    let key = format!("{}\n{view}", person_key(person, session));
    if !app.viewed.fresh(&key, Instant::now()) {
        return Ok(());
    }
    let actor = Principal::Person(person.clone()).actor();
    match own_events::record(app, &person.tenant, origin, actor, actions::TRAIL_LOGS_VIEWED, description, metadata)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            app.viewed.forget(&key);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_view_per_person_and_view_in_the_window() {
        let v = LastViewed::default();
        let t0 = Instant::now();
        assert!(v.fresh("maya\nactivity", t0));
        assert!(!v.fresh("maya\nactivity", t0 + Duration::from_secs(60)), "a reload, or other filters");
        assert!(v.fresh("maya\nevent:7", t0), "another view");
        assert!(v.fresh("asha\nactivity", t0), "another person");
        assert!(!v.fresh("maya\nactivity", t0 + WINDOW - Duration::from_secs(1)));
        assert!(v.fresh("maya\nactivity", t0 + WINDOW), "the window is over");
        v.forget("maya\nevent:7");
        assert!(v.fresh("maya\nevent:7", t0 + Duration::from_secs(1)), "an unwritten view is tried again");
    }

    #[test]
    fn people_are_told_apart_by_their_ids() {
        let tenant = trail_core::TenantId::parse("acme").unwrap();
        let p = |member: Option<&str>, actor: Option<&str>| Person {
            owner: None,
            actor_id: actor.map(Into::into),
            tenant: tenant.clone(),
            role: trail_core::ids::Role::Manager,
            member_id: member.map(Into::into),
            name: "Sam".into(),
            email: None,
            csrf: None,
        };
        assert_eq!(person_key(&p(Some("mem_1"), None), [1; 32]), person_key(&p(Some("mem_1"), None), [2; 32]));
        assert_ne!(person_key(&p(Some("mem_1"), None), [1; 32]), person_key(&p(Some("mem_2"), None), [1; 32]));
        assert_ne!(person_key(&p(None, Some("u_7")), [1; 32]), person_key(&p(Some("u_7"), None), [1; 32]));
        // A viewer named by nothing but a name: one per session.
        assert_ne!(person_key(&p(None, None), [1; 32]), person_key(&p(None, None), [2; 32]));
    }
}
