//! The domain views beyond logins: the usage report and the users report checked
//! against counts made here from the events sent, user statistics, the link list and per-link
//! access log (JSON and its fixed-header CSV), one message's entry, and the catalogue's event views.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Every row of a report, following `next_cursor` with pages of `limit`.
async fn all_rows(s: &TestServer, path: &str, limit: usize, token: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut q = format!("{path}{sep}limit={limit}");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let (st, b) = s.get(&q, token).await;
        assert_eq!(st, StatusCode::OK, "{q}: {b}");
        rows.extend(b["rows"].as_array().unwrap().iter().cloned());
        match b["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return rows,
        }
    }
}

struct FileEvent {
    key: String,
    action: &'static str,
    bytes: u64,
    at: String,
}

#[derive(Debug, Default, PartialEq)]
struct Usage {
    files: u64,
    storage: u64,
    uploads: u64,
    downloads: u64,
    deletes: u64,
    last: String,
}

/// What the usage report must say for the events within `[from, to)`: people with a file
/// event in the range; their counts in the range; files and storage over all time.
fn usage_of(all: &[FileEvent], from: &str, to: &str) -> BTreeMap<String, Usage> {
    let mut totals: BTreeMap<String, (i64, i64, String)> = BTreeMap::new();
    let mut out: BTreeMap<String, Usage> = BTreeMap::new();
    for e in all {
        let t = totals.entry(e.key.clone()).or_default();
        match e.action {
            "file.uploaded" => {
                t.0 += 1;
                t.1 += e.bytes as i64;
            }
            "file.deleted" => {
                t.0 -= 1;
                t.1 -= e.bytes as i64;
            }
            _ => {}
        }
        if e.at > t.2 {
            t.2 = e.at.clone();
        }
        if e.at.as_str() >= from && e.at.as_str() < to {
            let u = out.entry(e.key.clone()).or_default();
            match e.action {
                "file.uploaded" => u.uploads += 1,
                "file.downloaded" => u.downloads += 1,
                _ => u.deletes += 1,
            }
        }
    }
    for (key, u) in out.iter_mut() {
        let t = &totals[key];
        u.files = t.0.max(0) as u64;
        u.storage = t.1.max(0) as u64;
        u.last = t.2.replace('Z', ".000Z");
    }
    out
}

fn usage_rows(rows: &[Value]) -> BTreeMap<String, Usage> {
    rows.iter()
        .map(|r| {
            let key = r["actor_id"].as_str().or(r["email"].as_str()).unwrap().to_owned();
            let n = |k: &str| r[k].as_u64().unwrap();
            let u = Usage {
                files: n("files"),
                storage: n("storage_bytes"),
                uploads: n("uploads"),
                downloads: n("downloads"),
                deletes: n("deletes"),
                last: r["last_activity_at"].as_str().unwrap().to_owned(),
            };
            (key, u)
        })
        .collect()
}

