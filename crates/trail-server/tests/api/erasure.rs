//! Erasure: after `POST /v1/tenants/{t}/erasure`, no trace of the person's e-mail,
//! name or IP address is left anywhere in the data directory (every file, SQLite's WAL
//! included), the events read `[erased]`, and the tree still verifies, with proofs issued
//! before the erasure still valid.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::*,
    integrity::{b64, wait_for_checkpoint},
};

const EMAIL: &str = "asha.rao@acme.example";
const NAME: &str = "Asha Rao";
const IP: &str = "198.51.100.77";

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_leaves_no_trace_and_the_tree_still_verifies() {
    let s = TestServer::start().await;
    s.tenant("acme").await;
    let asha = json!({"id": "u_42", "name": NAME, "email": EMAIL});
    let mut first = vec![
        json!({"action": "auth.login.succeeded", "actor": asha, "context": {"ip": IP, "location": {"country": "IN", "city": "Bengaluru"}}}),
        json!({"action": "document.signed", "actor": asha, "description": format!("{NAME} signed NDA 2026.pdf"), "context": {"ip": IP}}),
        json!({"action": "file.uploaded", "actor": asha, "metadata": {"size_bytes": 1000}, "context": {"ip": IP}}),
        json!({"action": "link.created", "actor": {"email": EMAIL}, "targets": [{"type": "link", "id": "l1"}]}),
        json!({"action": "document.reviewed", "actor": {"id": "u_7", "name": "Ben Okafor"}, "description": format!("Reviewed the contract {NAME} signed")}),
        json!({"action": "message.sent", "actor": {"id": "u_7", "name": "Ben Okafor"}, "description": format!("Sent to {EMAIL}")}),
    ];
    // Enough other traffic for the compression dictionary to be trained from these records.
    first.extend((0..2500).map(|i| json!({"action": "panel.request", "actor": {"id": format!("u_{}", 100 + i % 20), "name": format!("Person {i}")},
        "description": format!("opened page {i}"), "context": {"ip": "203.0.113.9", "url": format!("/p/{i}"), "method": "GET", "status": 200}})));
    let r = s.ingest("acme", Value::Array(first)).await;
    let seq_of = |i: usize| r["events"][i]["seq"].as_u64().unwrap();
    s.ingest("acme", json!([{"action": "auth.logout", "actor": asha, "context": {"ip": IP}}])).await;
    // The store's files are searched only where they are ours (SQLite); on PostgreSQL the
    // answers are checked, and docs/postgres.md says what vacuuming leaves (WAL, backups).
    for needle in [EMAIL, NAME, IP].into_iter().filter(|_| s.store_is_in_dir()) {
        assert!(!files_containing(s.dir(), needle).is_empty(), "before erasure, {needle} is on disk");
    }
    let size = r["tree_size"].as_u64().unwrap() + 1;
    let cp = wait_for_checkpoint(&s, "acme", size).await;
    let signed = seq_of(1);
    let leaf_url = s.url(&format!("/v1/tenants/acme/events/{signed}/leaf"));
    let leaf_before = s.client.get(&leaf_url).bearer_auth(OPERATOR).send().await.unwrap().bytes().await.unwrap();
    let (_, proof) = s.get(&format!("/v1/tenants/acme/events/{signed}/proof"), OPERATOR).await;

    // Who may ask, and how.
    let reader = s.key("acme", &["read"]).await;
    assert_eq!(
        s.post("/v1/tenants/acme/erasure", &reader, &json!({"actor_id": "u_42"})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_error(
        &s.post("/v1/tenants/acme/erasure", OPERATOR, &json!({"actor_id": "u_42", "email": EMAIL})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_erasure",
        None,
    );
    assert_eq!(
        s.post("/v1/tenants/acme/erasure", OPERATOR, &json!({"actor_id": "u_nobody"})).await.0,
        StatusCode::NOT_FOUND
    );

    let (st, done) = s.post("/v1/tenants/acme/erasure", OPERATOR, &json!({"actor_id": "u_42"})).await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["events"], 5, "{done}");
    assert_eq!(done["remarks"], 2, "{done}");

    // The events read as erased; other people's remarks that named her lose their text only.
    let (_, e) = s.get(&format!("/v1/tenants/acme/events/{signed}"), OPERATOR).await;
    assert_eq!(e["actor"]["email"], "[erased]");
    assert_eq!(e["actor"]["name"], "[erased]");
    assert_eq!(e["actor"]["id"], "u_42");
    assert_eq!(e["description"], "[erased]");
    assert!(e["context"].get("ip").is_none(), "{e}");
    assert_eq!(e["erased"].as_array().unwrap().len(), 4, "{e}");
    let (_, review) = s.get(&format!("/v1/tenants/acme/events/{}", seq_of(4)), OPERATOR).await;
    assert_eq!(review["description"], "[erased]");
    assert_eq!(review["actor"]["name"], "Ben Okafor");
    assert_eq!(review["erased"], json!(["description"]));
    let (_, other) = s.get(&format!("/v1/tenants/acme/events/{}", seq_of(10)), OPERATOR).await;
    assert_eq!(other["description"], "opened page 4");
    // Gone from the reports too.
    for report in ["users", "logins", "usage"] {
        let (_, rows) = s.get(&format!("/v1/tenants/acme/reports/{report}?range=all&limit=1000"), OPERATOR).await;
        assert!(!rows.to_string().contains("u_42") && !rows.to_string().contains(EMAIL), "{report}");
    }

    // No trace on disk, in any file.
    for needle in [EMAIL, NAME, IP].into_iter().filter(|_| s.store_is_in_dir()) {
        assert_eq!(files_containing(s.dir(), needle), Vec::<String>::new(), "{needle} is still on disk");
    }

    // The erasure is logged, without what it erased.
    let logged = s.events("acme", "action=trail.erasure.completed&range=all").await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0]["metadata"]["actor_ids"], json!(["u_42"]));
    assert!(!logged[0].to_string().contains(EMAIL) && !logged[0].to_string().contains(NAME));

    // The leaf is what it was, the old proof still holds, and the whole log verifies.
    let leaf_after = s.client.get(&leaf_url).bearer_auth(OPERATOR).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(leaf_after, leaf_before);
    let path: Vec<Vec<u8>> = proof["proof"].as_array().unwrap().iter().map(b64).collect();
    trail_core::merkle::verify_inclusion(
        signed - 1,
        size,
        &trail_core::merkle::leaf_hash(&leaf_after),
        &path,
        &b64(&cp["root_hash"]),
    )
    .expect("the proof issued before the erasure verifies");
    for r in s.verify().await {
        assert_eq!(r.problem, None, "{}", r.tenant);
    }
    // By e-mail: nothing left to find for her, so a 404.
    assert_eq!(s.post("/v1/tenants/acme/erasure", OPERATOR, &json!({"email": EMAIL})).await.0, StatusCode::NOT_FOUND);
}
