//! Sign-in throttling: after [`MAX_FAILURES`] failed attempts within [`WINDOW`] for one
//! account e-mail or from one address, further attempts wait until the oldest failure ages out.
//! Kept in memory: a restart forgets, which costs an attacker nothing they could not get by
//! waiting, and needs no table.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// How long `keys` must wait before another attempt, if at all.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("not poisoned");
        keys.iter()
            .filter_map(|k| {
                let q = map.get_mut(k)?;
                while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                    q.pop_front();
                }
                (q.len() >= MAX_FAILURES).then(|| WINDOW.saturating_sub(now.duration_since(q[0])))
            })
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("not poisoned");
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= WINDOW));
        }
        for k in keys {
            map.entry(k.clone()).or_default().push_back(now);
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("not poisoned");
        for k in keys {
            map.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_make_the_sixth_wait() {
        let t = Throttle::default();
        let keys = vec!["acme/asha@acme.example".to_string()];
        for _ in 0..MAX_FAILURES {
            assert!(t.wait(&keys).is_none());
            t.failed(&keys);
        }
        assert!(t.wait(&keys).is_some_and(|d| d > Duration::from_secs(14 * 60)));
        assert!(t.wait(&["other".to_string()]).is_none());
        t.succeeded(&keys);
        assert!(t.wait(&keys).is_none());
    }
}
