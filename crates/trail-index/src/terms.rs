//! What is indexed about an event, and how a filter becomes a [`Plan`] over the same terms.
//!
//! A term is a 64-bit hash (XXH3) of a kind byte and a value: a word of the searchable text, an
//! actor id, a target, an address prefix. Hashes keep every posting list keyed by a fixed-size
//! integer, whatever the value. Two different terms could in principle share a hash; that can
//! only add candidates, which the store removes by checking every candidate against the
//! filter itself, so answers stay exact (a negated term colliding with another one is the single,
//! 2^-64-likely, exception).
//!
//! Actions are indexed exactly, and each segment lists its distinct actions, so an action prefix
//! (`document.*`, or even `doc*`) becomes the union of the exact actions it covers in that
//! segment.

use std::net::IpAddr;

use ipnet::IpNet;
use trail_core::{
    event::{EventBody, Outcome},
    filter::{ActionPattern, Filter, Owner, TargetRef},
    search::{TermKind, searchable_texts},
};
use xxhash_rust::xxh3::{Xxh3, xxh3_64_with_seed};

mod reader;

mod kind {
    pub const WORD: u8 = b'w';
    pub const ACTOR_ID: u8 = b'a';
    pub const ACTOR_EMAIL: u8 = b'e';
    pub const ACTION: u8 = b'x';
    pub const CATEGORY: u8 = b'c';
    pub const OUTCOME: u8 = b'o';
    pub const TARGET: u8 = b't';
    pub const TARGET_ID: u8 = b'i';
    pub const COUNTRY: u8 = b'n';
    pub const SESSION: u8 = b's';
    pub const IP: u8 = b'p';
    pub const ID: u8 = b'k';
}

/// The prefix lengths at which addresses are indexed (the full length is always indexed too).
const V4_PREFIXES: [u8; 3] = [8, 16, 24];
const V6_PREFIXES: [u8; 4] = [16, 32, 48, 64];

/// The hash of a term: the kind is the seed, so equal values of different kinds differ.
fn hash(kind: u8, value: &[u8]) -> u64 {
    xxh3_64_with_seed(value, kind as u64)
}

fn hash2(kind: u8, a: &str, b: &str) -> u64 {
    let mut h = Xxh3::with_seed(kind as u64);
    h.update(a.as_bytes());
    h.update(&[0]);
    h.update(b.as_bytes());
    h.digest()
}

/// Calls `f` with the hash of every word of `text`, lower-casing into `buf` (no allocation per
/// word; ASCII, the common case, takes a fast path). Same words as [`words`].
fn for_each_word_hash(text: &str, buf: &mut String, mut f: impl FnMut(u64)) {
    if text.is_ascii() {
        // Bytes are characters: split and lower-case without decoding UTF-8.
        let mut word = [0u8; 256];
        let mut n = 0;
        let mut long: Option<Vec<u8>> = None;
        for &b in text.as_bytes().iter().chain(std::iter::once(&b' ')) {
            if b.is_ascii_alphanumeric() {
                let lower = b.to_ascii_lowercase();
                match &mut long {
                    Some(v) => v.push(lower),
                    None if n < word.len() => {
                        word[n] = lower;
                        n += 1;
                    }
                    None => {
                        let mut v = word[..n].to_vec();
                        v.push(lower);
                        long = Some(v);
                    }
                }
            } else if n > 0 || long.is_some() {
                let w = long.take();
                f(hash(kind::WORD, w.as_deref().unwrap_or(&word[..n])));
                n = 0;
            }
        }
        return;
    }
    for w in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        buf.clear();
        if w.is_ascii() {
            buf.push_str(w);
            buf.make_ascii_lowercase();
        } else {
            buf.extend(w.chars().flat_map(char::to_lowercase));
        }
        f(hash(kind::WORD, buf.as_bytes()));
    }
}

