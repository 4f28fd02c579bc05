//! Failed console sign-ins, written into the tenant's log as `trail.member.sign_in_failed`
//! (with the e-mail tried, the address and user agent, and why it failed), at most once per
//! [`LOG_WINDOW`] per address and e-mail, so a password spray cannot flood the log.
//!
//! The first failure of a window is written at once. Failures after it in the same window
//! are held back and counted; they are written as one more event when the window ends (a
//! timer), or folded into the next written event if another failure comes first. Either way
//! `metadata.attempts` says how many failures an event stands for, and every failure is
//! counted exactly once. The attempts themselves are slowed by the console's sign-in throttle
//! (`trail-server/src/console/throttle.rs`); an attempt the throttle refuses is not checked and not written.
//!
//! Counts are kept in memory, keyed by a SHA-256 of tenant, address and e-mail: a restart
//! forgets failures held back in the last window (at most [`LOG_WINDOW`] of them).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use trail_core::{TenantId, vocabulary::actions};

use crate::{
    App,
    own_events::{self, Origin},
};

/// At most one `trail.member.sign_in_failed` per address and e-mail in this long.
pub const LOG_WINDOW: Duration = Duration::from_secs(60);
/// Keys remembered at most.
const MAX_KEYS: usize = 100_000;

/// Why a sign-in failed. Written into the log for the tenant's managers; the person signing
/// in is told the same thing either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    UnknownMember,
    WrongPassword,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownMember => "unknown_member",
            Reason::WrongPassword => "wrong_password",
        }
    }
}

/// One failed attempt, as the log records it.
#[derive(Clone)]
pub struct Failure {
    pub tenant: TenantId,
    /// The e-mail tried, trimmed and lower-cased.
    pub email: String,
    /// The member it names, when there is one: `(member id, name)`.
    pub member: Option<(String, String)>,
    pub reason: Reason,
    pub origin: Origin,
}

impl Failure {
    fn key(&self) -> String {
        let ip = self.origin.ip.map(|ip| ip.to_string()).unwrap_or_default();
        format!("{}|{ip}|{}", self.tenant, self.email)
    }

    fn event(&self, attempts: u64) -> Value {
        let mut actor = json!({"type": "user"});
        if let Some((id, name)) = &self.member {
            actor["id"] = json!(id);
            actor["name"] = json!(name);
        }
        if !self.email.is_empty() {
            actor["email"] = json!(self.email);
        }
        let who = if self.email.is_empty() { "no e-mail".to_owned() } else { self.email.clone() };
        let description = match attempts {
            1 => format!("Failed console sign-in as {who}"),
            n => format!("{n} failed console sign-ins as {who}"),
        };
        json!({"action": actions::TRAIL_MEMBER_SIGN_IN_FAILED, "outcome": "failure", "actor": actor,
               "description": description,
               "metadata": {"reason": self.reason.as_str(), "attempts": attempts}})
    }
}

struct Slot {
    logged_at: Instant,
    held: u64,
}

/// What to do with one failure.
#[derive(Debug, PartialEq, Eq)]
enum Note {
    /// Write it now, standing for this many failures (itself and any held back before).
    Write { attempts: u64 },
    /// Hold it back; the first held back in a window also sets the timer that writes them.
    Hold { flush_in: Option<Duration> },
}

pub struct FailedSignIns {
    window: Duration,
    slots: Mutex<HashMap<[u8; 32], Slot>>,
}

