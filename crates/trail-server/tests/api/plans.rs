//! Plans and privacy at ingest: exports gated by plan with a 403 that names the plan
//! needed, link access logs with dates only on plans without link detail (through the API's
//! every route and every export), and per-tenant IP truncation before storage and hashing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn tenant_on(s: &TestServer, id: &str, plan: &str) {
    let (st, b) = s.post("/v1/tenants", OPERATOR, &json!({"id": id, "plan": plan})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
}

#[tokio::test]
async fn exports_are_gated_by_plan_and_the_refusal_names_the_plan_needed() {
    let s = TestServer::start().await;
    tenant_on(&s, "small", "basic").await;
    tenant_on(&s, "mid", "professional").await;
    for t in ["small", "mid"] {
        s.ingest(t, json!({"action": "document.signed"})).await;
    }
    assert_eq!(s.get("/v1/tenants/small/export?format=csv", OPERATOR).await.0, StatusCode::OK);
    let refused = s.get("/v1/tenants/small/export?format=xlsx", OPERATOR).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "plan_required", Some("format"));
    let message = refused.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("basic") && message.contains("professional"), "{message}");
    assert_eq!(s.get("/v1/tenants/mid/export?format=pdf", OPERATOR).await.0, StatusCode::OK);
    let refused = s.get("/v1/tenants/mid/export?format=docx", OPERATOR).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "plan_required", Some("format"));
    assert!(refused.1["error"]["message"].as_str().unwrap().contains("business"));
    // Nothing was recorded for a refused export.
    assert!(s.events("small", "action=trail.logs.exported&range=all").await.len() == 1);
    // The operator moves the tenant up a plan: the format opens.
    let (st, _) = s.patch("/v1/tenants/small", OPERATOR, &json!({"plan": "business"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(s.get("/v1/tenants/small/export?format=docx", OPERATOR).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_basic_plan_link_access_log_shows_dates_only_everywhere() {
    let s = TestServer::start().await;
    tenant_on(&s, "small", "basic").await;
    let link = json!([{"type": "link", "id": "l1", "name": "Pack"}, {"type": "file", "id": "f1", "name": "q1.pdf"}]);
    s.ingest(
        "small",
        json!([
            {"action": "link.created", "occurred_at": "2026-03-01T10:00:00Z", "actor": {"id": "u_1"}, "targets": link},
            {"action": "link.viewed", "occurred_at": "2026-03-02T10:00:00Z", "actor": {"email": "visitor@client.example", "name": "Vera Visitor"},
             "targets": link, "context": {"ip": "203.0.113.77", "session_id": "sess-1", "location": {"country": "GB", "city": "London"},
             "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}},
        ]),
    )
    .await;
    let secrets = ["visitor@client.example", "Vera Visitor", "203.0.113.77", "London", "Windows", "Chrome", "sess-1"];
    let hidden = |what: &str, text: &str| {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} shows {secret}: {text}");
        }
    };
    let (_, log) = s.get("/v1/tenants/small/links/l1/access-log?range=all", OPERATOR).await;
    assert_eq!(log["rows"].as_array().unwrap().len(), 1);
    assert_eq!(log["rows"][0]["event"], "Viewed");
    assert!(log["rows"][0]["timestamp"].as_str().unwrap().starts_with("2026-03-02"));
    hidden("the access log", &log.to_string());
    let (_, csv) = s.get("/v1/tenants/small/links/l1/access-log?range=all&format=csv", OPERATOR).await;
    let csv = csv.as_str().unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("2026-03-02"));
    hidden("the access log CSV", csv);
    for path in [
        "/v1/tenants/small/events?range=all",
        "/v1/tenants/small/events/2",
        "/v1/tenants/small/views/link-access?range=all",
        "/v1/tenants/small/views/activity?range=all",
    ] {
        let (st, body) = s.get(path, OPERATOR).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        hidden(path, &body.to_string());
    }
    for view in ["activity", "link-access"] {
        let (_, csv) = s.get(&format!("/v1/tenants/small/export?format=csv&range=all&view={view}"), OPERATOR).await;
        hidden(view, csv.as_str().unwrap());
    }
    // The stored event is whole: on a plan with link detail it all shows again.
    s.patch("/v1/tenants/small", OPERATOR, &json!({"plan": "business"})).await;
    let (_, log) = s.get("/v1/tenants/small/links/l1/access-log?range=all", OPERATOR).await;
    assert_eq!(log["rows"][0]["email"], "visitor@client.example");
    assert_eq!(log["rows"][0]["ipAddress"], "203.0.113.77");
    let (_, ndjson) = s.get("/v1/tenants/small/export?format=ndjson&range=all&view=link-access", OPERATOR).await;
    assert!(ndjson.to_string().contains("203.0.113.77"), "{ndjson}");
    s.patch("/v1/tenants/small", OPERATOR, &json!({"plan": "basic"})).await;
    let (_, events) = s.get("/v1/tenants/small/events?action=link.viewed&range=all", OPERATOR).await;
    hidden("events after going back to basic", &events.to_string());
}

#[tokio::test]
async fn ip_truncation_happens_before_storage_and_hashing() {
    let s = TestServer::start().await;
    s.tenant("private").await;
    let (st, b) = s.patch("/v1/tenants/private", OPERATOR, &json!({"settings": {"ip_truncation": true}})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["settings"]["ip_truncation"], true);
    assert_error(
        &s.patch("/v1/tenants/private", OPERATOR, &json!({"settings": {"ip_truncation": "yes"}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_setting",
        Some("settings.ip_truncation"),
    );
    assert_error(
        &s.patch("/v1/tenants/private", OPERATOR, &json!({"settings": {"ip_trunc": true}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_setting",
        Some("settings.ip_trunc"),
    );
    let r = s
        .ingest(
            "private",
            json!([
                {"action": "auth.login.succeeded", "actor": {"id": "u_1"}, "context": {"ip": "203.0.113.77"}},
                {"action": "auth.login.succeeded", "actor": {"id": "u_2"}, "context": {"ip": "2001:db8:85a3:8d3:1319:8a2e:370:7348"}},
            ]),
        )
        .await;
    let seq = r["events"][0]["seq"].as_u64().unwrap();
    let events = s.events("private", "range=all&action=auth.*").await;
    let ips: Vec<&str> = events.iter().map(|e| e["context"]["ip"].as_str().unwrap()).collect();
    assert_eq!(ips, ["2001:db8:85a3::", "203.0.113.0"]);
    // The leaf commits to the truncated address: its proof verifies, and the full one appears
    // nowhere in what is served.
    let (_, leaf) = s.get(&format!("/v1/tenants/private/events/{seq}/leaf"), OPERATOR).await;
    let leaf_text = leaf.to_string();
    assert!(!leaf_text.contains("203.0.113.77"));
    let (_, report) = s.get("/v1/tenants/private/reports/logins?range=all", OPERATOR).await;
    assert!(!report.to_string().contains("203.0.113.77") && report.to_string().contains("203.0.113.0"));
    // The leaf commits to the address as stored: verify recomputes every commitment from the
    // stored (truncated) value and finds the tree agrees.
    for r in s.verify().await {
        assert_eq!(r.problem, None, "{}", r.tenant);
    }
    // Addresses sent before the setting was turned on stay as they were.
    s.tenant("open").await;
    s.ingest("open", json!({"action": "auth.logout", "context": {"ip": "198.51.100.9"}})).await;
    assert_eq!(s.events("open", "range=all").await[0]["context"]["ip"], "198.51.100.9");
}
