//! Retention by plan: events backdated by `occurred_at` show exactly which events each
//! plan keeps after a purge; link access events go 90 days after their link ended; the purge is
//! logged; `trail verify` passes afterwards, and inclusion proofs of surviving events issued
//! before the purge still verify against the checkpoint they were issued for.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::*,
    integrity::{b64, wait_for_checkpoint},
};

const AGES_DAYS: [i64; 8] = [1, 20, 40, 200, 400, 800, 1200, 2000];

fn ago(now: Timestamp, days: i64) -> String {
    (now - SignedDuration::from_hours(24 * days)).to_string()
}

/// The seqs of a tenant's events other than Trail's own.
async fn kept(s: &TestServer, t: &str) -> BTreeSet<u64> {
    s.events(t, "range=all&limit=1000")
        .await
        .iter()
        .filter(|e| !e["action"].as_str().unwrap().starts_with("trail."))
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_plan_keeps_exactly_its_retention_and_the_log_still_verifies() {
    let s = TestServer::start().await;
    let now = Timestamp::now();
    let mut expected = Vec::new();
    for (plan, keeps_days) in
        [("basic", Some(30)), ("professional", Some(365)), ("business", Some(3 * 365)), ("enterprise", None)]
    {
        let (st, b) = s.post("/v1/tenants", OPERATOR, &json!({"id": plan, "plan": plan})).await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
        let events: Vec<Value> = AGES_DAYS
            .iter()
            .map(|d| json!({"action": "document.signed", "occurred_at": ago(now, *d), "actor": {"id": format!("u_{d}"), "email": format!("u{d}@x.example")},
                            "description": format!("{d} days ago"), "context": {"ip": "203.0.113.5"}}))
            .collect();
        let r = s.ingest(plan, Value::Array(events)).await;
        let seqs: Vec<u64> = r["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        let keep: BTreeSet<u64> =
            AGES_DAYS.iter().zip(&seqs).filter(|(d, _)| keeps_days.is_none_or(|k| **d < k)).map(|(_, s)| *s).collect();
        expected.push((plan, keep, seqs));
    }
    // Proofs issued before the purge, for every event of the basic tenant.
    let cp = wait_for_checkpoint(&s, "basic", 8).await;
    let root = b64(&cp["root_hash"]);
    let mut proofs = Vec::new();
    for seq in 1..=8u64 {
        let (_, p) = s.get(&format!("/v1/tenants/basic/events/{seq}/proof"), OPERATOR).await;
        let leaf = s.client.get(s.url(&format!("/v1/tenants/basic/events/{seq}/leaf"))).bearer_auth(OPERATOR);
        let leaf = leaf.send().await.unwrap().bytes().await.unwrap().to_vec();
        let proof: Vec<Vec<u8>> = p["proof"].as_array().unwrap().iter().map(b64).collect();
        proofs.push((seq, leaf, proof));
    }
    let (_, before) = s.get("/v1/tenants/basic/reports/timeline?range=all", OPERATOR).await;
    let total_before: u64 = before["rows"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(total_before, 8);

    let results = trail_app::retention::purge_all(&s.app, &config(), Timestamp::now()).await;
    assert_eq!(results.len(), 4);
    for (plan, keep, seqs) in &expected {
        assert_eq!(&kept(&s, plan).await, keep, "{plan} keeps exactly its retention");
        let purged = seqs.len() - keep.len();
        let logged = s.events(plan, "action=trail.retention.purged&range=all").await;
        if purged == 0 {
            assert!(logged.is_empty(), "{plan}: nothing purged, nothing logged");
        } else {
            assert_eq!(logged.len(), 1, "{plan}");
            assert_eq!(logged[0]["metadata"]["expired"], purged as u64, "{plan}");
            assert_eq!(logged[0]["metadata"]["plan"], *plan);
        }
        // A purged event is gone from every route.
        for seq in seqs.iter().filter(|s| !keep.contains(s)) {
            assert_eq!(s.get(&format!("/v1/tenants/{plan}/events/{seq}"), OPERATOR).await.0, StatusCode::NOT_FOUND);
        }
    }
    // Counts leave purged events out; people with nothing left leave the reports.
    let (_, after) = s.get("/v1/tenants/basic/reports/timeline?range=all&action=document.signed", OPERATOR).await;
    let total_after: u64 = after["rows"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(total_after, 2);
    let (_, users) = s.get("/v1/tenants/basic/reports/users?range=all", OPERATOR).await;
    let people: BTreeSet<&str> =
        users["rows"].as_array().unwrap().iter().filter_map(|r| r["actor_id"].as_str()).collect();
    assert!(people.contains("u_1") && people.contains("u_20") && !people.contains("u_40"), "{people:?}");
    // Running it again removes nothing more.
    let again = trail_app::retention::purge_all(&s.app, &config(), Timestamp::now()).await;
    assert!(again.iter().all(|(_, r)| r.as_ref().unwrap().removed() == 0));

    // Proofs issued before the purge still verify against the checkpoint they were made for,
    // and the server still proves the surviving events.
    for (seq, leaf, proof) in &proofs {
        trail_core::merkle::verify_inclusion(seq - 1, 8, &trail_core::merkle::leaf_hash(leaf), proof, &root)
            .expect("an old proof still verifies");
    }
    let cp = wait_for_checkpoint(&s, "basic", 9).await;
    for seq in [7u64, 8] {
        let (st, p) = s.get(&format!("/v1/tenants/basic/events/{seq}/proof?tree_size=9"), OPERATOR).await;
        assert_eq!(st, StatusCode::OK, "{p}");
        let leaf = &proofs[(seq - 1) as usize].1;
        let proof: Vec<Vec<u8>> = p["proof"].as_array().unwrap().iter().map(b64).collect();
        trail_core::merkle::verify_inclusion(
            seq - 1,
            9,
            &trail_core::merkle::leaf_hash(leaf),
            &proof,
            &b64(&cp["root_hash"]),
        )
        .expect("a new proof verifies");
    }
    // The whole data directory verifies.
    for r in s.verify().await {
        assert_eq!(r.problem, None, "{}", r.tenant);
    }
}

#[tokio::test]
async fn link_access_events_go_90_days_after_their_link_ended() {
    let s = TestServer::start().await;
    s.tenant("share").await; // enterprise: events are kept forever, link access logs are not
    let now = Timestamp::now();
    let link = |id: &str| json!([{"type": "link", "id": id}]);
    s.ingest(
        "share",
        json!([
            {"action": "link.created", "occurred_at": ago(now, 200), "targets": link("old")},
            {"action": "link.viewed", "occurred_at": ago(now, 150), "targets": link("old"), "actor": {"email": "v@x.example"}},
            {"action": "link.saved", "occurred_at": ago(now, 140), "targets": link("old")},
            {"action": "link.revoked", "occurred_at": ago(now, 100), "targets": link("old")},
            {"action": "link.created", "occurred_at": ago(now, 50), "targets": link("recent")},
            {"action": "link.viewed", "occurred_at": ago(now, 40), "targets": link("recent")},
            {"action": "link.expired", "occurred_at": ago(now, 10), "targets": link("recent")},
            {"action": "link.created", "occurred_at": ago(now, 300), "targets": link("open")},
            {"action": "link.viewed", "occurred_at": ago(now, 299), "targets": link("open")},
        ]),
    )
    .await;
    let results = trail_app::retention::purge_all(&s.app, &config(), Timestamp::now()).await;
    let report = results[0].1.as_ref().unwrap();
    assert_eq!((report.expired, report.link_access), (0, 2));
    let actions: Vec<String> = s
        .events("share", "range=all&action=link.*")
        .await
        .iter()
        .map(|e| format!("{} {}", e["targets"][0]["id"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert!(!actions.iter().any(|a| a == "old link.viewed" || a == "old link.saved"), "{actions:?}");
    for kept in ["old link.revoked", "old link.created", "recent link.viewed", "open link.viewed"] {
        assert!(actions.iter().any(|a| a == kept), "{kept} kept: {actions:?}");
    }
    let (_, log) = s.get("/v1/tenants/share/links/old/access-log?range=all", OPERATOR).await;
    assert!(log["rows"].as_array().unwrap().is_empty());
    let logged = s.events("share", "action=trail.retention.purged&range=all").await;
    assert_eq!(logged[0]["metadata"]["link_access"], 2);
}
