//! `/v1/tenants`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn create_list_get_patch() {
    let s = TestServer::start().await;
    let (st, t) = s
        .post(
            "/v1/tenants",
            OPERATOR,
            &json!({"id": "acme", "name": "Acme", "plan": "basic", "time_zone": "Asia/Kolkata"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!(
        (t["id"].as_str(), t["plan"].as_str(), t["time_zone"].as_str()),
        (Some("acme"), Some("basic"), Some("Asia/Kolkata"))
    );
    assert_eq!(t["event_count"], 0);
    let (st, t2) = s.post("/v1/tenants", OPERATOR, &json!({"id": "beta"})).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(
        (t2["name"].as_str(), t2["plan"].as_str(), t2["time_zone"].as_str()),
        (Some("beta"), Some("enterprise"), Some("UTC"))
    );
    let (_, list) = s.get("/v1/tenants", OPERATOR).await;
    assert_eq!(list["tenants"].as_array().unwrap().len(), 2);
    let (st, patched) = s
        .patch(
            "/v1/tenants/acme",
            OPERATOR,
            &json!({"name": "Acme Ltd", "plan": "business", "settings": {"ip_truncation": true}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{patched}");
    assert_eq!((patched["name"].as_str(), patched["plan"].as_str()), (Some("Acme Ltd"), Some("business")));
    assert_eq!(s.get("/v1/tenants/acme", OPERATOR).await.1, patched);
}

#[tokio::test]
async fn bad_tenants_are_refused_with_the_field() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    assert_error(
        &s.post("/v1/tenants", OPERATOR, &json!({"id": "acme"})).await,
        StatusCode::CONFLICT,
        "already_exists",
        None,
    );
    assert_error(
        &s.post("/v1/tenants", OPERATOR, &json!({"id": "Bad Id"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_id",
        Some("id"),
    );
    assert_error(
        &s.post("/v1/tenants", OPERATOR, &json!({"id": "x", "plan": "gold"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_plan",
        Some("plan"),
    );
    assert_error(
        &s.post("/v1/tenants", OPERATOR, &json!({"id": "x", "time_zone": "Mars/Olympus"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_time_zone",
        Some("time_zone"),
    );
    assert_error(
        &s.post("/v1/tenants", OPERATOR, &json!({"id": "x", "colour": "red"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        None,
    );
    assert_error(
        &s.post_raw("/v1/tenants", OPERATOR, "application/json", b"{oops".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "malformed_json",
        None,
    );
    assert_error(
        &s.patch("/v1/tenants/acme", OPERATOR, &json!({"time_zone": "nowhere"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_time_zone",
        Some("time_zone"),
    );
    assert_error(
        &s.patch("/v1/tenants/ghost", OPERATOR, &json!({"name": "x"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    let (_, list) = s.get("/v1/tenants", OPERATOR).await;
    assert_eq!(list["tenants"].as_array().unwrap().len(), 1, "nothing was created by the refused requests");
}