#[tokio::test]
async fn the_usage_report_matches_an_independent_count() {
    let s = TestServer::start().await;
    s.tenant("files").await;
    let mut rng = Lcg(7);
    let all: Vec<FileEvent> = (0..1500)
        .map(|_| {
            let who = rng.next(40);
            // Every fifth person is known only by e-mail.
            let key = if who.is_multiple_of(5) { format!("p{who}@files.example") } else { format!("u_{who}") };
            let action = ["file.uploaded", "file.uploaded", "file.downloaded", "file.deleted"][rng.next(4) as usize];
            let at = format!("2026-01-{:02}T{:02}:{:02}:00Z", 1 + rng.next(28), rng.next(24), rng.next(60));
            FileEvent { key, action, bytes: 1 + rng.next(5_000_000), at }
        })
        .collect();
    let events: Vec<Value> = all
        .iter()
        .map(|e| {
            let actor = if e.key.contains('@') {
                json!({"email": e.key, "name": "By mail"})
            } else {
                json!({"id": e.key, "name": format!("Person {}", e.key)})
            };
            let meta = if e.action == "file.downloaded" { json!({}) } else { json!({"size_bytes": e.bytes}) };
            json!({"action": e.action, "occurred_at": e.at, "actor": actor, "metadata": meta,
                   "targets": [{"type": "file", "id": "f", "name": "a.pdf"}]})
        })
        .collect();
    for chunk in events.chunks(113) {
        s.ingest("files", Value::Array(chunk.to_vec())).await;
    }
    // Noise the report must ignore.
    s.ingest("files", json!([{"action": "auth.login.succeeded", "actor": {"id": "u_1"}}, {"action": "file.uploaded"}]))
        .await;

    let whole = all_rows(&s, "/v1/tenants/files/reports/usage?range=all", 1000, OPERATOR).await;
    let want = usage_of(&all, "0000", "9999");
    assert!(want.len() >= 35, "{} people", want.len());
    assert_eq!(usage_rows(&whole), want);
    assert_eq!(whole.len(), want.len(), "one row a person");
    let lasts: Vec<&str> = whole.iter().map(|r| r["last_activity_at"].as_str().unwrap()).collect();
    assert!(lasts.windows(2).all(|w| w[0] >= w[1]), "latest first");
    assert_eq!(all_rows(&s, "/v1/tenants/files/reports/usage?range=all", 6, OPERATOR).await, whole);
    let human = whole.iter().find(|r| r["storage_bytes"].as_u64().unwrap() > 1024 * 1024).unwrap();
    assert!(human["storage"].as_str().unwrap().ends_with("MiB"), "{human}");

    let (from, to) = ("2026-01-10T00:00:00Z", "2026-01-20T00:00:00Z");
    let part = all_rows(&s, &format!("/v1/tenants/files/reports/usage?from={from}&to={to}"), 9, OPERATOR).await;
    let want_part = usage_of(&all, from, to);
    assert!(!want_part.is_empty() && want_part.values().map(|u| u.uploads).sum::<u64>() < 1500);
    assert_eq!(usage_rows(&part), want_part);
    assert_eq!(part.len(), want_part.len(), "pages of a closed range show each person once");
    // An end off the 15-minute grid takes the other (checking) path to the same rows.
    let odd = all_rows(
        &s,
        &format!("/v1/tenants/files/reports/usage?from={from}&to=2026-01-19T23:59:59.999999Z"),
        4,
        OPERATOR,
    )
    .await;
    assert_eq!(usage_rows(&odd), want_part);
    assert_eq!(odd.len(), want_part.len());

    let one = all_rows(&s, "/v1/tenants/files/reports/usage?range=all&actor=p5@files.example", 50, OPERATOR).await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["email"], "p5@files.example");

    // The export has the usage columns and one line a person.
    let (st, csv) = s.get("/v1/tenants/files/export?format=csv&view=usage&range=all", OPERATOR).await;
    assert_eq!(st, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["User", "Email", "Files", "Storage (bytes)", "Storage", "Uploads", "Downloads", "Deletes", "Last Activity"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), whole.len());
    assert_eq!(records[0][3], whole[0]["storage_bytes"].to_string());
    assert_eq!(records[0][5], whole[0]["uploads"].to_string());

    let (_, t) =
        s.post("/v1/tenants/files/viewer-tokens", OPERATOR, &json!({"role": "member", "actor_id": "u_1"})).await;
    let member = t["token"].as_str().unwrap();
    assert_eq!(s.get("/v1/tenants/files/reports/usage", member).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.get("/v1/tenants/files/export?format=csv&view=usage", member).await.0, StatusCode::FORBIDDEN);
    assert_error(
        &s.get("/v1/tenants/files/reports/usage?action=file.*", OPERATOR).await,
        StatusCode::BAD_REQUEST,
        "unsupported_filter",
        Some("action"),
    );
}

