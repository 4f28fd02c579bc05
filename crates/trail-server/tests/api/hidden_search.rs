//! Filters and searches see what their reader is shown, on every route that answers from
//! events: the events list, the timeline's counts, exports, views, the link access log, the
//! live stream and the console's pages.
//!
//! Regression (issue 20, "masking leaks", last clause): only the copy sent was redacted, but
//! filters ran on the stored event, so a read key shown `+********0123` could ask
//! `q=447700900123` (or `ip=`, `country=`, `session=`, `actor=` of a basic plan's link visitor)
//! and learn from the answer (an event listed, a count, an export row, a streamed event) that
//! the hidden value was there.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::*,
    masking::{console_page, text, viewer},
};

/// The seqs of the events `path` lists for `token`.
async fn seqs(s: &TestServer, path: &str, token: &str) -> Vec<u64> {
    let (st, b) = s.get(path, token).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    b["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

/// How many events the timeline of `query` counts for `token`.
async fn counted(s: &TestServer, tenant: &str, query: &str, token: &str) -> u64 {
    let path = format!("/v1/tenants/{tenant}/reports/timeline?range=all&{query}");
    let (st, b) = s.get(&path, token).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    b["rows"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum()
}

/// The rows of an export: NDJSON lines, or CSV lines after the header.
async fn exported(s: &TestServer, tenant: &str, format: &str, query: &str, token: &str) -> Vec<String> {
    let path = format!("/v1/tenants/{tenant}/export?format={format}&range=all&{query}");
    let (st, b) = s.get(&path, token).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    let body = text(&b);
    let skip = usize::from(format == "csv");
    body.lines().skip(skip).map(str::to_owned).collect()
}

/// The seq of the first event the live stream of `query` sends `token` after seq 0.
async fn first_streamed(s: &TestServer, tenant: &str, query: &str, token: &str) -> u64 {
    let url = s.url(&format!("/v1/tenants/{tenant}/stream?after=0&{query}"));
    let mut resp = s.client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = String::new();
    loop {
        if let Some(id) = body.lines().find_map(|l| l.strip_prefix("id:")) {
            return id.trim().parse().unwrap();
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await.expect("an event within 10 s");
        body.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("stream open")));
    }
}

#[tokio::test]
async fn a_masked_phone_is_not_found_by_the_digits_it_hides() {
    let s = TestServer::start().await;
    s.tenant("sms").await;
    let r = s
        .ingest(
            "sms",
            json!([
                {"action": "sms.failed", "outcome": "failure", "actor": {"id": "447700900123"},
                 "description": "SMS to +447700900123 failed",
                 "targets": [{"type": "contact", "id": "447700900123", "name": "+44 7700 900123"}],
                 "metadata": {"phone": "+447700900123"}},
                {"action": "document.signed", "description": "Order 447700900123 is not a phone here"},
            ]),
        )
        .await;
    let sms = r["events"][0]["seq"].as_u64().unwrap();
    let order = r["events"][1]["seq"].as_u64().unwrap();
    let reader = s.key("sms", &["read"]).await;
    let admin = s.key("sms", &["admin"]).await;
    let (manager, manager_url) = viewer(&s, "sms", "manager").await;

    for token in [&reader, &manager] {
        // The number found only where this reader is shown it.
        for q in ["447700900123", "%2B447700900123"] {
            let path = format!("/v1/tenants/sms/events?range=all&q={q}");
            assert_eq!(seqs(&s, &path, token).await, [order], "{path}");
        }
        for hidden in [
            "q=447700900123&action=sms.*",
            "target=contact:447700900123",
            "actor=447700900123",
            "q=target:contact:447700900123",
            "q=actor:447700900123",
        ] {
            let path = format!("/v1/tenants/sms/events?range=all&{hidden}");
            assert!(seqs(&s, &path, token).await.is_empty(), "{path}");
            assert_eq!(counted(&s, "sms", hidden, token).await, 0, "timeline of {hidden}");
            for format in ["csv", "ndjson"] {
                assert!(exported(&s, "sms", format, hidden, token).await.is_empty(), "{format} export of {hidden}");
            }
            let (_, view) = s.get(&format!("/v1/tenants/sms/views/sms?range=all&{hidden}"), token).await;
            assert_eq!(view["rows"], json!([]), "the SMS log of {hidden}");
        }
        // What the reader is shown finds it: the digits a masked number keeps, and its mask.
        assert_eq!(seqs(&s, "/v1/tenants/sms/events?range=all&q=0123", token).await, [sms]);
        assert_eq!(counted(&s, "sms", "q=0123", token).await, 1);
        assert_eq!(counted(&s, "sms", "q=447700900123", token).await, 1, "the order alone");
        assert_eq!(seqs(&s, "/v1/tenants/sms/events?range=all&q=-447700900123&action=sms.*", token).await, [sms]);
        let masked_target = "target=contact:********0123";
        assert_eq!(seqs(&s, &format!("/v1/tenants/sms/events?range=all&{masked_target}"), token).await, [sms]);
        assert_eq!(exported(&s, "sms", "ndjson", "q=0123", token).await.len(), 1);
        // The live stream: the order is the first event the search finds.
        assert_eq!(first_streamed(&s, "sms", "q=447700900123", token).await, order);
        assert_eq!(first_streamed(&s, "sms", "q=0123", token).await, sms);
    }
    // The console's activity, histogram and SMS log, as a manager sees them.
    let page = console_page(&s, &manager_url, "/console/activity?range=all&q=447700900123").await;
    assert!(page.contains("1 event,") && page.contains("Order"), "{page}");
    let page = console_page(&s, &manager_url, "/console/activity?range=all&q=447700900123&action=sms.*").await;
    assert!(page.contains("No events in this range."), "{page}");
    let page = console_page(&s, &manager_url, "/console/logs/sms?range=all&target=contact:447700900123").await;
    assert!(page.contains("Nothing in this range") && !page.contains("+********0123"), "{page}");
    // An admin is shown the number, and finds it by it.
    for token in [&admin, OPERATOR] {
        let path = "/v1/tenants/sms/events?range=all&q=447700900123";
        assert_eq!(seqs(&s, path, token).await, [order, sms]);
        assert_eq!(counted(&s, "sms", "q=447700900123&action=sms.*", token).await, 1);
        assert_eq!(exported(&s, "sms", "csv", "target=contact:447700900123", token).await.len(), 1);
        assert_eq!(counted(&s, "sms", "q=0123", token).await, 0, "an admin is shown no mask");
        assert_eq!(first_streamed(&s, "sms", "q=447700900123&action=sms.*", token).await, sms);
    }
}

#[tokio::test]
async fn a_basic_plan_link_visitor_is_not_found_by_the_detail_it_withholds() {
    let s = TestServer::start().await;
    let (st, b) = s.post("/v1/tenants", OPERATOR, &json!({"id": "small", "plan": "basic"})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let link = json!([{"type": "link", "id": "l1", "name": "Pack"}, {"type": "file", "id": "f1", "name": "q1.pdf"}]);
    let r = s
        .ingest(
            "small",
            json!([
                {"action": "link.viewed", "actor": {"email": "visitor@client.example", "name": "Vera Visitor"},
                 "description": "q1.pdf viewed by visitor@client.example in Cambridge",
                 "targets": link, "context": {"ip": "203.0.113.77", "session_id": "sess-abc-1", "location": {"country": "GB", "city": "Cambridge"}}},
                // The same values on an event whose detail no plan withholds.
                {"action": "auth.login.failed", "outcome": "failure", "actor": {"email": "guest@client.example"},
                 "context": {"ip": "203.0.113.77", "session_id": "sess-abc-1", "location": {"country": "GB"}}},
            ]),
        )
        .await;
    let viewed = r["events"][0]["seq"].as_u64().unwrap();
    let login = r["events"][1]["seq"].as_u64().unwrap();
    let reader = s.key("small", &["read"]).await;
    let admin = s.key("small", &["admin"]).await;
    let withheld = [
        "q=visitor%40client.example",
        "q=vera",
        "q=cambridge",
        "actor=visitor%40client.example",
        "q=actor:visitor%40client.example",
        "ip=203.0.113.77",
        "ip=203.0.113.0/24",
        "q=ip:203.0.113.77",
        "country=GB",
        "q=country:gb",
        "session=sess-abc-1",
        "q=session:sess-abc-1",
    ];
    let found = |query: &str| {
        // The login carries the address, country and session too.
        if ["ip", "country", "session"].iter().any(|k| query.contains(k)) { vec![login] } else { vec![] }
    };
    // The plan withholds the detail from every reader, the operator included.
    for token in [reader.as_str(), admin.as_str(), OPERATOR] {
        for query in withheld {
            let path = format!("/v1/tenants/small/events?range=all&{query}");
            assert_eq!(seqs(&s, &path, token).await, found(query), "{path}");
            let with_link = format!("{query}&action=link.*");
            assert_eq!(counted(&s, "small", &with_link, token).await, 0, "timeline of {with_link}");
            assert!(exported(&s, "small", "csv", &with_link, token).await.is_empty(), "CSV of {with_link}");
            let log = format!("/v1/tenants/small/links/l1/access-log?range=all&{query}");
            let (st, b) = s.get(&log, token).await;
            assert_eq!((st, &b["rows"]), (StatusCode::OK, &json!([])), "{log}: {b}");
            let (_, b) = s.get(&format!("/v1/tenants/small/views/link-access?range=all&{query}"), token).await;
            assert_eq!(b["rows"], json!([]), "link access view of {query}");
        }
        // The live stream: the login is the first event the filter finds.
        assert_eq!(first_streamed(&s, "small", "country=GB", token).await, login);
        // What is shown still finds the view: its link, its file, its action, the mark.
        for query in ["target=link:l1", "q=q1.pdf", "action=link.viewed", "q=withheld"] {
            let path = format!("/v1/tenants/small/events?range=all&{query}");
            assert_eq!(seqs(&s, &path, token).await, [viewed], "{path}");
            assert_eq!(counted(&s, "small", query, token).await, 1, "timeline of {query}");
        }
        let (_, log) = s.get("/v1/tenants/small/links/l1/access-log?range=all", token).await;
        assert_eq!(log["rows"].as_array().unwrap().len(), 1);
    }
    // A plan with link detail shows it, and finds the view by it.
    s.patch("/v1/tenants/small", OPERATOR, &json!({"plan": "business"})).await;
    for query in withheld {
        let path = format!("/v1/tenants/small/events?range=all&{query}&action=link.*");
        assert_eq!(seqs(&s, &path, &reader).await, [viewed], "{path}");
        assert_eq!(counted(&s, "small", &format!("{query}&action=link.*"), &reader).await, 1, "{query}");
    }
    assert_eq!(first_streamed(&s, "small", "country=GB", &reader).await, viewed);
    assert_eq!(seqs(&s, "/v1/tenants/small/events?range=all&q=withheld", &reader).await, Vec::<u64>::new());
}

/// A user's statistics and the users report count a person's events as the reader is shown
/// them: on a basic plan, a link visitor known only by the e-mail linked to a user is not
/// counted as that user (which would say who the visitor was).
#[tokio::test]
async fn a_basic_plan_user_is_not_counted_with_the_link_views_it_withholds() {
    let s = TestServer::start().await;
    let (st, b) = s.post("/v1/tenants", OPERATOR, &json!({"id": "small", "plan": "basic"})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    s.ingest(
        "small",
        json!([
            {"action": "document.signed", "actor": {"id": "u_5", "email": "ben@small.example"}},
            {"action": "link.viewed", "actor": {"email": "ben@small.example"}, "targets": [{"type": "link", "id": "l1"}]},
        ]),
    )
    .await;
    let reader = s.key("small", &["read"]).await;
    let actions = |b: &serde_json::Value| -> Vec<String> {
        b["by_action"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect()
    };
    let (st, stats) = s.get("/v1/tenants/small/reports/users/u_5/stats?range=all", &reader).await;
    assert_eq!(st, StatusCode::OK, "{stats}");
    assert_eq!(actions(&stats), ["document.signed"], "{stats}");
    assert_eq!(stats["event_count"], 1);
    let days: u64 = stats["by_day"].as_array().unwrap().iter().map(|d| d["count"].as_u64().unwrap()).sum();
    assert_eq!(days, 1, "{stats}");
    let (_, users) = s.get("/v1/tenants/small/reports/users?range=last_7_days", &reader).await;
    let row = users["rows"].as_array().unwrap().iter().find(|r| r["key"] == "u_5").cloned().unwrap();
    assert_eq!(row["event_count"], 1, "{users}");
    // A plan with link detail counts the view as Ben's.
    s.patch("/v1/tenants/small", OPERATOR, &json!({"plan": "business"})).await;
    let (_, stats) = s.get("/v1/tenants/small/reports/users/u_5/stats?range=all", &reader).await;
    assert_eq!(actions(&stats), ["document.signed", "link.viewed"], "{stats}");
    let (_, users) = s.get("/v1/tenants/small/reports/users?range=last_7_days", &reader).await;
    let row = users["rows"].as_array().unwrap().iter().find(|r| r["key"] == "u_5").cloned().unwrap();
    assert_eq!(row["event_count"], 2, "{users}");
}
