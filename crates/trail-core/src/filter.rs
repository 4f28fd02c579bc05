//! The event filters (docs/api.md), shared by the event query, export, stream and reports, and the
//! page cursor.
//!
//! Parameters arrive as `(name, value)` pairs (from a query string or the command line) and are
//! resolved here, once, into a [`Filter`] whose time bounds are absolute instants: the tenant's
//! time zone and "now" are applied at the edge, so backends only compare numbers.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jiff::{Timestamp, tz::TimeZone};
use serde::Serialize;

use ipnet::IpNet;

use crate::{
    event::{Category, EventBody, Outcome, Target},
    redaction::Redaction,
    search::SearchQuery,
    time::{RangePreset, TimeBounds, parse_bound, time_zone},
};

/// A target filter: `type:id`, or a bare id (any type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetRef {
    pub kind: Option<String>,
    pub id: String,
}

impl TargetRef {
    pub fn parse(s: &str) -> Result<Self, String> {
        let r = match s.split_once(':') {
            Some((kind, id)) => TargetRef { kind: Some(kind.to_owned()), id: id.to_owned() },
            None => TargetRef { kind: None, id: s.to_owned() },
        };
        if r.id.is_empty() || r.kind.as_deref() == Some("") {
            return Err(format!("target {s:?} is invalid: give type:id (document:doc_9) or an id (doc_9)"));
        }
        Ok(r)
    }

    pub fn matches(&self, t: &Target) -> bool {
        t.id.as_deref() == Some(self.id.as_str()) && self.kind.as_ref().is_none_or(|k| k == &t.kind)
    }
}

/// Parses an `ip` filter: an address (a block of one) or a CIDR block, IPv4 or IPv6.
pub fn parse_ip_filter(s: &str) -> Result<IpNet, String> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    s.parse::<std::net::IpAddr>().map(IpNet::from).map_err(|_| {
        format!("ip {s:?} is invalid: give an address (203.0.113.7, 2001:db8::1) or a CIDR block (203.0.113.0/24, 2001:db8::/32)")
    })
}

/// Parses a country filter: an ISO 3166-1 alpha-2 code, in either case.
pub fn parse_country(s: &str) -> Result<String, String> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(format!("country {s:?} is invalid: give an ISO 3166-1 alpha-2 code such as GB or IN"))
    }
}

/// An action filter: exact (`document.signed`) or a prefix ending in `*` (`document.*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ActionPattern {
    Exact(String),
    /// The text before the `*`; `document.*` is `Prefix("document.")`.
    Prefix(String),
}

impl ActionPattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "action filter {s:?} is invalid: give an action such as document.signed, or a prefix ending in * such as document.*"
            )
        };
        if let Some(prefix) = s.strip_suffix('*') {
            if prefix.contains('*')
                || !prefix.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'.')
            {
                return Err(bad());
            }
            return Ok(ActionPattern::Prefix(prefix.to_owned()));
        }
        crate::event::Action::parse(s).map_err(|_| bad())?;
        Ok(ActionPattern::Exact(s.to_owned()))
    }

    pub fn matches(&self, action: &str) -> bool {
        match self {
            ActionPattern::Exact(a) => a == action,
            ActionPattern::Prefix(p) => action.starts_with(p.as_str()),
        }
    }
}

/// What to find. An empty list means "any"; values within one list are alternatives (OR) and
/// the lists combine with AND.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Filter {
    pub time: TimeBounds,
    /// The people to find, each value an actor id or an e-mail: an event is theirs when its
    /// `actor.id` is one of the values or, for an actor without an id, its `actor.email` is
    /// one ([`is_actor`]), the rule the reports count people by. The server adds every
    /// identifier the tenant's identity links give the people named (`Store::person`), so one
    /// person is found by id or by e-mail alike.
    pub actors: Vec<String>,
    pub actions: Vec<ActionPattern>,
    pub categories: Vec<Category>,
    pub outcomes: Vec<Outcome>,
    pub targets: Vec<TargetRef>,
    pub ips: Vec<IpNet>,
    /// ISO codes, upper case, matched against `context.location.country`.
    pub countries: Vec<String>,
    pub sessions: Vec<String>,
    /// The `q` search; `None` when not given or blank.
    pub q: Option<SearchQuery>,
    /// Only this person's own events: set by the server for a `member`, never from
    /// a request's parameters.
    pub owner: Option<Owner>,
    /// What the filter's reader is not shown: set by the server for each reader, never from a
    /// request's parameters. The conditions are checked against the event as this reader is
    /// shown it, so an answer never confirms a value hidden from them (`crate::redaction`).
    pub redaction: Redaction,
}

