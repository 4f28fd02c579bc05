//! What a reader may not see, on every route that shows an event: a masked SMS phone number
//! is masked wherever the event writes it (description, target names, metadata at any depth),
//! and the link visitor detail a plan withholds is withheld from every route, the leaf included.
//!
//! Regression (issue 20, "masking leaks"): the SMS log masked `+********0123`, but the same
//! number was in clear in the event's description (Activity's remarks, the CSV, the API) for
//! managers and read keys, and a basic plan's link visitor e-mail written in a description or
//! in metadata, and every detail in the raw leaf, showed to anyone who could read the event.

use std::time::Duration;

use reqwest::{StatusCode, header, redirect::Policy};
use serde_json::{Value, json};

use crate::helpers::*;

/// The phone's digits after those a masked phone hides: present in clear only unmasked.
const CLEAR: &str = "900123";

/// Every text of a body: JSON answers as sent, CSV and NDJSON as text.
pub(crate) fn text(body: &Value) -> String {
    match body {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// A viewer token of `role` for `tenant` (what a console person of that role reads with).
pub(crate) async fn viewer(s: &TestServer, tenant: &str, role: &str) -> (String, String) {
    let (st, b) = s
        .post(&format!("/v1/tenants/{tenant}/viewer-tokens"), OPERATOR, &json!({"role": role, "actor_id": "u_9"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    (b["token"].as_str().unwrap().to_owned(), b["url"].as_str().unwrap().to_owned())
}

/// The console page `path` as the holder of viewer link `url` sees it.
pub(crate) async fn console_page(s: &TestServer, url: &str, path: &str) -> String {
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let opened = client.get(s.url(url)).send().await.unwrap();
    let cookies: Vec<String> = opened
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let page = client.get(s.url(path)).header(header::COOKIE, cookies.join("; ")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{path}");
    page.text().await.unwrap()
}

/// The first `n` events of the tenant's stream after seq 0, as JSON text.
async fn streamed(s: &TestServer, tenant: &str, token: &str, n: usize) -> String {
    let mut resp =
        s.client.get(s.url(&format!("/v1/tenants/{tenant}/stream?after=0"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = String::new();
    while body.matches("data:").count() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await.expect("events within 10 s");
        body.push_str(&String::from_utf8_lossy(&chunk.unwrap().expect("stream open")));
    }
    body
}

#[tokio::test]
async fn a_masked_phone_is_masked_wherever_the_event_writes_it() {
    let s = TestServer::start().await;
    s.tenant("sms").await;
    let r = s
        .ingest(
            "sms",
            json!([
                {"action": "sms.failed", "outcome": "failure", "actor": {"type": "system", "name": "SMS gateway"},
                 "description": "SMS \"Spring\" to +447700900123 failed: 44 7700 900123 unreachable",
                 "targets": [{"type": "contact", "id": "c_1", "name": "+44 (7700) 900-123"}],
                 "metadata": {"phone": "+447700900123", "campaign": "Spring", "message_id": "m1", "gateway": "twilio",
                              "error": "447700900123 unreachable", "delivery": {"to": ["+44 7700 900123"], "raw": 447700900123_u64}}},
                {"action": "document.signed", "description": "Order 447700900123 is not a phone here"},
            ]),
        )
        .await;
    let seq = r["events"][0]["seq"].as_u64().unwrap();
    let reader = s.key("sms", &["read"]).await;
    let (manager, manager_url) = viewer(&s, "sms", "manager").await;
    let admin = s.key("sms", &["admin"]).await;
    let routes = [
        "/v1/tenants/sms/events?range=all&action=sms.*".to_owned(),
        format!("/v1/tenants/sms/events/{seq}"),
        "/v1/tenants/sms/views/sms?range=all".into(),
        "/v1/tenants/sms/views/activity?range=all&action=sms.*".into(),
        // The activity CSV of a time range alone is written straight from the stored records.
        "/v1/tenants/sms/export?format=csv&range=all".into(),
        "/v1/tenants/sms/export?format=csv&range=all&action=sms.failed".into(),
        "/v1/tenants/sms/export?format=ndjson&range=all&action=sms.*".into(),
        "/v1/tenants/sms/export?format=csv&range=all&view=sms".into(),
    ];
    for token in [&reader, &manager] {
        for path in &routes {
            let (st, body) = s.get(path, token).await;
            assert_eq!(st, StatusCode::OK, "{path}: {body}");
            let shown = text(&body);
            let shown = shown.replace("Order 447700900123 is not a phone here", "");
            assert!(!shown.contains(CLEAR), "{path} shows the phone: {shown}");
            assert!(shown.contains("0123"), "{path} shows the masked phone: {shown}");
        }
        let stream = streamed(&s, "sms", token, 1).await;
        assert!(!stream.contains(CLEAR) && stream.contains("0123"), "the stream: {stream}");
        // The leaf holds the metadata in clear: it is refused, and says why.
        let refused = s.get(&format!("/v1/tenants/sms/events/{seq}/leaf"), token).await;
        assert_error(&refused, StatusCode::FORBIDDEN, "leaf_withheld", None);
        assert!(refused.1["error"]["message"].as_str().unwrap().contains("phone"), "{}", refused.1);
        // Its proof still answers, and an event with nothing hidden has its leaf.
        assert_eq!(s.get(&format!("/v1/tenants/sms/events/{seq}/proof"), token).await.0, StatusCode::OK);
        assert_eq!(s.get(&format!("/v1/tenants/sms/events/{}/leaf", seq + 1), token).await.0, StatusCode::OK);
    }
    let (_, one) = s.get(&format!("/v1/tenants/sms/events/{seq}"), &reader).await;
    assert_eq!(one["description"], "SMS \"Spring\" to +********0123 failed: ** **** **0123 unreachable");
    assert_eq!(one["targets"][0]["name"], "+** (****) **0-123");
    assert_eq!(one["metadata"]["phone"], "+********0123");
    assert_eq!(one["metadata"]["error"], "********0123 unreachable");
    assert_eq!(one["metadata"]["delivery"], json!({"to": ["+** **** **0123"], "raw": "********0123"}));
    assert_eq!(one["metadata"]["campaign"], "Spring", "the rest as stored");
    // The number in another event is that event's own text.
    let (_, other) = s.get(&format!("/v1/tenants/sms/events/{}", seq + 1), &reader).await;
    assert_eq!(other["description"], "Order 447700900123 is not a phone here");
    // The console's activity remarks, event page and SMS log of a manager.
    for page in ["/console/activity?range=all", &format!("/console/events/{seq}"), "/console/logs/sms?range=all"] {
        let html = console_page(&s, &manager_url, page).await;
        let html = html.replace("Order 447700900123 is not a phone here", "");
        assert!(!html.contains(CLEAR) && html.contains("0123"), "{page} shows the phone: {html}");
    }
    // Admins see every value as stored, the leaf included.
    for token in [&admin, OPERATOR] {
        let (_, one) = s.get(&format!("/v1/tenants/sms/events/{seq}"), token).await;
        assert_eq!(one["description"], "SMS \"Spring\" to +447700900123 failed: 44 7700 900123 unreachable");
        assert_eq!(one["metadata"]["delivery"]["raw"], 447700900123_u64);
        let (_, csv) = s.get("/v1/tenants/sms/export?format=csv&range=all", token).await;
        assert!(text(&csv).contains("+447700900123 failed"), "{csv}");
        let (st, leaf) = s.get(&format!("/v1/tenants/sms/events/{seq}/leaf"), token).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(leaf["metadata"]["phone"], "+447700900123");
    }
}

#[tokio::test]
async fn a_basic_plan_withholds_link_visitor_detail_from_every_route() {
    let s = TestServer::start().await;
    let (st, b) = s.post("/v1/tenants", OPERATOR, &json!({"id": "small", "plan": "basic"})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let link = json!([{"type": "link", "id": "l1", "name": "Pack"}, {"type": "file", "id": "f1", "name": "q1.pdf"}]);
    let r = s
        .ingest(
            "small",
            json!([
                {"action": "link.created", "actor": {"id": "u_1", "email": "owner@small.example"}, "targets": link},
                {"action": "link.viewed", "actor": {"id": "visitor@client.example", "email": "visitor@client.example", "name": "Vera Visitor"},
                 "description": "q1.pdf viewed by Visitor@Client.example (Vera Visitor) from 203.0.113.77",
                 "targets": link, "context": {"ip": "203.0.113.77", "session_id": "sess-abc-1", "location": {"country": "GB", "city": "Cambridge"}},
                 "metadata": {"visitor": {"email": "visitor@client.example", "seen_from": ["203.0.113.77"]}, "note": "Cambridge office"}},
            ]),
        )
        .await;
    let seq = r["events"][1]["seq"].as_u64().unwrap();
    let secrets =
        ["visitor@client.example", "Visitor@Client", "Vera Visitor", "203.0.113.77", "Cambridge", "sess-abc-1"];
    let hidden = |what: &str, shown: &str| {
        for secret in secrets {
            assert!(!shown.contains(secret), "{what} shows {secret}: {shown}");
        }
    };
    let admin = s.key("small", &["admin"]).await;
    let reader = s.key("small", &["read"]).await;
    for token in [OPERATOR, admin.as_str(), reader.as_str()] {
        for path in [
            "/v1/tenants/small/events?range=all".to_owned(),
            format!("/v1/tenants/small/events/{seq}"),
            "/v1/tenants/small/views/activity?range=all".into(),
            "/v1/tenants/small/views/link-access?range=all".into(),
            "/v1/tenants/small/links/l1/access-log?range=all".into(),
            "/v1/tenants/small/export?format=csv&range=all".into(),
            "/v1/tenants/small/export?format=csv&range=all&action=link.*".into(),
            // A basic plan exports CSV only.
            "/v1/tenants/small/reports/users?range=all".into(),
        ] {
            let (st, body) = s.get(&path, token).await;
            assert_eq!(st, StatusCode::OK, "{path}: {body}");
            hidden(&path, &text(&body));
        }
        hidden("the stream", &streamed(&s, "small", token, 2).await);
        let refused = s.get(&format!("/v1/tenants/small/events/{seq}/leaf"), token).await;
        assert_error(&refused, StatusCode::FORBIDDEN, "leaf_withheld", None);
        assert!(refused.1["error"]["message"].as_str().unwrap().contains("plan"), "{}", refused.1);
    }
    let (_, one) = s.get(&format!("/v1/tenants/small/events/{seq}"), &reader).await;
    assert_eq!(one["description"], "q1.pdf viewed by [withheld] ([withheld]) from [withheld]");
    assert_eq!(one["actor"]["id"], "[withheld]");
    assert_eq!(one["metadata"]["note"], "[withheld] office");
    assert_eq!(one["targets"], link, "what is not the visitor's is shown");
    // On a plan with link detail everything shows, the leaf included.
    s.patch("/v1/tenants/small", OPERATOR, &json!({"plan": "business"})).await;
    let (_, one) = s.get(&format!("/v1/tenants/small/events/{seq}"), &reader).await;
    assert_eq!(one["description"], "q1.pdf viewed by Visitor@Client.example (Vera Visitor) from 203.0.113.77");
    let (st, leaf) = s.get(&format!("/v1/tenants/small/events/{seq}/leaf"), &reader).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(leaf["context"]["location"]["city"], "Cambridge");
}
