//! Who may do what; cross-tenant access is a 404.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn requests_without_a_valid_key_are_401() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    assert_eq!(s.send_without_auth("/v1/tenants/acme/events").await, StatusCode::UNAUTHORIZED);
    assert_error(
        &s.get("/v1/tenants/acme/events", "trail_key_nonsense").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
    let token = s.key("acme", &["read"]).await;
    let (_, keys) = s.get("/v1/tenants/acme/keys", OPERATOR).await;
    let id = keys["keys"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.get("/v1/tenants/acme/events", &token).await.0, StatusCode::OK);
    assert_eq!(s.delete(&format!("/v1/tenants/acme/keys/{id}"), OPERATOR).await.0, StatusCode::OK);
    let got = s.get("/v1/tenants/acme/events", &token).await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "unauthorized", None);
    assert!(got.1["error"]["message"].as_str().unwrap().contains("revoked"));
}

#[tokio::test]
async fn a_key_of_another_tenant_gets_404_everywhere() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.tenant("beta").await;
    s.ingest("beta", json!({"action": "secret.thing"})).await;
    let acme_admin = s.key("acme", &["admin"]).await;
    let not_found = |got: (StatusCode, serde_json::Value)| {
        assert_error(&got, StatusCode::NOT_FOUND, "not_found", None);
        // The answer is the same as for a tenant that does not exist.
        assert!(got.1["error"]["message"].as_str().unwrap().contains("tenant beta"), "{}", got.1);
    };
    not_found(s.get("/v1/tenants/beta", &acme_admin).await);
    not_found(s.get("/v1/tenants/beta/events", &acme_admin).await);
    not_found(s.get("/v1/tenants/beta/events/1", &acme_admin).await);
    not_found(s.post("/v1/tenants/beta/events", &acme_admin, &json!({"action": "x"})).await);
    not_found(s.get("/v1/tenants/beta/keys", &acme_admin).await);
    not_found(s.post("/v1/tenants/beta/keys", &acme_admin, &json!({"name": "x", "scopes": ["admin"]})).await);
    not_found(s.patch("/v1/tenants/beta", &acme_admin, &json!({"name": "pwned"})).await);
    // A tenant that does not exist answers alike.
    let ghost = s.get("/v1/tenants/ghost/events", &acme_admin).await;
    assert_error(&ghost, StatusCode::NOT_FOUND, "not_found", None);
    assert_eq!(s.event_count("beta").await, 1);
}

#[tokio::test]
async fn scopes_limit_what_a_key_does() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let ingest = s.key("acme", &["ingest"]).await;
    let read = s.key("acme", &["read"]).await;
    let admin = s.key("acme", &["admin"]).await;
    assert_eq!(s.post("/v1/tenants/acme/events", &ingest, &json!({"action": "a"})).await.0, StatusCode::CREATED);
    assert_error(&s.get("/v1/tenants/acme/events", &ingest).await, StatusCode::FORBIDDEN, "forbidden", None);
    assert_error(
        &s.post("/v1/tenants/acme/events", &read, &json!({"action": "a"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    assert_eq!(
        s.get("/v1/tenants/acme/events?range=all&action=a", &read).await.1["events"].as_array().unwrap().len(),
        1
    );
    assert_error(&s.get("/v1/tenants/acme/keys", &read).await, StatusCode::FORBIDDEN, "forbidden", None);
    // admin includes read and ingest.
    assert_eq!(s.post("/v1/tenants/acme/events", &admin, &json!({"action": "a"})).await.0, StatusCode::CREATED);
    assert_eq!(s.get("/v1/tenants/acme/events", &admin).await.0, StatusCode::OK);
    assert_eq!(s.get("/v1/tenants/acme/keys", &admin).await.0, StatusCode::OK);
    // Operator-only routes.
    assert_error(&s.get("/v1/tenants", &admin).await, StatusCode::FORBIDDEN, "forbidden", None);
    assert_error(&s.post("/v1/tenants", &admin, &json!({"id": "new"})).await, StatusCode::FORBIDDEN, "forbidden", None);
    assert_error(
        &s.patch("/v1/tenants/acme", &admin, &json!({"plan": "basic"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    assert_eq!(s.patch("/v1/tenants/acme", &admin, &json!({"name": "Acme Ltd"})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn keys_are_shown_once_and_stored_hashed() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let (st, created) =
        s.post("/v1/tenants/acme/keys", OPERATOR, &json!({"name": "ci", "scopes": ["ingest", "read"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("trail_key_"));
    let (_, list) = s.get("/v1/tenants/acme/keys", OPERATOR).await;
    assert_eq!(list["keys"][0]["id"], created["id"]);
    assert_eq!(list["keys"][0]["scopes"], json!(["ingest", "read"]));
    assert!(!list.to_string().contains(token), "the token is never listed");
    assert!(list["keys"][0].get("token").is_none());
    let bad = s.post("/v1/tenants/acme/keys", OPERATOR, &json!({"name": "x", "scopes": ["write"]})).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_scopes", Some("scopes[0]"));
    let none = s.post("/v1/tenants/acme/keys", OPERATOR, &json!({"name": "x", "scopes": []})).await;
    assert_error(&none, StatusCode::UNPROCESSABLE_ENTITY, "invalid_scopes", Some("scopes"));
    assert_error(&s.delete("/v1/tenants/acme/keys/key_nope", OPERATOR).await, StatusCode::NOT_FOUND, "not_found", None);
}

#[tokio::test]
async fn health_readiness_and_metrics_need_no_key() {
    let s = TestServer::start().await;
    assert_eq!(s.send_without_auth("/healthz").await, StatusCode::OK);
    assert_eq!(s.send_without_auth("/readyz").await, StatusCode::OK);
    s.tenant("acme").await;
    s.ingest("acme", json!([{"action": "a"}, {"action": "b"}])).await;
    let text = s.client.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("trail_events_stored_total 2"), "{text}");
    let (st, b) = s.get("/v1/nothing-here", OPERATOR).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
}

#[tokio::test]
async fn creating_and_revoking_keys_is_logged_once() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let admin = s.key("acme", &["admin"]).await;
    let (st, k) = s.post("/v1/tenants/acme/keys", &admin, &json!({"name": "ci", "scopes": ["ingest"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    let id = k["id"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(s.delete(&format!("/v1/tenants/acme/keys/{id}"), &admin).await.0, StatusCode::OK);
    }
    let logged = s.events("acme", "range=all&action=trail.key.*").await;
    let actions: Vec<&str> = logged.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["trail.key.revoked", "trail.key.created", "trail.key.created"], "revoked once");
    assert_eq!(logged[0]["metadata"]["key_id"], id);
    assert_eq!(logged[1]["actor"]["type"], "api_key", "made with the admin key");
    assert!(!logged.iter().any(|e| e.to_string().contains("trail_key_")), "no token is ever logged");
}