/// Whether an event's actor is one of the people `ids` and `emails` name: its `actor.id` is one
/// of `ids`, or it has no id and its `actor.email` is one of `emails`.
///
/// An actor with an id is that id whatever e-mail it carries: Trail's own events name a console
/// member by their member id with their e-mail, and an e-mail that moved to another account
/// still rides on the old account's events. The users, login and usage reports count each such
/// event under its id, so the `actor` filter and a member's own events follow the same rule and
/// a person's list and their counts agree.
pub fn is_actor(ids: &[String], emails: &[String], e: &EventBody) -> bool {
    match e.actor_id() {
        Some(id) => ids.iter().any(|i| i == id),
        None => e.actor_email().is_some_and(|m| emails.iter().any(|x| x == m)),
    }
}

/// Whose own events a `member` sees, by the rule of [`is_actor`]: those whose `actor.id` is
/// theirs (their actor id, and the member id Trail's own events name them by) or, for an actor
/// without an id, whose `actor.email` is theirs. The server widens it to the [`Owner::Person`]
/// the tenant's identity links make of it (every e-mail linked to their id), so a member also
/// sees the events that name them only by e-mail.
///
/// One variant, kept an enum so the filter's serialised form (`{"Person": ...}`) stays as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Owner {
    /// Events whose `actor.id` is one of `ids`, or with no actor id whose `actor.email` is one
    /// of `emails`.
    Person { ids: Vec<String>, emails: Vec<String> },
}

impl Owner {
    pub fn owns(&self, e: &EventBody) -> bool {
        match self {
            Owner::Person { ids, emails } => is_actor(ids, emails, e),
        }
    }

    /// Whether `actor` (an actor id or e-mail, as the users report names people) is this
    /// owner.
    pub fn is(&self, actor: &str) -> bool {
        match self {
            Owner::Person { ids, emails } => ids.iter().chain(emails).any(|v| v == actor),
        }
    }
}

impl Filter {
    /// Whether one event passes the filter. Backends translate the filter into their own query
    /// language; this is the reference they are tested against, and what the live stream uses.
    ///
    /// The conditions see the event as the filter's reader is shown it (its redaction applied:
    /// a search for a masked phone number's hidden digits finds nothing); the owner, the
    /// server's own scoping, sees the stored event.
    pub fn matches(&self, e: &EventBody) -> bool {
        // The cheap tests first: most events are of actions no redaction changes.
        let shown = self.redaction.may_change(e.action.as_str()) && self.looks_at_redactable();
        match shown.then(|| self.redaction.redacted(e)).flatten() {
            Some(shown) => self.holds(&shown, e),
            None => self.holds(e, e),
        }
    }

    /// Whether the conditions hold for `e` (the event as shown) and the owner owns `stored`.
    fn holds(&self, e: &EventBody, stored: &EventBody) -> bool {
        self.time.contains(e.occurred_at)
            && (self.actors.is_empty() || is_actor(&self.actors, &self.actors, e))
            && (self.actions.is_empty() || self.actions.iter().any(|p| p.matches(e.action.as_str())))
            && (self.categories.is_empty() || self.categories.contains(&e.category))
            && (self.outcomes.is_empty() || self.outcomes.contains(&e.outcome))
            && (self.targets.is_empty() || self.targets.iter().any(|r| e.targets.iter().any(|t| r.matches(t))))
            && (self.ips.is_empty() || {
                let ip = e.context.as_ref().and_then(|c| c.ip);
                ip.is_some_and(|ip| self.ips.iter().any(|n| n.contains(&ip)))
            })
            && (self.countries.is_empty() || {
                let c = e.context.as_ref().and_then(|c| c.location.as_ref()).and_then(|l| l.country.as_deref());
                c.is_some_and(|c| self.countries.iter().any(|x| x == c))
            })
            && (self.sessions.is_empty() || {
                let s = e.context.as_ref().and_then(|c| c.session_id.as_deref());
                s.is_some_and(|s| self.sessions.iter().any(|x| x == s))
            })
            && self.q.as_ref().is_none_or(|q| q.matches(e))
            && self.owner.as_ref().is_none_or(|o| o.owns(stored))
    }

    /// Whether anything but the time range narrows the filter.
    pub fn has_conditions(&self) -> bool {
        !(self.actors.is_empty()
            && self.actions.is_empty()
            && self.categories.is_empty()
            && self.outcomes.is_empty()
            && self.targets.is_empty()
            && self.ips.is_empty()
            && self.countries.is_empty()
            && self.sessions.is_empty()
            && self.q.is_none())
    }
}

