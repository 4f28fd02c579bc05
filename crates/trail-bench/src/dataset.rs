//! The query benchmark's data: 10 million events in 20 tenants, one holding half of them.
//!
//! Each event is made from a line of the real Apache access log (address, path, status, user
//! agent) and given what an audit event carries: an actor (one of a few thousand users per
//! tenant, keyed by the address, as a user keeps coming from the same place), an action (mostly
//! API and panel requests, with logins, documents, files, links and messages), a session, a
//! country, a client id. Events are spread over the last 120 days in time order, tenants
//! interleaved as live traffic is. Generation is seeded: every run and both systems see the same
//! events.

use jiff::Timestamp;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use serde_json::{Value, json};
use trail_core::vocabulary::{actions, categories};

use crate::data::{LogLine, parse_apache};

pub const DAYS: i64 = 120;
pub const COUNTRIES: [&str; 12] = ["US", "GB", "DE", "FR", "IN", "BR", "JP", "NL", "CA", "AU", "ES", "SE"];
const NAMES: [&str; 16] = [
    "Asha Rao",
    "Ben Khan",
    "Carla Mendes",
    "Dimitra Papadopoulou",
    "Elena Petrova",
    "Farid Haddad",
    "Grace Liu",
    "Hiro Tanaka",
    "Isabel García",
    "Jonas Berg",
    "Kwame Mensah",
    "Lena Novak",
    "Marco Rossi",
    "Nadia Ahmed",
    "Omar Farouk",
    "Priya Nair",
];
const FILES: [&str; 8] = [
    "Q3 accounts.xlsx",
    "NDA 2026.pdf",
    "Lease renewal.pdf",
    "Board minutes.docx",
    "Site photos.zip",
    "Invoice 118.pdf",
    "Due diligence.zip",
    "Court bundle.pdf",
];

/// One generated event, with what the PostgreSQL baseline stores in its own columns.
pub struct Gen {
    pub tenant: String,
    pub occurred_at: Timestamp,
    pub actor_id: String,
    pub action: &'static str,
    pub ip: String,
    pub json: Value,
}

pub struct Dataset {
    lines: Vec<LogLine>,
    pub tenants: Vec<(String, u64)>,
    pub total: u64,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Users in a tenant holding `n` events.
pub fn users_of(n: u64) -> u64 {
    (n / 1500).clamp(50, 5000)
}

impl Dataset {
    pub fn new(shared: &std::path::Path, total: u64, tenants: usize) -> Dataset {
        let lines = parse_apache(shared);
        // With one tenant, `big` holds everything.
        let big = if tenants <= 1 { total } else { total / 2 };
        let rest = (total - big) / (tenants as u64 - 1).max(1);
        let mut list = vec![("big".to_owned(), big)];
        for i in 1..tenants {
            list.push((
                format!("t{i:02}"),
                if i == tenants - 1 { total - big - rest * (tenants as u64 - 2) } else { rest },
            ));
        }
        let end = Timestamp::now();
        let start = end - jiff::SignedDuration::from_hours(24 * DAYS);
        Dataset { lines, tenants: list, total, start, end }
    }