#[tokio::test]
async fn the_users_report_and_statistics_agree_with_the_events() {
    let s = TestServer::start().await;
    s.tenant_in("acme", "Asia/Kolkata").await;
    let mut rng = Lcg(11);
    let actions = ["document.signed", "file.uploaded", "auth.login.succeeded", "panel.request", "message.sent"];
    let mut sent: Vec<(String, &str, String)> = Vec::new();
    for _ in 0..600 {
        let who = format!("u_{}", rng.next(12));
        let action = actions[rng.next(5) as usize];
        let at = format!("2026-02-{:02}T{:02}:30:00Z", 1 + rng.next(10), rng.next(24));
        sent.push((who, action, at));
    }
    let events: Vec<Value> =
        sent.iter().map(|(w, a, at)| json!({"action": a, "occurred_at": at, "actor": {"id": w}})).collect();
    for chunk in events.chunks(100) {
        s.ingest("acme", Value::Array(chunk.to_vec())).await;
    }
    let rows = all_rows(&s, "/v1/tenants/acme/reports/users?range=all", 5, OPERATOR).await;
    assert_eq!(rows.len(), 12);
    for r in &rows {
        let id = r["actor_id"].as_str().unwrap();
        let mine: Vec<&(String, &str, String)> = sent.iter().filter(|(w, _, _)| w == id).collect();
        assert_eq!(r["event_count"].as_u64().unwrap(), mine.len() as u64, "{id}");
        let first = mine.iter().map(|m| m.2.as_str()).min().unwrap().replace('Z', ".000Z");
        let last = mine.iter().map(|m| m.2.as_str()).max().unwrap().replace('Z', ".000Z");
        assert_eq!(r["first_seen_at"], first.as_str());
        assert_eq!(r["last_seen_at"], last.as_str());
        let login = mine.iter().filter(|m| m.1 == "auth.login.succeeded").map(|m| m.2.as_str()).max();
        assert_eq!(r["last_login_at"].as_str(), login.map(|l| l.replace('Z', ".000Z")).as_deref());
    }
    // In a closed range, events are counted in it.
    let part =
        all_rows(&s, "/v1/tenants/acme/reports/users?from=2026-02-03T00:00:00Z&to=2026-02-05T00:00:00Z", 50, OPERATOR)
            .await;
    for r in &part {
        let id = r["actor_id"].as_str().unwrap();
        let n = sent
            .iter()
            .filter(|(w, _, at)| w == id && at.as_str() >= "2026-02-03" && at.as_str() < "2026-02-05")
            .count();
        assert_eq!(r["event_count"].as_u64().unwrap(), n as u64, "{id}");
        assert!(n > 0);
    }

    // One person's statistics: by action and per day in the tenant's zone.
    let (st, stats) = s.get("/v1/tenants/acme/reports/users/u_3/stats?range=all", OPERATOR).await;
    assert_eq!(st, StatusCode::OK, "{stats}");
    let mine: Vec<&(String, &str, String)> = sent.iter().filter(|(w, _, _)| w == "u_3").collect();
    let mut by_action: BTreeMap<&str, u64> = BTreeMap::new();
    for m in &mine {
        *by_action.entry(m.1).or_default() += 1;
    }
    let got: BTreeMap<&str, u64> = stats["by_action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, by_action);
    assert_eq!(stats["event_count"].as_u64().unwrap(), mine.len() as u64);
    let days: u64 = stats["by_day"].as_array().unwrap().iter().map(|d| d["count"].as_u64().unwrap()).sum();
    assert_eq!(days, mine.len() as u64);
    assert!(stats["by_day"][0]["start"].as_str().unwrap().ends_with("T00:00:00+05:30"), "{stats}");

    // A member sees their own statistics and nobody else's.
    let (_, t) =
        s.post("/v1/tenants/acme/viewer-tokens", OPERATOR, &json!({"role": "member", "actor_id": "u_3"})).await;
    let member = t["token"].as_str().unwrap();
    assert_eq!(s.get("/v1/tenants/acme/reports/users/u_3/stats?range=all", member).await.0, StatusCode::OK);
    assert_eq!(s.get("/v1/tenants/acme/reports/users/u_4/stats?range=all", member).await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/v1/tenants/acme/reports/users", member).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.get("/v1/tenants/acme/reports/users/nobody/stats", OPERATOR).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn links_list_and_access_logs_with_the_spec_csv() {
    let s = TestServer::start().await;
    s.tenant("share").await;
    let link = |id: &str| json!([{"type": "link", "id": id, "name": format!("Pack {id}")}, {"type": "file", "id": "f1", "name": "Q1, \"final\".pdf"}]);
    s.ingest(
        "share",
        json!([
            {"action": "link.created", "occurred_at": "2026-03-01T10:00:00Z", "actor": {"id": "u_1", "email": "owner@share.example"},
             "targets": link("l1"), "metadata": {"expires_at": "2026-04-01T00:00:00Z", "require_email": true}},
            {"action": "link.viewed", "occurred_at": "2026-03-02T10:00:00Z", "actor": {"email": "v1@client.example"},
             "targets": link("l1"), "context": {"session_id": "sess-a", "ip": "203.0.113.7", "location": {"country": "GB", "city": "London"},
             "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}},
            {"action": "link.saved", "occurred_at": "2026-03-02T10:05:00Z", "actor": {"email": "v1@client.example"},
             "targets": link("l1"), "context": {"session_id": "sess-a", "ip": "203.0.113.7"}},
            {"action": "link.viewed", "occurred_at": "2026-03-03T10:00:00Z", "targets": link("l1"), "context": {"session_id": "sess-b"}},
            {"action": "link.revoked", "occurred_at": "2026-03-04T10:00:00Z", "actor": {"id": "u_1"}, "targets": link("l1")},
            {"action": "link.created", "occurred_at": "2026-03-05T10:00:00Z", "actor": {"id": "u_2"}, "targets": link("l2")},
            {"action": "link.viewed", "occurred_at": "2026-03-06T10:00:00Z", "targets": link("l2"), "context": {"session_id": "sess-c"}},
        ]),
    )
    .await;
    let (st, list) = s.get("/v1/tenants/share/links?range=all", OPERATOR).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let rows = list["rows"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["link_id"].as_str().unwrap()).collect::<Vec<_>>(), ["l2", "l1"]);
    let l1 = &rows[1];
    assert_eq!((l1["views"].as_u64(), l1["saves"].as_u64()), (Some(2), Some(1)));
    assert_eq!(l1["state"], "revoked");
    assert_eq!(l1["require_email"], true);
    assert_eq!(l1["created_by"], "owner@share.example");
    assert_eq!(l1["file_name"], "Q1, \"final\".pdf");
    assert_eq!(l1["expires_at"], "2026-04-01T00:00:00Z");
    // Views counted in a closed range.
    let (_, part) = s.get("/v1/tenants/share/links?from=2026-03-03&to=2026-03-03", OPERATOR).await;
    assert_eq!(part["rows"].as_array().unwrap().len(), 1, "{part}");
    assert_eq!(part["rows"][0]["views"], 1);

    let (st, log) = s.get("/v1/tenants/share/links/l1/access-log?range=all", OPERATOR).await;
    assert_eq!(st, StatusCode::OK, "{log}");
    let rows = log["rows"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["event"].as_str().unwrap()).collect::<Vec<_>>(), ["Viewed", "Saved", "Viewed"]);
    assert_eq!(rows[1]["linkSessionId"], rows[2]["linkSessionId"], "one session, one id");
    assert_ne!(rows[0]["linkSessionId"], rows[1]["linkSessionId"]);
    assert!(!log.to_string().contains("sess-"), "raw session ids never leave Trail");
    assert_eq!(rows[2]["email"], "v1@client.example");
    assert_eq!(rows[2]["ipAddress"], "203.0.113.7");
    assert_eq!(rows[2]["city"], "London");
    assert_eq!(rows[2]["osName"], "Windows 10");
    assert_eq!(rows[2]["clientName"], "Chrome 120");

    let (st, csv) = s.get("/v1/tenants/share/links/l1/access-log?range=all&format=csv", OPERATOR).await;
    assert_eq!(st, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        "timestamp,linkSessionId,event,email,ipAddress,country,city,osName,clientName,fileName"
    );
    let records: Vec<csv::StringRecord> =
        csv::Reader::from_reader(csv.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3);
    assert_eq!(&records[2][2], "Viewed");
    assert_eq!(&records[2][1], rows[2]["linkSessionId"].as_str().unwrap());
    assert_eq!(&records[2][9], "Q1, \"final\".pdf");
    let exported = s.events("share", "action=trail.logs.exported&range=all").await;
    assert_eq!(exported[0]["metadata"]["filters"]["link"], "l1");
    assert_eq!(exported[0]["metadata"]["rows"], 3);

    assert_eq!(s.get("/v1/tenants/share/links/nope/access-log", OPERATOR).await.0, StatusCode::NOT_FOUND);
    let (_, t) =
        s.post("/v1/tenants/share/viewer-tokens", OPERATOR, &json!({"role": "member", "actor_id": "u_1"})).await;
    let member = t["token"].as_str().unwrap();
    assert_eq!(s.get("/v1/tenants/share/links/l1/access-log", member).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.get("/v1/tenants/share/links", member).await.0, StatusCode::FORBIDDEN);
    s.tenant("other").await;
    let theirs = s.key("other", &["read"]).await;
    assert_eq!(s.get("/v1/tenants/share/links/l1/access-log", &theirs).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_message_entry_gathers_its_events() {
    let s = TestServer::start().await;
    s.tenant("mail").await;
    let m = |id: &str| json!([{"type": "message", "id": id, "name": "Contract for review"}]);
    s.ingest(
        "mail",
        json!([
            {"action": "message.sent", "occurred_at": "2026-03-01T10:00:00Z", "actor": {"id": "u_1", "email": "a@mail.example"},
             "targets": m("m1"), "metadata": {"recipients": ["x@client.example", "y@client.example"], "expires_at": "2026-03-31T00:00:00Z"}},
            {"action": "message.opened", "occurred_at": "2026-03-01T11:00:00Z", "actor": {"email": "x@client.example"}, "targets": m("m1"),
             "context": {"ip": "203.0.113.7", "location": {"country": "GB", "city": "London"}}},
            {"action": "message.opened", "occurred_at": "2026-03-01T12:00:00Z", "actor": {"email": "y@client.example"}, "targets": m("m1")},
            {"action": "message.downloaded", "occurred_at": "2026-03-01T13:00:00Z", "actor": {"email": "y@client.example"}, "targets": m("m1")},
            {"action": "message.opened", "occurred_at": "2026-03-02T09:00:00Z", "actor": {"email": "x@client.example"}, "targets": m("m1")},
            {"action": "message.sent", "occurred_at": "2026-03-01T10:00:00Z", "targets": m("m2")},
        ]),
    )
    .await;
    let (st, e) = s.get("/v1/tenants/mail/messages/m1", OPERATOR).await;
    assert_eq!(st, StatusCode::OK, "{e}");
    assert_eq!(e["opens"], 3);
    assert_eq!(e["downloads"], 1);
    assert_eq!(e["status"], "opened");
    assert_eq!(e["recipients"], json!(["x@client.example", "y@client.example"]));
    assert_eq!(e["expires_at"], "2026-03-31T00:00:00Z");
    assert_eq!(e["sender"]["email"], "a@mail.example");
    assert_eq!(e["name"], "Contract for review");
    let steps: Vec<&str> =
        e["interactions"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap()).collect();
    assert_eq!(steps, ["message.sent", "message.opened", "message.opened", "message.downloaded", "message.opened"]);
    assert_eq!(e["interactions"][1]["ip"], "203.0.113.7");
    assert_eq!(e["interactions"][1]["city"], "London");
    assert_eq!(s.get("/v1/tenants/mail/messages/m3", OPERATOR).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn event_views_project_the_catalogue_events() {
    let s = TestServer::start().await;
    s.tenant("cat").await;
    let mut batch = Vec::new();
    for i in 0..30 {
        batch.push(json!({"action": "api.request", "context": {"url": format!("/api/v1/items/{i}"), "method": "GET", "status": 200 + i % 3 * 100, "ip": "198.51.100.4"}}));
        if i % 2 == 0 {
            batch.push(json!({"action": "panel.request", "actor": {"id": "u_1", "email": "a@cat.example"}, "context": {"url": "/settings", "method": "POST", "status": 302}}));
        }
        if i % 3 == 0 {
            batch.push(json!({"action": if i % 2 == 0 { "sms.sent" } else { "sms.failed" }, "metadata": {"phone": "+44 7700 900123", "campaign": "Spring", "message_id": format!("sms{i}"), "gateway": "twilio"}}));
        }
        if i % 5 == 0 {
            batch.push(json!({"action": "document.signed", "targets": [{"type": "document", "id": format!("doc{}", i % 2), "name": "NDA.pdf"}], "description": "signed"}));
        }
        batch.push(json!({"action": "auth.logout"}));
    }
    s.ingest("cat", Value::Array(batch)).await;
    for (view, prefix) in [("api", "api."), ("panel", "panel."), ("sms", "sms."), ("documents", "document.")] {
        let rows = all_rows(&s, &format!("/v1/tenants/cat/views/{view}?range=all"), 7, OPERATOR).await;
        let want: BTreeSet<u64> = s
            .all_events("cat")
            .await
            .iter()
            .filter(|e| e["action"].as_str().unwrap().starts_with(prefix))
            .map(|e| e["seq"].as_u64().unwrap())
            .collect();
        let got: BTreeSet<u64> = rows.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
        assert_eq!(got, want, "{view}");
        assert_eq!(rows.len(), want.len(), "{view}: each event once");
    }
    let (_, api) = s.get("/v1/tenants/cat/views/api?range=all&limit=1", OPERATOR).await;
    let row = &api["rows"][0];
    assert_eq!(row["url"], "/api/v1/items/29");
    assert_eq!(
        (row["method"].as_str(), row["status"].as_u64(), row["ip"].as_str()),
        (Some("GET"), Some(400), Some("198.51.100.4"))
    );
    assert_eq!(api["columns"][2]["title"], "Method");
    // Phones whole for admins only.
    let reader = s.key("cat", &["read"]).await;
    let (_, sms) = s.get("/v1/tenants/cat/views/sms?range=all", &reader).await;
    assert_eq!(sms["rows"][0]["phone"], "+** **** **0123");
    let (_, sms) = s.get("/v1/tenants/cat/views/sms?range=all", OPERATOR).await;
    assert_eq!(sms["rows"][0]["phone"], "+44 7700 900123");
    assert!(sms["rows"].as_array().unwrap().iter().any(|r| r["status"] == "Failed"));
    // One document's trail.
    let doc = all_rows(&s, "/v1/tenants/cat/views/documents?range=all&target=document:doc1", 50, OPERATOR).await;
    assert_eq!(doc.len(), 3);
    assert!(doc.iter().all(|r| r["document"] == "NDA.pdf"));
    assert_eq!(s.get("/v1/tenants/cat/views/nope", OPERATOR).await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/v1/tenants/cat/views/usage", OPERATOR).await.0, StatusCode::NOT_FOUND);
}