/// Where a page starts: just after the last event of the previous page. It also pins the view:
/// `snapshot` is the tenant's highest seq when the first page was read, so events that arrive
/// while someone pages through are not mixed in, and `time` is the first page's resolved range,
/// so "last 30 days" does not slide between pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at_us: i64,
    pub seq: u64,
    pub snapshot: u64,
    pub time: TimeBounds,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let opt = |t: Option<Timestamp>| t.map(|t| t.as_microsecond().to_string()).unwrap_or_default();
        let raw = format!(
            "1:{}:{}:{}:{}:{}",
            self.occurred_at_us,
            self.seq,
            self.snapshot,
            opt(self.time.from),
            opt(self.time.to)
        );
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(s: &str) -> Result<Self, String> {
        let bad = || "cursor is not valid: pass next_cursor exactly as the previous page returned it".to_owned();
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let parts: Vec<&str> = raw.split(':').collect();
        if parts.len() != 6 || parts[0] != "1" {
            return Err(bad());
        }
        let ts = |p: &str| -> Result<Option<Timestamp>, String> {
            if p.is_empty() {
                return Ok(None);
            }
            let us: i64 = p.parse().map_err(|_| bad())?;
            Timestamp::from_microsecond(us).map(Some).map_err(|_| bad())
        };
        Ok(Cursor {
            occurred_at_us: parts[1].parse().map_err(|_| bad())?,
            seq: parts[2].parse().map_err(|_| bad())?,
            snapshot: parts[3].parse().map_err(|_| bad())?,
            time: TimeBounds { from: ts(parts[4])?, to: ts(parts[5])? },
        })
    }
}

/// A page request: how many, and from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

impl Default for Page {
    fn default() -> Self {
        Self { limit: Page::DEFAULT_LIMIT, cursor: None }
    }
}

impl Page {
    pub const DEFAULT_LIMIT: usize = 50;
    pub const MAX_LIMIT: usize = 1000;
}

/// A parameter that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParamError {
    pub param: String,
    pub message: String,
}

fn perr(param: &str, message: impl Into<String>) -> ParamError {
    ParamError { param: param.to_owned(), message: message.into() }
}

/// The filter parameters this module understands.
pub const FILTER_PARAMS: &[&str] =
    &["range", "from", "to", "tz", "actor", "action", "category", "outcome", "target", "ip", "country", "session", "q"];