    /// Event number `n` (0-based, in arrival order) of the whole data set.
    pub fn event(&self, n: u64) -> Gen {
        let mut rng = StdRng::seed_from_u64(n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5);
        // Half the traffic is the big tenant's; the rest is spread evenly.
        let t = if n.is_multiple_of(2) || self.tenants.len() == 1 {
            0
        } else {
            1 + ((n / 2) % (self.tenants.len() as u64 - 1)) as usize
        };
        let (tenant, size) = &self.tenants[t];
        let span = self.end.as_microsecond() - self.start.as_microsecond() - 1_000_000;
        let at = Timestamp::from_microsecond(
            self.start.as_microsecond() + (span as f64 * n as f64 / self.total as f64) as i64,
        )
        .expect("in range");
        let line = &self.lines[(n as usize * 7919) % self.lines.len()];
        let users = users_of(*size);
        let ip_hash = line.ip.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        let user = ip_hash % users;
        let name = NAMES[(user % NAMES.len() as u64) as usize];
        let email = format!("user{user}@{tenant}.example");
        let actor_id = format!("u{user}");
        let roll: f64 = rng.random();
        let action: &'static str = match roll {
            r if r < 0.62 => actions::API_REQUEST,
            r if r < 0.74 => actions::PANEL_REQUEST,
            r if r < 0.79 => actions::AUTH_LOGIN_SUCCEEDED,
            r if r < 0.81 => actions::AUTH_LOGIN_FAILED,
            r if r < 0.85 => {
                [actions::FILE_UPLOADED, actions::FILE_DOWNLOADED, actions::FILE_DELETED][rng.random_range(0..3)]
            }
            r if r < 0.90 => [
                actions::DOCUMENT_CREATED,
                actions::DOCUMENT_SIGNED,
                actions::DOCUMENT_REJECTED,
                actions::DOCUMENT_COMPLETED,
            ][rng.random_range(0..4)],
            r if r < 0.95 => [actions::LINK_CREATED, actions::LINK_VIEWED, actions::LINK_SAVED][rng.random_range(0..3)],
            _ => [actions::MESSAGE_SENT, actions::MESSAGE_OPENED, actions::SMS_SENT][rng.random_range(0..3)],
        };
        let status = if action == actions::AUTH_LOGIN_FAILED { 401 } else { line.status };
        let day = (at.as_second() / 86_400) as u64;
        let mut e = json!({
            "id": format!("{tenant}-{n}"),
            "occurred_at": at.to_string(),
            "action": action,
            "outcome": if status >= 400 { "failure" } else { "success" },
            "actor": {"id": actor_id, "name": name, "email": email},
            "context": {
                "ip": line.ip, "user_agent": line.agent, "session_id": format!("s{:x}", ip_hash ^ day),
                "location": {"country": COUNTRIES[(ip_hash % COUNTRIES.len() as u64) as usize]}
            }
        });
        match action.split('.').next().unwrap_or_default() {
            categories::API | categories::PANEL => {
                e["description"] = format!("{} {} -> {}", line.method, line.path, status).into();
                e["context"]["url"] = line.path.clone().into();
                e["context"]["method"] = line.method.clone().into();
                e["context"]["status"] = status.into();
            }
            categories::AUTH => {
                e["description"] =
                    format!("{name} {}", if status >= 400 { "failed to sign in" } else { "signed in" }).into();
            }
            _ => {
                let file = *FILES.choose(&mut rng).expect("files");
                let verb = action.rsplit('.').next().unwrap_or_default();
                e["description"] = format!("{name} {verb} {file}").into();
                e["targets"] = json!([{"type": "file", "id": format!("f{}", rng.random_range(0..5000)), "name": file}]);
            }
        }
        Gen {
            tenant: tenant.clone(),
            occurred_at: at,
            actor_id: e["actor"]["id"].as_str().unwrap_or_default().to_owned(),
            action,
            ip: line.ip.clone(),
            json: e,
        }
    }

    /// The log's words, most frequent first, for search terms.
    pub fn vocabulary(&self) -> Vec<String> {
        let mut counts = std::collections::HashMap::<String, u64>::new();
        for l in &self.lines {
            for w in trail_core::search::words(&l.path) {
                if w.len() > 2 && !w.bytes().all(|b| b.is_ascii_digit()) {
                    *counts.entry(w).or_default() += 1;
                }
            }
        }
        let mut v: Vec<(String, u64)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter().map(|(w, _)| w).collect()
    }

    /// The /16 and /24 networks of the log's addresses, most frequent first.
    pub fn networks(&self) -> Vec<String> {
        let mut counts = std::collections::HashMap::<String, u64>::new();
        for l in &self.lines {
            let o: Vec<&str> = l.ip.split('.').collect();
            if o.len() == 4 {
                *counts.entry(format!("{}.{}.0.0/16", o[0], o[1])).or_default() += 1;
                *counts.entry(format!("{}.{}.{}.0/24", o[0], o[1], o[2])).or_default() += 1;
            }
        }
        let mut v: Vec<(String, u64)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter().map(|(n, _)| n).collect()
    }
}
