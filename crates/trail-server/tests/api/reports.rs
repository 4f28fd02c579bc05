//! The login report on a real SSH log: every accepted and failed password login of
//! `shared/data/real-logs/openssh_2k.log` as `auth.login.*` events, and the report checked
//! against a count made here, independently, from the same lines.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

struct Attempt {
    user: String,
    at: String,
    ok: bool,
    ip: String,
}

/// The log's password logins, in file order. The log has no year: 2025.
fn attempts() -> Vec<Attempt> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/real-logs/openssh_2k.log");
    let log = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let month = |m: &str| {
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            .iter()
            .position(|x| *x == m)
            .unwrap()
            + 1
    };
    let mut out = Vec::new();
    for line in log.lines() {
        let (ok, rest) = if let Some(r) = line.split_once("]: Accepted password for ") {
            (true, r.1)
        } else if let Some(r) = line.split_once("]: Failed password for ") {
            (false, r.1)
        } else {
            continue;
        };
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        let (user, rest) = rest.split_once(" from ").unwrap();
        let ip = rest.split_whitespace().next().unwrap();
        let f: Vec<&str> = line.split_whitespace().collect();
        let at = format!("2025-{:02}-{:02}T{}Z", month(f[0]), f[1].parse::<u32>().unwrap(), f[2]);
        out.push(Attempt { user: user.to_owned(), at, ok, ip: ip.to_owned() });
    }
    out
}

#[derive(Debug, PartialEq, Default)]
struct Expected {
    last_status: &'static str,
    last_at: String,
    last_success: Option<String>,
    last_failure: Option<String>,
    failed: u64,
    ip: String,
}

/// What the report must say for the attempts within `[from, to)` (RFC 3339 strings compare
/// as times here: all are UTC, same length).
fn expected(all: &[Attempt], from: &str, to: &str) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    let in_range: Vec<&str> =
        all.iter().filter(|a| a.at.as_str() >= from && a.at.as_str() < to).map(|a| a.user.as_str()).collect();
    for a in all {
        let e = out.entry(a.user.clone()).or_default();
        if a.at >= e.last_at {
            e.last_at = a.at.clone();
            e.last_status = if a.ok { "succeeded" } else { "failed" };
            e.ip = a.ip.clone();
        }
        let slot = if a.ok { &mut e.last_success } else { &mut e.last_failure };
        if slot.as_deref().is_none_or(|t| a.at.as_str() >= t) {
            *slot = Some(a.at.clone());
        }
        if !a.ok && a.at.as_str() >= from && a.at.as_str() < to {
            e.failed += 1;
        }
    }
    out.retain(|user, _| in_range.contains(&user.as_str()));
    out
}

fn ms(t: &str) -> String {
    t.replace('Z', ".000Z")
}

async fn report(s: &TestServer, query: &str, limit: usize) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = format!("/v1/tenants/ssh/reports/logins?{query}&limit={limit}");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let (st, b) = s.get(&q, OPERATOR).await;
        assert_eq!(st, StatusCode::OK, "{q}: {b}");
        rows.extend(b["rows"].as_array().unwrap().iter().cloned());
        match b["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return rows,
        }
    }
}

fn check(rows: &[Value], want: &BTreeMap<String, Expected>) {
    let got: BTreeMap<String, Expected> = rows
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().map(str::to_owned);
            (
                s("actor_id").unwrap(),
                Expected {
                    last_status: if r["last_status"] == "succeeded" { "succeeded" } else { "failed" },
                    last_at: s("last_attempt_at").unwrap(),
                    last_success: s("last_success_at"),
                    last_failure: s("last_failure_at"),
                    failed: r["failed_count"].as_u64().unwrap(),
                    ip: s("ip").unwrap(),
                },
            )
        })
        .collect();
    let want: BTreeMap<String, Expected> = want
        .iter()
        .map(|(k, e)| {
            (
                k.clone(),
                Expected {
                    last_status: e.last_status,
                    last_at: ms(&e.last_at),
                    last_success: e.last_success.as_deref().map(ms),
                    last_failure: e.last_failure.as_deref().map(ms),
                    failed: e.failed,
                    ip: e.ip.clone(),
                },
            )
        })
        .collect();
    assert_eq!(got.len(), rows.len(), "one row a person");
    assert_eq!(got, want);
}