pub fn word(w: &str) -> u64 {
    hash(kind::WORD, w.as_bytes())
}

pub fn action(a: &str) -> u64 {
    hash(kind::ACTION, a.as_bytes())
}

fn actor_terms(v: &str) -> [u64; 2] {
    [actor_id_term(v), actor_email_term(v)]
}

/// The term of an actor id (one of an event's terms; a backend may keep it in a column of its
/// own too).
pub fn actor_id_term(id: &str) -> u64 {
    hash(kind::ACTOR_ID, id.as_bytes())
}

/// The term of an actor e-mail.
pub fn actor_email_term(email: &str) -> u64 {
    hash(kind::ACTOR_EMAIL, email.as_bytes())
}

fn outcome(o: Outcome) -> u64 {
    hash(kind::OUTCOME, o.as_str().as_bytes())
}

fn target_terms(r: &TargetRef) -> u64 {
    match &r.kind {
        Some(k) => hash2(kind::TARGET, k, &r.id),
        None => hash(kind::TARGET_ID, r.id.as_bytes()),
    }
}

/// The term of the network `addr/len` (`len` is an indexed length).
fn ip_prefix(addr: IpAddr, len: u8) -> u64 {
    let net = IpNet::new(addr, len).expect("valid prefix length").trunc();
    let mut buf = Vec::with_capacity(18);
    match net.network() {
        IpAddr::V4(a) => {
            buf.push(4);
            buf.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            buf.push(6);
            buf.extend_from_slice(&a.octets());
        }
    }
    buf.push(len);
    hash(kind::IP, &buf)
}

fn ip_terms(ip: IpAddr, out: &mut Vec<u64>) {
    let (prefixes, full): (&[u8], u8) = match ip {
        IpAddr::V4(_) => (&V4_PREFIXES, 32),
        IpAddr::V6(_) => (&V6_PREFIXES, 128),
    };
    out.extend(prefixes.iter().map(|&p| ip_prefix(ip, p)));
    out.push(ip_prefix(ip, full));
}

/// The terms a network filter can use: the network itself when its length is indexed, else the
/// longest indexed network containing it, else (for short prefixes) every indexed network it
/// contains, if there are at most 256; `None` when the index cannot narrow it.
fn net_terms(net: &IpNet) -> Option<Vec<u64>> {
    let (prefixes, full): (&[u8], u8) = match net {
        IpNet::V4(_) => (&V4_PREFIXES, 32),
        IpNet::V6(_) => (&V6_PREFIXES, 128),
    };
    let len = net.prefix_len();
    if len == full || prefixes.contains(&len) {
        return Some(vec![ip_prefix(net.network(), len)]);
    }
    if let Some(&p) = prefixes.iter().rev().find(|&&p| p < len) {
        return Some(vec![ip_prefix(net.network(), p)]);
    }
    // Shorter than every indexed length: enumerate the smallest indexed sub-networks.
    let p = prefixes[0];
    let subnets = net.subnets(p).ok()?;
    let all: Vec<IpNet> = subnets.take(257).collect();
    (all.len() <= 256).then(|| all.iter().map(|n| ip_prefix(n.network(), p)).collect())
}

/// Whether `net_terms(net)` is exactly the network (so negating it is exact too).
fn net_is_exact(net: &IpNet) -> bool {
    let (prefixes, full): (&[u8], u8) = match net {
        IpNet::V4(_) => (&V4_PREFIXES, 32),
        IpNet::V6(_) => (&V6_PREFIXES, 128),
    };
    let len = net.prefix_len();
    len == full || prefixes.contains(&len) || len < prefixes[0] && net_terms(net).is_some()
}

/// Everything indexed about one event: its terms (deduplicated), its action, and the key of
/// its client id (for the idempotency check).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Doc {
    pub terms: Vec<u64>,
    pub action: String,
    pub key: Option<u64>,
}