impl Default for FailedSignIns {
    fn default() -> Self {
        FailedSignIns::new(LOG_WINDOW)
    }
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl FailedSignIns {
    pub fn new(window: Duration) -> Self {
        FailedSignIns { window, slots: Mutex::default() }
    }

    fn note(&self, key: &str, now: Instant) -> Note {
        let mut map = self.slots.lock().expect("not poisoned");
        if let Some(slot) = map.get_mut(&hash(key)) {
            let since = now.duration_since(slot.logged_at);
            if since < self.window {
                slot.held += 1;
                return Note::Hold { flush_in: (slot.held == 1).then(|| self.window - since) };
            }
            slot.logged_at = now;
            return Note::Write { attempts: 1 + std::mem::take(&mut slot.held) };
        }
        if map.len() >= MAX_KEYS {
            map.retain(|_, s| s.held > 0 || now.duration_since(s.logged_at) < self.window);
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        map.insert(hash(key), Slot { logged_at: now, held: 0 });
        Note::Write { attempts: 1 }
    }

    /// The failures held back under `key`, now taken (to be written).
    fn take_held(&self, key: &str) -> u64 {
        self.slots.lock().expect("not poisoned").get_mut(&hash(key)).map_or(0, |s| std::mem::take(&mut s.held))
    }

    /// Records one failed sign-in: written now, or held back and written later (see the
    /// module's documentation). A store error is logged, never shown to the person signing in.
    pub async fn record(self: &Arc<Self>, app: Arc<App>, failure: Failure) {
        let key = failure.key();
        match self.note(&key, Instant::now()) {
            Note::Write { attempts } => write(&app, &failure, attempts).await,
            Note::Hold { flush_in: None } => {}
            Note::Hold { flush_in: Some(wait) } => {
                let me = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    let held = me.take_held(&key);
                    if held > 0 {
                        write(&app, &failure, held).await;
                    }
                });
            }
        }
    }
}

async fn write(app: &App, f: &Failure, attempts: u64) {
    if let Err(e) = own_events::append(app, &f.tenant, &f.origin, f.event(attempts)).await {
        tracing::warn!(tenant = %f.tenant, error = %e, "could not record a failed console sign-in");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_write_per_window_and_every_failure_counted_once() {
        let log = FailedSignIns::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(log.note("acme|203.0.113.7|a@x", at(0)), Note::Write { attempts: 1 });
        assert_eq!(log.note("acme|203.0.113.7|a@x", at(10)), Note::Hold { flush_in: Some(Duration::from_secs(50)) });
        assert_eq!(log.note("acme|203.0.113.7|a@x", at(20)), Note::Hold { flush_in: None });
        // Another e-mail, or another address, is its own key.
        assert_eq!(log.note("acme|203.0.113.7|b@x", at(20)), Note::Write { attempts: 1 });
        assert_eq!(log.note("acme|198.51.100.1|a@x", at(20)), Note::Write { attempts: 1 });
        // The timer takes the two held back; then nothing is left for it.
        assert_eq!(log.take_held("acme|203.0.113.7|a@x"), 2);
        assert_eq!(log.take_held("acme|203.0.113.7|a@x"), 0);
        assert_eq!(log.note("acme|203.0.113.7|a@x", at(61)), Note::Write { attempts: 1 });
        // Held back, and the next window's first failure comes before the timer: it carries them.
        assert_eq!(log.note("acme|203.0.113.7|a@x", at(70)), Note::Hold { flush_in: Some(Duration::from_secs(51)) });
        assert_eq!(log.note("acme|203.0.113.7|a@x", at(125)), Note::Write { attempts: 2 });
        assert_eq!(log.take_held("acme|203.0.113.7|a@x"), 0, "the late timer finds nothing to write again");
    }

    #[test]
    fn the_map_stays_bounded() {
        let log = FailedSignIns::new(Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            log.note(&format!("k{i}"), now);
        }
        assert!(log.slots.lock().unwrap().len() <= MAX_KEYS);
    }

    #[test]
    fn the_event_names_the_email_and_the_reason() {
        let f = Failure {
            tenant: TenantId::parse("acme").unwrap(),
            email: "maya@acme.example".into(),
            member: None,
            reason: Reason::UnknownMember,
            origin: Origin::none(),
        };
        let e = f.event(3);
        assert_eq!(e["actor"], json!({"type": "user", "email": "maya@acme.example"}));
        assert_eq!(e["metadata"], json!({"reason": "unknown_member", "attempts": 3}));
        assert_eq!(e["outcome"], "failure");
    }
}