/// Reads filter and page parameters.
///
/// `tenant_tz` is the tenant's zone (overridden by `tz=`); `extra` names the parameters the caller
/// handles itself (such as `format` for exports); any other name is an error, so a misspelt
/// filter is reported instead of silently ignored.
pub fn parse_params<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    tenant_tz: &TimeZone,
    now: Timestamp,
    extra: &[&str],
) -> Result<(Filter, Page), ParamError> {
    let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    let mut f = Filter::default();
    let mut page = Page::default();
    let mut range = None;
    let (mut from, mut to, mut tz) = (None, None, None);
    let single = |name: &str, seen: bool| {
        if seen { Err(perr(name, format!("{name} is given twice: give it once"))) } else { Ok(()) }
    };
    for &(k, v) in &pairs {
        match k {
            "range" => {
                single(k, range.is_some())?;
                range = Some(RangePreset::parse(v).map_err(|m| perr(k, m))?);
            }
            "from" => {
                single(k, from.is_some())?;
                from = Some(v);
            }
            "to" => {
                single(k, to.is_some())?;
                to = Some(v);
            }
            "tz" => {
                single(k, tz.is_some())?;
                tz = Some(time_zone(v).map_err(|m| perr(k, m))?);
            }
            "actor" => {
                if v.is_empty() {
                    return Err(perr(k, "actor is empty: give an actor id or e-mail"));
                }
                f.actors.push(v.to_owned());
            }
            "action" => f.actions.push(ActionPattern::parse(v).map_err(|m| perr(k, m))?),
            "category" => f.categories.push(Category::parse(v).map_err(|m| perr(k, m))?),
            "outcome" => f.outcomes.push(Outcome::parse(v).map_err(|m| perr(k, m))?),
            "target" => f.targets.push(TargetRef::parse(v).map_err(|m| perr(k, m))?),
            "ip" => f.ips.push(parse_ip_filter(v).map_err(|m| perr(k, m))?),
            "country" => f.countries.push(parse_country(v).map_err(|m| perr(k, m))?),
            "session" => {
                if v.is_empty() {
                    return Err(perr(k, "session is empty: give a session id"));
                }
                f.sessions.push(v.to_owned());
            }
            "q" => {
                single(k, f.q.is_some())?;
                let q = SearchQuery::parse(v).map_err(|e| perr(k, e.to_string()))?;
                f.q = (!q.is_empty()).then_some(q);
            }
            "limit" => {
                page.limit =
                    v.parse::<usize>().ok().filter(|l| (1..=Page::MAX_LIMIT).contains(l)).ok_or_else(|| {
                        perr(k, format!("limit {v:?} is invalid: use a number from 1 to {}", Page::MAX_LIMIT))
                    })?;
            }
            "cursor" => page.cursor = Some(Cursor::decode(v).map_err(|m| perr(k, m))?),
            _ if extra.contains(&k) => {}
            _ => {
                let mut known: Vec<&str> = FILTER_PARAMS.to_vec();
                known.extend(["limit", "cursor"]);
                known.extend(extra);
                return Err(perr(k, format!("unknown parameter {k:?}: the parameters here are {}", known.join(", "))));
            }
        }
    }
    let tz = tz.as_ref().unwrap_or(tenant_tz);
    f.time = if from.is_some() || to.is_some() {
        if range.is_some() {
            return Err(perr("range", "give either range or from/to, not both"));
        }
        let from = from.map(|s| parse_bound(s, false, tz).map_err(|m| perr("from", m))).transpose()?;
        let to = to.map(|s| parse_bound(s, true, tz).map_err(|m| perr("to", m))).transpose()?;
        if let (Some(a), Some(b)) = (from, to)
            && a >= b
        {
            return Err(perr("to", "to must be later than from"));
        }
        TimeBounds { from, to }
    } else {
        range.unwrap_or_default().bounds(now, tz)
    };
    if let Some(c) = page.cursor {
        f.time = c.time;
    }
    Ok((f, page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<(Filter, Page), ParamError> {
        parse_params(q.iter().copied(), &TimeZone::UTC, "2026-11-22T12:00:00Z".parse().unwrap(), &[])
    }

    fn body(actor: &str) -> EventBody {
        let json = format!(r#"{{"action":"a.b","actor":{actor},"occurred_at":"2026-01-01T00:00:00Z"}}"#);
        let now = jiff::Timestamp::now();
        crate::event::NewEvent::from_json(&json, now).unwrap().into_body(now)
    }

    /// Regression: `actor=u_1002`, widened to the person's e-mail, also found Trail's own
    /// events naming that e-mail under a member id, which the users report counts under the
    /// member id: a person's list held more events than their row counted.
    #[test]
    fn an_actor_with_an_id_is_that_ids_whatever_its_email() {
        let person = Filter { actors: vec!["u_1".into(), "ben@x.example".into()], ..Filter::default() };
        assert!(person.matches(&body(r#"{"id":"u_1","email":"ben@x.example"}"#)));
        assert!(person.matches(&body(r#"{"email":"ben@x.example"}"#)));
        assert!(!person.matches(&body(r#"{"id":"mem_7","email":"ben@x.example"}"#)));
        assert!(!person.matches(&body(r#"{"email":"ann@x.example"}"#)));
        let owner = Owner::Person { ids: vec!["u_1".into()], emails: vec!["ben@x.example".into()] };
        assert!(owner.owns(&body(r#"{"email":"ben@x.example"}"#)));
        assert!(!owner.owns(&body(r#"{"id":"mem_7","email":"ben@x.example"}"#)));
        let by_email = Owner::Person { ids: vec![], emails: vec!["ben@x.example".into()] };
        assert!(!by_email.owns(&body(r#"{"id":"mem_7","email":"ben@x.example"}"#)));
    }

    #[test]
    fn defaults_to_last_30_days() {
        let (f, p) = parse(&[]).unwrap();
        assert_eq!(f.time.from, Some("2026-10-24T00:00:00Z".parse().unwrap()));
        assert_eq!(p.limit, 50);
    }

    #[test]
    fn repeatable_and_prefix() {
        let (f, _) =
            parse(&[("actor", "u1"), ("actor", "a@x"), ("action", "document.*"), ("action", "auth.login.failed")])
                .unwrap();
        assert_eq!(f.actors, vec!["u1", "a@x"]);
        assert_eq!(f.actions[0], ActionPattern::Prefix("document.".into()));
        assert!(f.actions[0].matches("document.signed"));
        assert!(!f.actions[0].matches("documents"));
    }

    #[test]
    fn errors_name_the_parameter() {
        assert_eq!(parse(&[("actr", "x")]).unwrap_err().param, "actr");
        assert_eq!(parse(&[("limit", "0")]).unwrap_err().param, "limit");
        assert_eq!(parse(&[("limit", "1001")]).unwrap_err().param, "limit");
        assert_eq!(parse(&[("range", "week")]).unwrap_err().param, "range");
        assert_eq!(parse(&[("action", "Doc*")]).unwrap_err().param, "action");
        assert_eq!(parse(&[("from", "2026-11-23"), ("to", "2026-11-22")]).unwrap_err().param, "to");
        assert_eq!(parse(&[("range", "all"), ("from", "2026-11-22")]).unwrap_err().param, "range");
        assert_eq!(parse(&[("cursor", "zzz")]).unwrap_err().param, "cursor");
    }

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            occurred_at_us: -5,
            seq: 9,
            snapshot: 100,
            time: TimeBounds { from: Some(Timestamp::UNIX_EPOCH), to: None },
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }
}