/// The key of a client-given event id.
pub fn id_key(id: &str) -> u64 {
    hash(kind::ID, id.as_bytes())
}

/// The terms of an event.
pub fn doc(e: &EventBody) -> Doc {
    let mut t = Vec::with_capacity(48);
    let mut buf = String::with_capacity(32);
    for text in searchable_texts(e) {
        for_each_word_hash(text, &mut buf, |h| t.push(h));
    }
    if let Some(a) = &e.actor {
        if let Some(id) = &a.id {
            t.push(actor_id_term(id));
        }
        if let Some(email) = &a.email {
            t.push(actor_email_term(email));
        }
    }
    t.push(action(e.action.as_str()));
    t.push(hash(kind::CATEGORY, e.category.as_str().as_bytes()));
    t.push(outcome(e.outcome));
    for target in &e.targets {
        if let Some(id) = &target.id {
            t.push(hash2(kind::TARGET, &target.kind, id));
            t.push(hash(kind::TARGET_ID, id.as_bytes()));
        }
    }
    if let Some(c) = &e.context {
        if let Some(ip) = c.ip {
            ip_terms(ip, &mut t);
        }
        if let Some(s) = &c.session_id {
            t.push(hash(kind::SESSION, s.as_bytes()));
        }
        if let Some(country) = c.location.as_ref().and_then(|l| l.country.as_deref()) {
            t.push(hash(kind::COUNTRY, country.as_bytes()));
        }
    }
    t.sort_unstable();
    t.dedup();
    Doc { terms: t, action: e.action.as_str().to_owned(), key: e.id.as_deref().map(id_key) }
}

/// One alternative of a clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alt {
    Term(u64),
    /// Every action of the segment starting with this text.
    ActionPrefix(String),
}

/// A condition on the terms of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// At least one of these.
    AnyOf(Vec<Alt>),
    /// None of these.
    NoneOf(Vec<Alt>),
}

/// What the index can check of a filter: all clauses must hold. A plan selects a superset of
/// the filter's events (never fewer): whatever the index cannot decide is left to the check
/// against the stored event. An empty plan selects every event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub clauses: Vec<Clause>,
    /// Whether the plan selects exactly the filter's events (so counts need no check of the
    /// stored events). Hash collisions aside, which can only add candidates.
    pub exact: bool,
}

impl Plan {
    /// Whether every event in the time range matches: no clause to check, so the index's
    /// candidates are the filter's events exactly, with no hash term that could collide.
    pub fn selects_all(&self) -> bool {
        self.exact && self.clauses.is_empty()
    }
}

impl Default for Plan {
    fn default() -> Self {
        Plan { clauses: Vec::new(), exact: true }
    }
}

fn action_alt(p: &ActionPattern) -> Alt {
    match p {
        ActionPattern::Exact(a) => Alt::Term(action(a)),
        ActionPattern::Prefix(p) => Alt::ActionPrefix(p.clone()),
    }
}

impl Plan {
    /// The actor id and e-mail terms the plan of `f` can hold, `(ids, e-mails)`: from its
    /// `actors` (each value as either), its owner, and `actor:` in its search. A backend that
    /// keeps these terms apart (PostgreSQL's actor columns) tells its actor clauses by them.
    pub fn actor_terms(f: &Filter) -> (Vec<u64>, Vec<u64>) {
        let (mut ids, mut emails) = (Vec::new(), Vec::new());
        let searched = f.q.iter().flat_map(|q| &q.terms).filter_map(|t| match &t.kind {
            TermKind::Actor(a) => Some(a),
            _ => None,
        });
        for [id, email] in f.actors.iter().chain(searched).map(|a| actor_terms(a)) {
            ids.push(id);
            emails.push(email);
        }
        match &f.owner {
            Some(Owner::Person { ids: i, emails: e }) => {
                ids.extend(i.iter().map(|id| actor_id_term(id)));
                emails.extend(e.iter().map(|e| actor_email_term(e)));
            }
            None => {}
        }
        (ids, emails)
    }

