//! Tamper tests on PostgreSQL: a database written by a real server, copied for each change
//! (`CREATE DATABASE ... TEMPLATE`), changed in SQL the way someone with database access might,
//! and checked with `trail verify --database`, which exits 1 and names the first bad seq.

use std::process::Command;

use serde_json::json;
use tokio_postgres::NoTls;

use crate::helpers::{serve, wait_for_checkpoint};

const OPERATOR: &str = "trail_op_pg-tamper-operator-key-1";

/// Connects to a database of the test cluster.
async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

fn verify(url: &str, key: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trail"))
        .args(["verify", "--database", url])
        .env("TRAIL_SIGNING_KEY", key)
        .env("TRAIL_LOG", "warn")
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_change_to_a_postgres_log_is_found() {
    let Some(url) = trail_store_postgres::testing::fresh_database().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signing.key");
    // 1,200 events in three batches, each followed by a signed checkpoint.
    let mut s = serve(dir.path(), &["--database", &url], &[("TRAIL_OPERATOR_KEY", OPERATOR)]).await;
    let http = reqwest::Client::new();
    let r = http.post(format!("{}/v1/tenants", s.base)).bearer_auth(OPERATOR).json(&json!({"id": "acme"})).send().await;
    assert_eq!(r.unwrap().status(), 201);
    for b in 0..3 {
        let batch: Vec<serde_json::Value> = (0..400)
            .map(|i| {
                let n = b * 400 + i;
                let action = ["document.signed", "auth.login.failed", "file.uploaded"][n % 3];
                json!({"id": format!("e{n}"), "action": action,
                       "actor": {"id": format!("u{}", n % 7), "email": format!("p{}@x.example", n % 7)},
                       "description": format!("event number {n}"), "context": {"ip": format!("203.0.113.{}", n % 250)}})
            })
            .collect();
        let r = http.post(format!("{}/v1/tenants/acme/events", s.base)).bearer_auth(OPERATOR).json(&batch).send().await;
        assert_eq!(r.unwrap().status(), 201);
        wait_for_checkpoint(&s.base, OPERATOR, "acme", (b as u64 + 1) * 400).await;
    }
    s.child.start_kill().unwrap();
    s.child.wait().await.unwrap();
    let (ok, out) = verify(&url, &key);
    assert!(ok && out.contains("acme: 1200 events, 3 checkpoints: OK"), "{out}");

    let (base, pristine) = url.rsplit_once('/').unwrap();
    let admin = connect(&std::env::var(trail_store_postgres::testing::ENV).unwrap()).await;
    // Each change, and what verify must say about it.
    let cases: [(&str, &str, &[&str]); 5] = [
        ("a_changed_byte", "FIRST BAD SEQ 523", &[
            "UPDATE events SET body = set_byte(body, length(body) - 20, get_byte(body, length(body) - 20) # 1)
             WHERE tenant_id = 'acme' AND seq = 523",
        ]),
        ("a_deleted_event", "FIRST BAD SEQ 777", &["DELETE FROM events WHERE tenant_id = 'acme' AND seq = 777"]),
        ("two_swapped_events", "FIRST BAD SEQ 100", &[
            "UPDATE events e SET body = o.body FROM events o
             WHERE e.tenant_id = 'acme' AND o.tenant_id = 'acme' AND e.seq IN (100, 900) AND o.seq = 1000 - e.seq",
        ]),
        ("a_rewritten_checkpoint_root", "FIRST BAD SEQ 800", &[
            "UPDATE checkpoints SET root = decode(repeat('07', 32), 'hex'),
               note = regexp_replace(note, '^([^\\n]*\\n[^\\n]*\\n)[^\\n]*', '\\1' || encode(decode(repeat('07', 32), 'hex'), 'base64'))
             WHERE tenant_id = 'acme' AND size = 800",
        ]),
        // The last 200 events and their leaves gone, and the log said to be 1,000 long: a log
        // consistent with itself, but not with what was signed.
        ("a_truncated_log", "FIRST BAD SEQ 1001", &[
            "DELETE FROM events WHERE tenant_id = 'acme' AND seq > 1000",
            "UPDATE tenants SET next_seq = 1001 WHERE tenant_id = 'acme'",
            "UPDATE tree_tiles SET hashes = substring(hashes from 1 for (1000 - 768) * 32)
             WHERE tenant_id = 'acme' AND level = 0 AND idx = 3",
            "DELETE FROM tree_tiles WHERE tenant_id = 'acme' AND level = 0 AND idx > 3",
        ]),
    ];
    for (name, expected, statements) in cases {
        let copy = format!("{pristine}_{name}");
        admin.batch_execute(&format!("CREATE DATABASE {copy} TEMPLATE {pristine}")).await.unwrap();
        let copy_url = format!("{base}/{copy}");
        let c = connect(&copy_url).await;
        for sql in statements {
            let n = c.execute(*sql, &[]).await.unwrap_or_else(|e| panic!("{name}: {sql}: {e}"));
            assert!(n > 0, "{name}: {sql} changed nothing");
        }
        drop(c);
        let (ok, out) = verify(&copy_url, &key);
        assert!(!ok, "{name}: verify passed:\n{out}");
        assert!(out.contains(expected), "{name}: expected {expected}:\n{out}");
    }
}
