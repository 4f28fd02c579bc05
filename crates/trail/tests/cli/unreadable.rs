//! One stored event that cannot be decoded (damaged on disk, or written under rules since
//! tightened) leaves every list answering: `trail query`, the events list and its pages, and
//! the NDJSON and CSV exports each show a row saying that the event at its seq cannot be read.
//!
//! Regression: one such event made the events list, the views, the console's Activity page and
//! `trail query` answer 500, and the NDJSON export end mid-body, while it was in range.

use std::{io::Write, path::Path, process::Command};

use serde_json::Value;

use crate::helpers::serve;

const OPERATOR: &str = "trail_op_unreadable-test-operator-key-1";
const BAD: u64 = 10;

fn trail(data: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_trail"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("TRAIL_OPERATOR_KEY")
        .env("TRAIL_LOG", "warn")
        .output()
        .expect("run trail");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "trail {args:?} failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_undecodable_event_leaves_every_list_answering() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trail(d, &["tenant", "create", "acme"]);
    let file = d.join("events.ndjson");
    let mut f = std::fs::File::create(&file).unwrap();
    for i in 1..=30 {
        writeln!(f, r#"{{"action":"file.uploaded","actor":{{"id":"u{}"}},"description":"upload {i}"}}"#, i % 3)
            .unwrap();
    }
    drop(f);
    assert!(trail(d, &["ingest", "--tenant", "acme", file.to_str().unwrap()]).contains("Stored 30 events"));
    trail_store_sqlite::tamper::garble_event(d, "acme", BAD).unwrap();

    // This process indexes the log anew (the index was the ingesting process's), and the
    // damaged event is indexed as its placeholder: dated 1970 (its record holds no time), and
    // with its own action. So the lists that show it here are the ones over all time.
    let lines = trail(d, &["query", "--tenant", "acme", "--all", "--limit", "7", "--range", "all"]);
    let events: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!((1..=30).all(|s| seqs.contains(&s)), "{lines}");
    let placeholder = events.iter().find(|e| e["seq"] == BAD).expect("the damaged event's row");
    assert_eq!(placeholder["action"], "trail.event.unreadable");
    assert!(placeholder["description"].as_str().unwrap().contains(&format!("seq {BAD}")));

    let s = serve(d, &[], &[("TRAIL_OPERATOR_KEY", OPERATOR)]).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", s.base);
        async move {
            let r = http.get(url).bearer_auth(OPERATOR).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };
    // The list, a page at a time.
    let mut seqs = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value =
            serde_json::from_str(&get(format!("/v1/tenants/acme/events?range=all&limit=4{cursor}")).await).unwrap();
        seqs.extend(page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert!((1..=30).all(|s| seqs.contains(&s)), "{seqs:?}");
    let one: Value = serde_json::from_str(&get(format!("/v1/tenants/acme/events/{BAD}")).await).unwrap();
    assert_eq!(one["action"], "trail.event.unreadable");
    // The exports hold every row, the placeholder's included, to the end.
    let ndjson = get("/v1/tenants/acme/export?format=ndjson&range=all".into()).await;
    let rows: Vec<Value> = ndjson.lines().map(|l| serde_json::from_str(l).expect("a whole NDJSON line")).collect();
    assert_eq!(rows.iter().filter(|r| r.to_string().contains("upload ")).count(), 29, "{ndjson}");
    assert!(ndjson.contains(&format!("seq {BAD}")), "{ndjson}");
    let csv = get("/v1/tenants/acme/export?format=csv&range=all".into()).await;
    assert!(csv.contains(&format!("seq {BAD}")), "{csv}");
    assert_eq!(csv.lines().filter(|l| l.contains("upload ")).count(), 29, "every other row is there: {csv}");
}
