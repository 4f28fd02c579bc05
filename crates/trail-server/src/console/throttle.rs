//! Sign-in throttling. Failed attempts are counted per key over [`WINDOW`], each key with its
//! own limit; once a key has reached its limit, further attempts under it wait until its oldest
//! failure ages out. The console counts three keys per attempt (`session.rs`):
//!
//! - the account from one address: [`PER_ACCOUNT_AND_ADDRESS`] (guessing one password);
//! - the address, whatever the account: [`PER_ADDRESS`] (trying one password on many accounts);
//! - the account, from anywhere: [`PER_ACCOUNT`], loose enough that someone else's failures
//!   from elsewhere rarely lock the owner out, tight enough to stop guessing from many addresses.
//!
//! Keys are kept as SHA-256 hashes (fixed size, whatever was typed) in memory: a restart
//! forgets, which costs an attacker nothing they could not get by waiting, and needs no table.
//! The map is bounded: past [`MAX_KEYS`] keys, expired ones are dropped, and if that is not
//! enough it starts afresh.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const PER_ACCOUNT_AND_ADDRESS: usize = 5;
pub const PER_ADDRESS: usize = 30;
pub const PER_ACCOUNT: usize = 100;
/// Keys remembered at most.
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<[u8; 32], VecDeque<Instant>>>,
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl Throttle {
    /// How long an attempt under `keys` (each with its limit) must wait, if at all.
    pub fn wait(&self, keys: &[(String, usize)]) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("not poisoned");
        keys.iter()
            .filter_map(|(k, limit)| {
                let q = map.get_mut(&hash(k))?;
                while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                    q.pop_front();
                }
                (q.len() >= *limit).then(|| WINDOW.saturating_sub(now.duration_since(q[q.len() - limit])))
            })
            .max()
    }

    pub fn failed(&self, keys: &[(String, usize)]) {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("not poisoned");
        if map.len() >= MAX_KEYS {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= WINDOW));
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        for (k, limit) in keys {
            let q = map.entry(hash(k)).or_default();
            q.push_back(now);
            // Only the newest `limit` failures matter to `wait`.
            while q.len() > *limit {
                q.pop_front();
            }
        }
    }

    /// Forgets the failures of an account from one address after it signs in.
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().expect("not poisoned").remove(&hash(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(account: &str, address: &str) -> Vec<(String, usize)> {
        vec![
            (format!("{account}|{address}"), PER_ACCOUNT_AND_ADDRESS),
            (format!("address|{address}"), PER_ADDRESS),
            (format!("account|{account}"), PER_ACCOUNT),
        ]
    }

    #[test]
    fn five_failures_make_the_sixth_wait_from_that_address_only() {
        let t = Throttle::default();
        let mine = keys("acme/asha@acme.example", "203.0.113.7");
        for _ in 0..PER_ACCOUNT_AND_ADDRESS {
            assert!(t.wait(&mine).is_none());
            t.failed(&mine);
        }
        assert!(t.wait(&mine).is_some_and(|d| d > Duration::from_secs(14 * 60)));
        // The same account from elsewhere is not locked out by these failures.
        assert!(t.wait(&keys("acme/asha@acme.example", "198.51.100.1")).is_none());
        t.succeeded(&mine[0].0);
        assert!(t.wait(&mine).is_none());
    }

    #[test]
    fn one_address_trying_many_accounts_is_stopped() {
        let t = Throttle::default();
        for i in 0..PER_ADDRESS {
            let k = keys(&format!("acme/user{i}@acme.example"), "203.0.113.9");
            assert!(t.wait(&k).is_none(), "attempt {i}");
            t.failed(&k);
        }
        assert!(t.wait(&keys("acme/someone-new@acme.example", "203.0.113.9")).is_some());
    }

    #[test]
    fn the_map_stays_bounded() {
        let t = Throttle::default();
        for i in 0..(MAX_KEYS + 10) {
            t.failed(&[(format!("k{i}"), 1)]);
        }
        assert!(t.failures.lock().unwrap().len() <= MAX_KEYS);
    }
}
