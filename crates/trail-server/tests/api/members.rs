//! Members, viewer tokens, and what each role may see.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn members_are_added_listed_changed_and_removed_with_their_rules() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let path = "/v1/tenants/acme/members";
    let (st, m) = s
        .post(path, OPERATOR, &json!({"email": "asha@acme.example", "name": "Asha", "role": "owner", "password": "correct horse battery"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    assert!(m["id"].as_str().unwrap().starts_with("mem_"));
    assert!(m.get("password").is_none() && m.get("password_hash").is_none(), "never returned: {m}");
    assert_error(
        &s.post(
            path,
            OPERATOR,
            &json!({"email": "b@acme.example", "name": "B", "role": "manager", "password": "short"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_password",
        Some("password"),
    );
    assert_error(
        &s.post(
            path,
            OPERATOR,
            &json!({"email": "nope", "name": "B", "role": "manager", "password": "long enough password"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_email",
        Some("email"),
    );
    assert_error(
        &s.post(
            path,
            OPERATOR,
            &json!({"email": "b@acme.example", "name": "B", "role": "king", "password": "long enough password"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_role",
        Some("role"),
    );
    assert_error(
        &s.post(
            path,
            OPERATOR,
            &json!({"email": "ASHA@acme.example", "name": "A2", "role": "manager", "password": "long enough password"}),
        )
        .await,
        StatusCode::CONFLICT,
        "already_exists",
        None,
    );
    // An admin key adds managers but not owners.
    let admin = s.key("acme", &["admin"]).await;
    let (st, bo) = s
        .post(path, &admin, &json!({"email": "bo@acme.example", "name": "Bo", "role": "member", "password": "long enough password", "actor_id": "u_bo"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{bo}");
    assert_error(
        &s.post(
            path,
            &admin,
            &json!({"email": "c@acme.example", "name": "C", "role": "owner", "password": "long enough password"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    let reader = s.key("acme", &["read"]).await;
    assert_error(&s.get(path, &reader).await, StatusCode::FORBIDDEN, "forbidden", None);
    let (_, list) = s.get(path, &admin).await;
    assert_eq!(list["members"].as_array().unwrap().len(), 2);

    let bo_path = format!("{path}/{}", bo["id"].as_str().unwrap());
    let (st, changed) = s.patch(&bo_path, &admin, &json!({"role": "manager", "actor_id": null})).await;
    assert_eq!(st, StatusCode::OK, "{changed}");
    assert_eq!(changed["role"], "manager");
    assert!(changed.get("actor_id").is_none());
    let asha_path = format!("{path}/{}", m["id"].as_str().unwrap());
    assert_error(&s.delete(&asha_path, &admin).await, StatusCode::FORBIDDEN, "forbidden", None);
    assert_eq!(s.delete(&bo_path, &admin).await.0, StatusCode::NO_CONTENT);
    assert_error(&s.delete(&bo_path, &admin).await, StatusCode::NOT_FOUND, "not_found", None);

    // Each change is in the tenant's log.
    let actions: Vec<String> = s
        .events("acme", "range=all&action=trail.member.*")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["trail.member.removed", "trail.member.changed", "trail.member.added", "trail.member.added"]);
}

async fn viewer(s: &TestServer, body: Value) -> String {
    let (st, b) = s.post("/v1/tenants/acme/viewer-tokens", OPERATOR, &body).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert!(b["url"].as_str().unwrap().starts_with("/console/viewer?token=trail_vt_"));
    b["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_member_sees_only_their_own_events_everywhere() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    s.tenant("beta").await;
    s.ingest(
        "acme",
        json!([
            {"action": "document.signed", "actor": {"id": "u_bo", "email": "bo@acme.example"}},
            {"action": "document.signed", "actor": {"id": "u_asha"}},
            {"action": "file.uploaded", "actor": {"id": "u_bo"}},
            {"action": "file.uploaded", "actor": {"email": "u_bo"}},
        ]),
    )
    .await;
    let bo = viewer(&s, json!({"role": "member", "actor_id": "u_bo", "name": "Bo"})).await;
    let (st, page) = s.get("/v1/tenants/acme/events?range=all", &bo).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let seqs: Vec<u64> = page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 1], "only actor.id u_bo: not an e-mail that happens to read u_bo");
    // Asking for someone else's events through filters still shows only their own.
    let (_, other) = s.get("/v1/tenants/acme/events?range=all&actor=u_asha", &bo).await;
    assert!(other["events"].as_array().unwrap().is_empty());
    assert_eq!(s.get("/v1/tenants/acme/events/1", &bo).await.0, StatusCode::OK);
    for path in ["/v1/tenants/acme/events/2", "/v1/tenants/acme/events/2/proof", "/v1/tenants/acme/events/2/leaf"] {
        assert_error(&s.get(path, &bo).await, StatusCode::NOT_FOUND, "not_found", None);
    }
    let (_, csv) = s.get("/v1/tenants/acme/export?format=csv&range=all", &bo).await;
    assert_eq!(csv.as_str().unwrap().lines().count(), 3, "header and two rows: {csv}");
    let (_, timeline) = s.get("/v1/tenants/acme/reports/timeline?range=last_7_days", &bo).await;
    let counted: u64 = timeline["rows"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, 3, "their two events and the record of their own export");
    // Another tenant, ingesting, administering: not for a viewer.
    assert_error(&s.get("/v1/tenants/beta/events", &bo).await, StatusCode::NOT_FOUND, "not_found", None);
    assert_error(
        &s.post("/v1/tenants/acme/events", &bo, &json!({"action": "x.y"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
    );
    assert_error(&s.get("/v1/tenants/acme/members", &bo).await, StatusCode::FORBIDDEN, "forbidden", None);

    // A manager's token sees everything; tokens are checked.
    let manager = viewer(&s, json!({"role": "manager"})).await;
    let (_, all) = s.get("/v1/tenants/acme/events?range=all", &manager).await;
    let all = all["events"].as_array().unwrap();
    assert_eq!(all.len(), 5, "the four events and the record of Bo's export");
    assert_eq!(all[0]["action"], "trail.logs.exported");
    assert_eq!(all[0]["actor"], json!({"id": "u_bo", "name": "Bo", "type": "user"}));
    let mut forged = manager.clone();
    forged.pop();
    assert_error(&s.get("/v1/tenants/acme/events", &forged).await, StatusCode::UNAUTHORIZED, "unauthorized", None);
    assert_error(
        &s.post("/v1/tenants/acme/viewer-tokens", OPERATOR, &json!({"role": "member"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_actor_id",
        Some("actor_id"),
    );
    assert_error(
        &s.post("/v1/tenants/acme/viewer-tokens", OPERATOR, &json!({"role": "manager", "ttl_s": 7200})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_ttl",
        Some("ttl_s"),
    );
}

/// Regression: a viewer token with role admin (stateless, unrevocable for up to an hour) could
/// create a permanent admin API key, add an owner or mint more viewer tokens. Viewer tokens are
/// for viewing, whatever their role.
#[tokio::test]
async fn an_admin_viewer_token_cannot_manage_keys_members_or_settings() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let admin = viewer(&s, json!({"role": "admin", "actor_id": "u_admin", "name": "Ada"})).await;
    let (st, m) = s
        .post(
            "/v1/tenants/acme/members",
            OPERATOR,
            &json!({"email": "bo@acme.example", "name": "Bo", "role": "manager", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let member = format!("/v1/tenants/acme/members/{}", m["id"].as_str().unwrap());
    let refused = [
        s.post("/v1/tenants/acme/keys", &admin, &json!({"name": "forever", "scopes": ["admin"]})).await,
        s.post(
            "/v1/tenants/acme/members",
            &admin,
            &json!({"email": "eve@acme.example", "name": "Eve", "role": "admin", "password": "correct horse battery"}),
        )
        .await,
        s.patch(&member, &admin, &json!({"role": "admin"})).await,
        s.delete(&member, &admin).await,
        s.post("/v1/tenants/acme/viewer-tokens", &admin, &json!({"role": "admin"})).await,
        s.patch("/v1/tenants/acme", &admin, &json!({"name": "Taken"})).await,
        s.post("/v1/tenants/acme/erasure", &admin, &json!({"actor_id": "u_1"})).await,
    ];
    for got in &refused {
        assert_error(got, StatusCode::FORBIDDEN, "forbidden", None);
        assert!(got.1["error"]["message"].as_str().unwrap().contains("viewer token is for viewing"), "{}", got.1);
    }
    // Nothing changed; what it may do (view) still works.
    let (_, keys) = s.get("/v1/tenants/acme/keys", OPERATOR).await;
    assert!(keys["keys"].as_array().unwrap().is_empty(), "{keys}");
    let (_, members) = s.get("/v1/tenants/acme/members", OPERATOR).await;
    assert_eq!(members["members"].as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members["members"][0]["role"], "manager");
    let (_, t) = s.get("/v1/tenants/acme", OPERATOR).await;
    assert_eq!(t["name"], "Tenant acme");
    assert_eq!(s.get("/v1/tenants/acme/events?range=all", &admin).await.0, StatusCode::OK);
    // An admin API key still manages (the rule is about viewer tokens, not the admin role).
    let key = s.key("acme", &["admin"]).await;
    assert_eq!(
        s.post("/v1/tenants/acme/viewer-tokens", &key, &json!({"role": "manager"})).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn sms_phones_show_whole_only_to_admins_on_every_route() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let r = s
        .ingest("acme", json!({"action": "sms.sent", "metadata": {"phone": "+44 7700 900123", "campaign": "c1"}}))
        .await;
    let seq = r["events"][0]["seq"].as_u64().unwrap();
    let reader = s.key("acme", &["read"]).await;
    let admin = s.key("acme", &["admin"]).await;
    let (_, one) = s.get(&format!("/v1/tenants/acme/events/{seq}"), &reader).await;
    assert_eq!(one["metadata"]["phone"], "+** **** **0123");
    let (_, page) = s.get("/v1/tenants/acme/events?range=all&action=sms.*", &reader).await;
    assert_eq!(page["events"][0]["metadata"]["phone"], "+** **** **0123");
    assert_eq!(page["events"][0]["metadata"]["campaign"], "c1", "only the phone");
    let (_, whole) = s.get(&format!("/v1/tenants/acme/events/{seq}"), &admin).await;
    assert_eq!(whole["metadata"]["phone"], "+44 7700 900123");
    let (_, op) = s.get("/v1/tenants/acme/events?range=all&action=sms.*", OPERATOR).await;
    assert_eq!(op["events"][0]["metadata"]["phone"], "+44 7700 900123");
    // The leaf is of the stored event: a reader's proof still verifies against the unmasked data.
    let (_, leaf_ok) =
        s.get(&format!("/v1/tenants/acme/events/{seq}/proof?tree_size={}", r["tree_size"]), &reader).await;
    assert_eq!(leaf_ok["leaf_hash"], one["leaf_hash"]);
}
