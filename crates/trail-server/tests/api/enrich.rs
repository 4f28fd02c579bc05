//! Enrichment at ingest: location from the configured GeoIP database unless the
//! client gave one, the client from the user agent, frozen with the event and hashed into its
//! leaf like everything else.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn geoip_test_db() -> std::path::PathBuf {
    let p = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/geoip/GeoIP2-City-Test.mmdb"
    ));
    assert!(p.exists(), "{} is missing: the shared data folder sits beside the repository", p.display());
    p
}

#[tokio::test]
async fn ingest_locates_addresses_and_parses_user_agents() {
    let s = TestServer::start_with(Some(&geoip_test_db())).await;
    s.tenant("acme").await;
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53";
    let r = s
        .ingest("acme", json!([
            {"action": "auth.login.succeeded", "context": {"ip": "2001:480:10::1", "user_agent": iphone}},
            {"action": "auth.login.succeeded", "context": {"ip": "81.2.69.142", "location": {"country": "IN", "city": "Bengaluru"}}},
            {"action": "auth.login.failed", "context": {"ip": "10.0.0.1"}}
        ]))
        .await;
    let seq = |i: usize| r["events"][i]["seq"].as_u64().unwrap();
    let (st, e) = s.get(&format!("/v1/tenants/acme/events/{}", seq(0)), OPERATOR).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        e["context"]["location"],
        json!({"country": "US", "country_name": "United States", "region": "California", "city": "San Diego"})
    );
    assert_eq!(e["context"]["client"], json!({"os": "iOS 7.1", "browser": "Mobile Safari 7", "device": "mobile"}));
    // The client's own location wins, whole.
    let (_, given) = s.get(&format!("/v1/tenants/acme/events/{}", seq(1)), OPERATOR).await;
    assert_eq!(given["context"]["location"], json!({"country": "IN", "city": "Bengaluru"}));
    // A private address has no location.
    let (_, private) = s.get(&format!("/v1/tenants/acme/events/{}", seq(2)), OPERATOR).await;
    assert!(private["context"].get("location").is_none(), "{private}");
    // The enrichment is filterable and part of the leaf.
    let us = s.events("acme", "range=all&country=US").await;
    assert_eq!(us.iter().map(|e| e["seq"].as_u64().unwrap()).collect::<Vec<_>>(), [seq(0)]);
    let leaf = s
        .client
        .get(s.url(&format!("/v1/tenants/acme/events/{}/leaf", seq(0))))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap();
    let leaf = leaf.text().await.unwrap();
    assert!(leaf.contains("San Diego") && leaf.contains("Mobile Safari 7"), "{leaf}");
}