#[tokio::test]
async fn the_login_report_of_a_real_ssh_log_matches_an_independent_count() {
    let s = TestServer::start().await;
    s.tenant("ssh").await;
    let all = attempts();
    assert!(all.len() > 500, "{} attempts", all.len());
    let events: Vec<Value> = all
        .iter()
        .map(|a| {
            json!({"action": if a.ok { "auth.login.succeeded" } else { "auth.login.failed" },
                   "outcome": if a.ok { "success" } else { "failure" },
                   "occurred_at": a.at, "actor": {"id": a.user}, "context": {"ip": a.ip}})
        })
        .collect();
    // In several requests, so the rollup is folded across batches too.
    for chunk in events.chunks(97) {
        s.ingest("ssh", Value::Array(chunk.to_vec())).await;
    }

    let whole = report(&s, "range=all", 1000).await;
    let want = expected(&all, "0000", "9999");
    assert!(want.len() > 20, "{} people", want.len());
    check(&whole, &want);
    // Latest attempt first.
    let times: Vec<&str> = whole.iter().map(|r| r["last_attempt_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // Small pages walk the same rows in the same order.
    let paged = report(&s, "range=all", 7).await;
    assert_eq!(paged, whole);

    // A closed range: only people with an attempt in it, failures counted in it.
    let (from, to) = ("2025-12-10T07:00:00Z", "2025-12-10T09:00:00Z");
    let part = report(&s, &format!("from={from}&to={to}"), 1000).await;
    let want = expected(&all, from, to);
    assert!(!want.is_empty() && want.len() < whole.len());
    check(&part, &want);
    // Small pages of a closed range walk the same people, each once.
    let mut paged = report(&s, &format!("from={from}&to={to}"), 3).await;
    assert_eq!(paged.len(), part.len());
    let key = |r: &Value| r["actor_id"].as_str().unwrap().to_owned();
    paged.sort_by_key(key);
    let mut sorted = part.clone();
    sorted.sort_by_key(key);
    assert_eq!(paged, sorted);

    // One person, by actor.
    let busiest = whole.iter().max_by_key(|r| r["failed_count"].as_u64().unwrap()).unwrap();
    let one = report(&s, &format!("range=all&actor={}", busiest["actor_id"].as_str().unwrap()), 50).await;
    assert_eq!(one, vec![busiest.clone()]);

    // Managers and up only.
    let (_, t) =
        s.post("/v1/tenants/ssh/viewer-tokens", OPERATOR, &json!({"role": "member", "actor_id": "root"})).await;
    let member = t["token"].as_str().unwrap();
    assert_eq!(s.get("/v1/tenants/ssh/reports/logins", member).await.0, StatusCode::FORBIDDEN);
    let (_, t) = s.post("/v1/tenants/ssh/viewer-tokens", OPERATOR, &json!({"role": "manager"})).await;
    assert_eq!(s.get("/v1/tenants/ssh/reports/logins?range=all", t["token"].as_str().unwrap()).await.0, StatusCode::OK);

    // Filters the report does not take are refused by name.
    assert_error(
        &s.get("/v1/tenants/ssh/reports/logins?country=GB", OPERATOR).await,
        StatusCode::BAD_REQUEST,
        "unsupported_filter",
        Some("country"),
    );
    assert_error(
        &s.get("/v1/tenants/ssh/reports/logins?cursor=nonsense", OPERATOR).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("cursor"),
    );
}

/// Regression (one person, two people): failed sign-ins that name only the e-mail typed and the
/// application's events that name the id and the same e-mail were two people: the login report
/// showed two rows, `actor=ID` and `actor=EMAIL` found different events, and a member's own
/// activity left out the attacks on their account.
#[tokio::test]
async fn a_person_is_one_person_by_id_or_email() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let failed = |at: &str, email: &str| {
        json!({"action": "auth.login.failed", "occurred_at": at, "actor": {"email": email},
               "context": {"ip": "203.0.113.9"}})
    };
    s.ingest(
        "acme",
        json!([
            failed("2026-01-02T10:00:00Z", "ben.khan@example.com"),
            failed("2026-01-02T10:01:00Z", "ben.khan@example.com"),
            {"action": "auth.login.succeeded", "occurred_at": "2026-01-03T10:00:00Z",
             "actor": {"id": "u_1002", "name": "Ben Khan", "email": "ben.khan@example.com"}},
            {"action": "document.signed", "occurred_at": "2026-01-03T11:00:00Z", "actor": {"id": "u_1002"}},
            {"action": "document.signed", "occurred_at": "2026-01-03T12:00:00Z", "actor": {"id": "u_9"}},
        ]),
    )
    .await;
    // Seq 7: his e-mail on another, older account (as Trail's own events name a console member
    // by their member id with their e-mail): that account's event, not Ben's.
    s.ingest(
        "acme",
        json!([failed("2026-01-04T10:00:00Z", "Ben.Khan@example.com"),
               {"action": "document.viewed", "occurred_at": "2026-01-01T09:00:00Z",
                "actor": {"id": "u_8", "email": "ben.khan@example.com"}}]),
    )
    .await;
    let (_, users) = s.get("/v1/tenants/acme/reports/users?range=all", OPERATOR).await;
    assert_eq!(users["rows"].as_array().unwrap().len(), 3, "Ben Khan, u_9 and u_8: {users}");
    let counted = |key: &str| {
        let row = users["rows"].as_array().unwrap().iter().find(|r| r["key"] == key).cloned();
        row.unwrap_or_else(|| panic!("no row {key}: {users}"))["event_count"].as_u64().unwrap()
    };

    let seqs = |events: Vec<Value>| {
        let mut v: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        v.sort();
        v
    };
    let by_id = seqs(s.events("acme", "range=all&actor=u_1002").await);
    assert_eq!(by_id, [1, 2, 3, 4, 6], "by id: also the failures that name only the e-mail, not u_8's event");
    assert_eq!(counted("u_1002"), by_id.len() as u64, "the users report counts what the filter finds");
    assert_eq!(seqs(s.events("acme", "range=all&actor=u_8").await), [7]);
    assert_eq!(counted("u_8"), 1);
    assert_eq!(seqs(s.events("acme", "range=all&actor=ben.khan@example.com").await), by_id);
    assert_eq!(seqs(s.events("acme", "range=all&actor=BEN.KHAN@example.com").await), by_id);
    let (_, csv) = s.get("/v1/tenants/acme/export?format=csv&range=all&actor=ben.khan@example.com", OPERATOR).await;
    assert_eq!(csv.as_str().unwrap().lines().count(), 1 + by_id.len(), "the export finds them too: {csv}");

    let (st, report) = s.get("/v1/tenants/acme/reports/logins?range=all", OPERATOR).await;
    assert_eq!(st, StatusCode::OK, "{report}");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "one person, one row: {report}");
    assert_eq!(rows[0]["actor_id"], "u_1002");
    assert_eq!(rows[0]["failed_count"], 3, "{report}");
    let (_, report) = s.get("/v1/tenants/acme/reports/logins?range=all&actor=ben.khan@example.com", OPERATOR).await;
    assert_eq!(report["rows"].as_array().unwrap().len(), 1, "{report}");

    // Ben, as a member, sees the attacks on his account; his own e-mail-only events open.
    let (st, t) =
        s.post("/v1/tenants/acme/viewer-tokens", OPERATOR, &json!({"role": "member", "actor_id": "u_1002"})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let ben = t["token"].as_str().unwrap();
    let (_, page) = s.get("/v1/tenants/acme/events?range=all&action=auth.login.*", ben).await;
    let mine: Vec<u64> = page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(mine, [6, 3, 2, 1], "{page}");
    assert_eq!(s.get("/v1/tenants/acme/events/1", ben).await.0, StatusCode::OK);
    assert_eq!(s.get("/v1/tenants/acme/events/5", ben).await.0, StatusCode::NOT_FOUND);
}