    /// The plan of a filter (its time range is applied separately), widened to the events as
    /// the filter's reader is shown them (`reader.rs`).
    pub fn of(f: &Filter) -> Plan {
        let mut clauses = Vec::new();
        let mut exact = true;
        let mut any = |alts: Vec<Alt>| {
            if !alts.is_empty() {
                clauses.push(Clause::AnyOf(alts));
            }
        };
        // A person's e-mail terms also select events of another id that carry the same e-mail
        // (which are not theirs: `trail_core::filter::is_actor`), and the index cannot tell an
        // actor without an id: such a clause is checked against the stored events.
        exact &= f.actors.is_empty();
        exact &= match &f.owner {
            Some(Owner::Person { emails, .. }) => emails.is_empty(),
            _ => true,
        };
        any(f.actors.iter().flat_map(|a| actor_terms(a)).map(Alt::Term).collect());
        match &f.owner {
            Some(Owner::Person { ids, emails }) => {
                let mut alts: Vec<Alt> = ids.iter().map(|id| Alt::Term(actor_id_term(id))).collect();
                alts.extend(emails.iter().map(|e| Alt::Term(actor_email_term(e))));
                if alts.is_empty() {
                    // Nobody: still a clause, so the plan never selects the whole log.
                    alts.push(Alt::Term(actor_id_term("")));
                }
                any(alts)
            }
            None => {}
        }
        any(f.actions.iter().map(action_alt).collect());
        any(f.categories.iter().map(|c| Alt::Term(hash(kind::CATEGORY, c.as_str().as_bytes()))).collect());
        // Both outcomes select everything; one, however often it is repeated
        // (`outcome=failure&outcome=failure`), is a clause.
        if let Some(&first) = f.outcomes.first()
            && f.outcomes.iter().all(|&o| o == first)
        {
            any(vec![Alt::Term(outcome(first))]);
        }
        any(f.targets.iter().map(|r| Alt::Term(target_terms(r))).collect());
        any(f.countries.iter().map(|c| Alt::Term(hash(kind::COUNTRY, c.as_bytes()))).collect());
        any(f.sessions.iter().map(|s| Alt::Term(hash(kind::SESSION, s.as_bytes()))).collect());
        if !f.ips.is_empty() {
            let nets: Option<Vec<Vec<u64>>> = f.ips.iter().map(net_terms).collect();
            exact &= nets.is_some() && f.ips.iter().all(net_is_exact);
            if let Some(nets) = nets {
                any(nets.into_iter().flatten().map(Alt::Term).collect());
            }
        }
        if let Some(q) = &f.q {
            for term in &q.terms {
                let (alts, term_exact): (Vec<Alt>, bool) = match &term.kind {
                    TermKind::Text(ws) => (ws.iter().map(|w| Alt::Term(word(w))).collect(), ws.len() == 1),
                    TermKind::Actor(a) => (actor_terms(a).into_iter().map(Alt::Term).collect(), true),
                    TermKind::Action(p) => (vec![action_alt(p)], true),
                    TermKind::Category(c) => (vec![Alt::Term(hash(kind::CATEGORY, c.as_str().as_bytes()))], true),
                    TermKind::Target(r) => (vec![Alt::Term(target_terms(r))], true),
                    TermKind::Ip(net) => match net_terms(net) {
                        Some(ts) => (ts.into_iter().map(Alt::Term).collect(), net_is_exact(net)),
                        None => (vec![], false),
                    },
                    TermKind::Country(c) => (vec![Alt::Term(hash(kind::COUNTRY, c.as_bytes()))], true),
                    TermKind::Outcome(o) => (vec![Alt::Term(outcome(*o))], true),
                    TermKind::Session(s) => (vec![Alt::Term(hash(kind::SESSION, s.as_bytes()))], true),
                };
                if alts.is_empty() {
                    exact = false;
                    continue;
                }
                match (&term.kind, term.negated) {
                    // A phrase needs every one of its words (and their order, checked later).
                    (TermKind::Text(_), false) => {
                        exact &= alts.len() == 1;
                        for a in alts {
                            clauses.push(Clause::AnyOf(vec![a]));
                        }
                    }
                    (_, false) => {
                        exact &= term_exact;
                        clauses.push(Clause::AnyOf(alts));
                    }
                    (_, true) if term_exact => clauses.push(Clause::NoneOf(alts)),
                    // A negated phrase or address block the index cannot decide: checked later.
                    (_, true) => exact = false,
                }
            }
        }
        reader::seen_by_reader(f, Plan { clauses, exact })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_hashes_are_those_of_the_shared_word_rules() {
        let long = "ab".repeat(200);
        for text in [
            "Asha Rao signed NDA-2026.pdf",
            "ÜBER straße ΔΟΚΙΜΗ Елена",
            "",
            "--",
            "x1y2 Z",
            &long,
            &format!("a {long}-b"),
        ] {
            let mut got = Vec::new();
            for_each_word_hash(text, &mut String::new(), |h| got.push(h));
            let want: Vec<u64> = trail_core::search::words(text).map(|w| word(&w)).collect();
            assert_eq!(got, want, "{text}");
        }
    }

    /// Only a filter of a time range alone (or of both outcomes) selects every event: a store
    /// then skips checking each one (a CSV export reads rows straight from the records).
    #[test]
    fn only_a_time_range_selects_all() {
        use trail_core::filter::parse_params;
        let tz = jiff::tz::TimeZone::UTC;
        let now: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let plan = |query: &str| {
            let pairs = query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap());
            Plan::of(&parse_params(pairs, &tz, now, &[]).unwrap().0)
        };
        for all in ["", "range=all", "from=2026-01-01&to=2026-02-01", "outcome=success&outcome=failure"] {
            assert!(plan(all).selects_all(), "{all}");
        }
        for narrowed in [
            "actor=u1",
            "action=document.*",
            "category=auth",
            "outcome=failure",
            "outcome=failure&outcome=failure",
            "target=document:d1",
            "ip=10.0.0.0/8",
            "ip=10.1.0.0/19",
            "ip=2000::/4",
            "country=GB",
            "session=s1",
            "q=hello",
            "q=-hello",
            "q=actor:u1",
        ] {
            assert!(!plan(narrowed).selects_all(), "{narrowed}");
        }
        let owned = Filter {
            owner: Some(Owner::Person { ids: vec![], emails: vec!["a@example.org".into()] }),
            ..Filter::default()
        };
        assert!(!Plan::of(&owned).selects_all());
    }

    #[test]
    fn networks_use_the_closest_indexed_prefix() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        assert_eq!(net_terms(&n("10.1.2.0/24")), Some(vec![ip_prefix("10.1.2.0".parse().unwrap(), 24)]));
        assert_eq!(net_terms(&n("10.1.2.0/26")), Some(vec![ip_prefix("10.1.2.0".parse().unwrap(), 24)]));
        assert_eq!(net_terms(&n("10.1.0.0/19")), Some(vec![ip_prefix("10.1.0.0".parse().unwrap(), 16)]));
        assert_eq!(net_terms(&n("10.0.0.0/6")).unwrap().len(), 4);
        assert_eq!(net_terms(&n("0.0.0.0/0")).unwrap().len(), 256);
        assert_eq!(net_terms(&n("2001:db8::/12")).unwrap().len(), 16);
        assert_eq!(net_terms(&n("2000::/4")), None, "4096 /16s: not narrowed");
        assert!(net_is_exact(&n("10.1.0.0/16")));
        assert!(!net_is_exact(&n("10.1.0.0/19")));
        assert!(net_is_exact(&n("10.0.0.0/6")));
    }
}
