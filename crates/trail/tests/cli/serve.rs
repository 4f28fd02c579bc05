//! `trail serve`, as the README tells a new user to run it.

use serde_json::Value;

use crate::helpers::serve;

async fn get(base: &str, key: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(key).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_a_working_key_and_has_every_category() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = serve(dir.path(), &["--demo"], &[]).await;
    let text = s.banner.join("\n");
    let key = text
        .split_whitespace()
        .find(|w| w.starts_with("trail_op_"))
        .unwrap_or_else(|| panic!("no key in {text}"))
        .to_owned();
    assert!(text.contains("Demo tenant `demo` created"), "{text}");
    assert!(text.contains("curl"), "the banner says how to look: {text}");
    for category in ["auth", "panel", "api", "message", "sms", "link", "file", "document"] {
        let (status, body) = get(&s.base, &key, &format!("/v1/tenants/demo/events?category={category}&limit=1")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["events"].as_array().unwrap().len(), 1, "no {category} events in the last 30 days");
    }
    let (_, failed) = get(&s.base, &key, "/v1/tenants/demo/events?action=auth.login.failed&range=all&limit=1000").await;
    let abroad =
        failed["events"].as_array().unwrap().iter().filter(|e| e["context"]["location"]["country"] == "RU").count();
    assert!(abroad > 0, "failed logins from abroad");
    s.child.start_kill().unwrap();
    s.child.wait().await.unwrap();

    // A second start keeps the data and, with no configured key, prints a fresh working one.
    let mut again = serve(dir.path(), &["--demo"], &[]).await;
    let text = again.banner.join("\n");
    assert!(text.contains("already present"), "{text}");
    let key2 = text.split_whitespace().find(|w| w.starts_with("trail_op_")).unwrap().to_owned();
    assert_eq!(get(&again.base, &key2, "/v1/tenants/demo").await.0, 200);
    assert_eq!(get(&again.base, &key, "/v1/tenants/demo").await.0, 401, "the old demo key stopped working");
    again.child.start_kill().unwrap();
    again.child.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_operator_key_is_used_and_nothing_is_generated() {
    let dir = tempfile::tempdir().unwrap();
    let key = "trail_op_configured-by-environment-123";
    let mut s = serve(dir.path(), &[], &[("TRAIL_OPERATOR_KEY", key)]).await;
    let text = s.banner.join("\n");
    assert!(!text.contains("trail_op_"), "no key is printed: {text}");
    let (status, body) = get(&s.base, key, "/v1/tenants").await;
    assert_eq!(status, 200, "{body}");
    s.child.start_kill().unwrap();
    s.child.wait().await.unwrap();
}
