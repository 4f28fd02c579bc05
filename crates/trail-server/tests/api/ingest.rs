//! `POST /v1/tenants/{t}/events`: shapes, limits, idempotency, all or nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn object_array_and_ndjson() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let b = s.ingest("acme", json!({"action": "document.signed", "id": "e1"})).await;
    assert_eq!(
        b,
        json!({"accepted": 1, "duplicates": 0, "events": [{"index": 0, "seq": 1, "id": "e1", "duplicate": false}], "tree_size": 1})
    );
    let b = s.ingest("acme", json!([{"action": "a.b"}, {"action": "c.d"}])).await;
    assert_eq!(b["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 3]);
    let nd = b"{\"action\":\"n.one\"}\n{\"action\":\"n.two\"}\n".to_vec();
    let (st, b) = s.post_raw("/v1/tenants/acme/events", OPERATOR, "application/x-ndjson", nd).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!((b["accepted"].as_u64(), b["tree_size"].as_u64()), (Some(2), Some(5)));
    let stored = s.all_events("acme").await;
    let actions: Vec<&str> = stored.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["n.two", "n.one", "c.d", "a.b", "document.signed"]);
}

#[tokio::test]
async fn the_stored_event_is_the_sent_one_with_defaults_filled() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let sent = json!({
        "id": "evt_01J9Z7", "occurred_at": "2026-11-22T10:15:30.120Z", "action": "document.signed",
        "actor": {"id": "u_42", "name": "Asha Rao", "email": "asha@acme.example"},
        "targets": [{"type": "document", "id": "doc_9", "name": "NDA 2026.pdf"}],
        "description": "Asha Rao signed NDA 2026.pdf",
        "context": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "session_id": "s_77", "url": "/documents/doc_9/sign",
                    "method": "POST", "status": 200, "location": {"country": "IN", "region": "Karnataka", "city": "Bengaluru"}},
        "metadata": {"invitee": "b.khan@acme.example", "sign_type": "aadhaar"}
    });
    s.ingest("acme", sent.clone()).await;
    let (st, e) = s.get("/v1/tenants/acme/events/1", OPERATOR).await;
    assert_eq!(st, StatusCode::OK, "{e}");
    assert_eq!((e["tenant"].as_str(), e["seq"].as_u64()), (Some("acme"), Some(1)));
    assert_eq!(e["category"], "document");
    assert_eq!(e["outcome"], "success");
    assert_eq!(e["report_type"], "Document signed");
    assert_eq!(e["actor"]["type"], "user");
    assert!(e["received_at"].as_str().unwrap().ends_with('Z'));
    for k in ["id", "occurred_at", "action", "targets", "description", "metadata"] {
        assert_eq!(e[k], sent[k], "{k}");
    }
    // The context as sent, plus the client parsed from the user agent at ingest.
    let mut context = e["context"].clone();
    assert_eq!(context["client"]["device"], "other", "{context}");
    context.as_object_mut().unwrap().remove("client");
    assert_eq!(context, sent["context"]);
    assert_eq!(e["actor"]["email"], sent["actor"]["email"]);
    // Missing occurred_at defaults to the receipt time.
    s.ingest("acme", json!({"action": "x"})).await;
    let (_, e2) = s.get("/v1/tenants/acme/events/2", OPERATOR).await;
    assert_eq!(e2["occurred_at"], e2["received_at"]);
    assert_error(&s.get("/v1/tenants/acme/events/3", OPERATOR).await, StatusCode::NOT_FOUND, "not_found", None);
    assert_error(
        &s.get("/v1/tenants/acme/events/abc", OPERATOR).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        Some("seq"),
    );
}

#[tokio::test]
async fn duplicates_and_conflicts() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.ingest("acme", json!({"id": "evt_1", "action": "a.b", "description": "first"})).await;
    let b =
        s.ingest("acme", json!([{"action": "other"}, {"description": "first", "action": "a.b", "id": "evt_1"}])).await;
    assert_eq!(b["events"][1], json!({"index": 1, "seq": 1, "id": "evt_1", "duplicate": true}));
    assert_eq!((b["duplicates"].as_u64(), b["tree_size"].as_u64()), (Some(1), Some(2)));
    let got = s
        .post(
            "/v1/tenants/acme/events",
            OPERATOR,
            &json!([{"action": "new"}, {"action": "new"}, {"id": "evt_1", "action": "a.b", "description": "changed"}]),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "conflict", Some("events[2].id"));
    assert_eq!(s.event_count("acme").await, 2, "nothing of a conflicting batch is stored");
}

#[tokio::test]
async fn limits_are_413_and_store_nothing() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let many: Value = (0..10_001).map(|_| json!({"action": "a"})).collect::<Vec<_>>().into();
    let got = s.post("/v1/tenants/acme/events", OPERATOR, &many).await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "too_many_events", None);
    let max: Value = (0..10_000).map(|_| json!({"action": "a"})).collect::<Vec<_>>().into();
    assert_eq!(s.post("/v1/tenants/acme/events", OPERATOR, &max).await.0, StatusCode::CREATED);
    // 16 MiB and one byte: a valid array padded with whitespace.
    let mut huge = b"[{\"action\":\"a\"}".to_vec();
    huge.resize(16 * 1024 * 1024, b' ');
    huge.extend_from_slice(b"]");
    let got = s.post_raw("/v1/tenants/acme/events", OPERATOR, "application/json", huge).await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", None);
    // Far beyond: refused by the transport limit, with the same answer.
    let mut huger = b"[{\"action\":\"a\"}".to_vec();
    huger.resize(20 * 1024 * 1024, b' ');
    huger.extend_from_slice(b"]");
    let got = s.post_raw("/v1/tenants/acme/events", OPERATOR, "application/json", huger).await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", None);
    assert_eq!(s.event_count("acme").await, 10_000);
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    for (ct, body) in [
        ("application/json", &b"{\"action\": "[..]),
        ("application/json", b"[{\"action\":\"a\"}, 42]"),
        ("application/json", b"\"just a string\""),
        ("application/json", b""),
        ("application/x-ndjson", b"{\"action\":\"a\"}\nnot json\n"),
        ("application/json", b"\xff\xfe"),
    ] {
        let got = s.post_raw("/v1/tenants/acme/events", OPERATOR, ct, body.to_vec()).await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{:?}: {}", String::from_utf8_lossy(body), got.1);
    }
    assert_eq!(s.event_count("acme").await, 0);
}
