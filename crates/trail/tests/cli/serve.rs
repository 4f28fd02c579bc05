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

    // A second start keeps the data and the key. Regression: each `--demo` start made a new key,
    // so the one printed before stopped working, though the banner did not say so.
    let mut again = serve(dir.path(), &["--demo"], &[]).await;
    let text = again.banner.join("\n");
    assert!(text.contains("already present"), "{text}");
    let key2 = text.split_whitespace().find(|w| w.starts_with("trail_op_")).unwrap().to_owned();
    assert_eq!(key2, key, "the same demo key at the second start: {text}");
    assert!(text.contains("the same as at the last start"), "{text}");
    assert_eq!(get(&again.base, &key, "/v1/tenants/demo").await.0, 200, "the first start's key still works");
    again.child.start_kill().unwrap();
    again.child.wait().await.unwrap();

    // A later start without --demo accepts it too.
    let mut plain = serve(dir.path(), &[], &[]).await;
    assert_eq!(get(&plain.base, &key, "/v1/tenants/demo").await.0, 200);
    plain.child.start_kill().unwrap();
    plain.child.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_operator_key_gives_the_demo_a_new_key_and_says_the_old_one_is_dead() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = serve(dir.path(), &["--demo"], &[]).await;
    let text = s.banner.join("\n");
    let key = text.split_whitespace().find(|w| w.starts_with("trail_op_")).unwrap().to_owned();
    s.child.start_kill().unwrap();
    s.child.wait().await.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trail"))
        .args(["init", "--new-operator-key", "--data"])
        .arg(dir.path())
        .env_remove("TRAIL_OPERATOR_KEY")
        .output()
        .unwrap();
    assert!(out.status.success());

    let mut again = serve(dir.path(), &["--demo"], &[]).await;
    let text = again.banner.join("\n");
    let key2 = text.split_whitespace().find(|w| w.starts_with("trail_op_")).unwrap().to_owned();
    assert_ne!(key2, key);
    assert!(text.contains("the previous operator key no longer works"), "{text}");
    assert_eq!(get(&again.base, &key2, "/v1/tenants/demo").await.0, 200);
    again.child.start_kill().unwrap();
    again.child.wait().await.unwrap();
}

// Regression: the migration and dictionary log lines came before the banner, pushing the
// address and the operator key out of sight. Standard output and error share one pipe here, so
// the order is the order a terminal shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_banner_comes_before_the_start_up_log_lines() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", "exec \"$0\" \"$@\" 2>&1", env!("CARGO_BIN_EXE_trail"), "serve", "--demo"])
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .env_remove("TRAIL_OPERATOR_KEY")
        .env("TRAIL_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line.clone());
            if line.contains("applied sqlite migration") {
                return true;
            }
        }
        false
    })
    .await
    .expect("the migration is logged within 120 s");
    assert!(outcome, "no migration log line: {seen:#?}");
    let banner_at = seen.iter().position(|l| l.contains("listening on"));
    let migration_at = seen.len() - 1;
    assert!(banner_at.is_some_and(|b| b < migration_at), "the banner comes first: {seen:#?}");
    let key_at = seen.iter().position(|l| l.contains("trail_op_"));
    assert!(key_at.is_some_and(|k| k < migration_at), "the key comes before the log lines: {seen:#?}");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
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
