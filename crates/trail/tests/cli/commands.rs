//! The command line, run as a user would: the real binary on a temporary data directory.

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

use serde_json::Value;

/// Runs the `trail` binary on `data` (also used by the other command tests of this suite).
pub(crate) fn trail(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trail"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("TRAIL_OPERATOR_KEY")
        .env("TRAIL_LOG", "warn")
        .output()
        .expect("run trail")
}

pub(crate) fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

pub(crate) fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_prints_the_operator_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = ok(&trail(dir.path(), &["init"]));
    assert!(first.contains("trail_op_"), "{first}");
    let second = ok(&trail(dir.path(), &["init"]));
    assert!(!second.contains("trail_op_") && second.contains("already created"), "{second}");
    let rotated = ok(&trail(dir.path(), &["init", "--new-operator-key"]));
    assert!(rotated.contains("trail_op_"), "{rotated}");
    assert!(dir.path().join("trail.db").exists());
}

#[test]
fn tenants_keys_ingest_and_query() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&trail(d, &["tenant", "create", "acme", "--name", "Acme Ltd", "--time-zone", "Asia/Kolkata"]));
    let err = fails(&trail(d, &["tenant", "create", "acme"]));
    assert!(err.contains("already exists"), "{err}");
    let err = fails(&trail(d, &["tenant", "create", "x", "--plan", "gold"]));
    assert!(err.contains("plan \"gold\""), "{err}");
    let list = ok(&trail(d, &["tenant", "list"]));
    assert!(list.contains("acme") && list.contains("Asia/Kolkata"), "{list}");

    let key = ok(&trail(d, &["key", "create", "--tenant", "acme", "--name", "ci", "--scope", "ingest"]));
    assert!(key.contains("trail_key_"), "{key}");
    let keys = ok(&trail(d, &["key", "list", "--tenant", "acme"]));
    assert!(keys.contains("ingest") && !keys.contains("trail_key_"), "{keys}");
    let key_id = keys.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(ok(&trail(d, &["key", "revoke", "--tenant", "acme", &key_id])).contains("Revoked"));
    assert!(ok(&trail(d, &["key", "list", "--tenant", "acme"])).contains("revoked"));
    // Both are in the tenant's own log.
    let q = ok(&trail(d, &["query", "--tenant", "acme", "--action", "trail.key.*"]));
    assert!(q.contains("trail.key.created") && q.contains("trail.key.revoked"), "{q}");

    // A file with a bad line stores nothing and names the line.
    let bad = d.join("bad.ndjson");
    let mut f = std::fs::File::create(&bad).unwrap();
    for i in 0..1500 {
        writeln!(f, r#"{{"action":"file.uploaded","id":"e{i}","actor":{{"id":"u{}"}}}}"#, i % 3).unwrap();
    }
    writeln!(f, r#"{{"action":"file.uploaded","context":{{"ip":"not-an-ip"}}}}"#).unwrap();
    drop(f);
    let err = fails(&trail(d, &["ingest", "--tenant", "acme", bad.to_str().unwrap()]));
    assert!(err.contains("bad.ndjson:1501") && err.contains("context.ip"), "{err}");
    let show: Value = serde_json::from_str(&ok(&trail(d, &["tenant", "show", "acme"]))).unwrap();
    assert_eq!(show["event_count"], 2, "nothing stored from a file with a bad line (2: the key's events)");

    // NDJSON and a JSON array; ids make a second load a no-op.
    let good = d.join("good.ndjson");
    let mut f = std::fs::File::create(&good).unwrap();
    for i in 0..2500 {
        writeln!(f, r#"{{"action":"file.uploaded","id":"e{i}","actor":{{"id":"u{}"}}}}"#, i % 3).unwrap();
    }
    drop(f);
    let arr = d.join("more.json");
    std::fs::write(&arr, r#"[{"action":"document.signed","actor":{"id":"u9","name":"Asha Rao"}}, {"action":"auth.login.failed","outcome":"failure"}]"#).unwrap();
    let out = ok(&trail(d, &["ingest", "--tenant", "acme", good.to_str().unwrap(), arr.to_str().unwrap()]));
    assert!(out.contains("Stored 2502 events"), "{out}");
    let again = ok(&trail(d, &["ingest", "--tenant", "acme", good.to_str().unwrap()]));
    assert!(again.contains("Stored 0 events (2500 duplicates skipped)"), "{again}");

    // Standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_trail"))
        .args(["--data", d.to_str().unwrap(), "ingest", "--tenant", "acme", "-"])
        .env("TRAIL_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{\"action\":\"from.stdin\"}\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(ok(&out).contains("Stored 1 events"));

    // Query: JSON lines when piped, filters as in the API.
    let lines = ok(&trail(d, &["query", "--tenant", "acme", "--actor", "u1", "--all", "--limit", "100"]));
    let events: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 833);
    assert!(events.iter().all(|e| e["actor"]["id"] == "u1" && e["tenant"] == "acme"));
    let failed = ok(&trail(d, &["query", "--tenant", "acme", "--outcome", "failure"]));
    assert_eq!(failed.lines().count(), 1);
    assert!(failed.contains("auth.login.failed"));
    let prefix = ok(&trail(d, &["query", "--tenant", "acme", "--action", "document.*", "--range", "today"]));
    assert_eq!(prefix.lines().count(), 1);
    let found = ok(&trail(d, &["query", "--tenant", "acme", "-q", "asha -rejected", "--target", "nothing:here"]));
    assert_eq!(found.lines().count(), 0, "{found}");
    let found = ok(&trail(d, &["query", "--tenant", "acme", "-q", "asha", "--json"]));
    assert_eq!(found.lines().count(), 1, "{found}");
    assert!(found.contains("Asha Rao"));
    let err = fails(&trail(d, &["query", "--tenant", "acme", "-q", "\"unclosed"]));
    assert!(err.contains("--q") && err.contains("character 1"), "{err}");
    let err = fails(&trail(d, &["query", "--tenant", "acme", "--range", "week"]));
    assert!(err.contains("--range"), "{err}");
    let err = fails(&trail(d, &["query", "--tenant", "nobody"]));
    assert!(err.contains("trail tenant list"), "{err}");
}

#[test]
fn export_writes_the_file_and_records_itself() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&trail(d, &["tenant", "create", "acme", "--time-zone", "Asia/Kolkata"]));
    let events = d.join("events.ndjson");
    let mut f = std::fs::File::create(&events).unwrap();
    for i in 0..3000 {
        let action = if i % 2 == 0 { "document.signed" } else { "file.uploaded" };
        writeln!(
            f,
            r#"{{"action":"{action}","actor":{{"id":"u{}","name":"=cmd{i}"}},"description":"row {i}"}}"#,
            i % 3
        )
        .unwrap();
    }
    drop(f);
    ok(&trail(d, &["ingest", "--tenant", "acme", events.to_str().unwrap()]));

    let out = d.join("docs.csv");
    let run = trail(d, &["export", "--tenant", "acme", "-o", out.to_str().unwrap(), "--action", "document.*"]);
    ok(&run);
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(said.contains("1500 rows written to"), "{said}");
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1500);
    assert!(rows.iter().all(|r| r[4] == *"Document signed" && r[2].starts_with("'=cmd")));
    assert!(!d.join("docs.csv.partial").exists());

    // Without -o: the default file name, in the current directory; the format from --format.
    let run = Command::new(env!("CARGO_BIN_EXE_trail"))
        .current_dir(d)
        .args(["--data", d.to_str().unwrap(), "export", "--tenant", "acme", "--format", "ndjson", "--range", "all"])
        .env("TRAIL_LOG", "warn")
        .output()
        .unwrap();
    ok(&run);
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Asia/Kolkata").unwrap());
    let name = format!("trail-acme-activity-start-{}.ndjson", today.strftime("%Y-%m-%d"));
    let lines = std::fs::read_to_string(d.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(lines.lines().count(), 3001, "every event and the first export's record");

    // Both exports are in the log.
    let recorded = ok(&trail(d, &["query", "--tenant", "acme", "--action", "trail.logs.exported", "--json"]));
    let recorded: Vec<Value> = recorded.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1]["metadata"]["format"], "csv");
    assert_eq!(recorded[1]["metadata"]["rows"], 1500);
    assert_eq!(recorded[1]["metadata"]["filters"]["action"], "document.*");

    // Bad requests say what to do, and leave no file.
    let err = fails(&trail(d, &["export", "--tenant", "acme", "-o", d.join("x.txt").to_str().unwrap()]));
    assert!(err.contains("--format"), "{err}");
    let err = fails(&trail(d, &["export", "--tenant", "acme", "--format", "csv", "--view", "nope"]));
    assert!(err.contains("activity"), "{err}");
    assert!(!d.join("x.txt").exists());
}

#[test]
fn purge_removes_what_the_plan_no_longer_keeps_and_the_log_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&trail(d, &["tenant", "create", "small", "--plan", "basic"]));
    let now = jiff::Timestamp::now();
    let events = d.join("events.ndjson");
    let mut f = std::fs::File::create(&events).unwrap();
    for days in [1i64, 10, 29, 31, 60, 400] {
        let at = now - jiff::SignedDuration::from_hours(24 * days);
        writeln!(f, r#"{{"action":"document.signed","occurred_at":"{at}","description":"{days} days ago"}}"#).unwrap();
    }
    drop(f);
    ok(&trail(d, &["ingest", "--tenant", "small", events.to_str().unwrap()]));
    let out = ok(&trail(d, &["purge"]));
    assert!(out.contains("small: plan basic (keeps 30 days): removed 3 expired events"), "{out}");
    let left = ok(&trail(d, &["query", "--tenant", "small", "--range", "all", "--action", "document.signed"]));
    assert_eq!(left.lines().count(), 3, "{left}");
    assert!(left.contains("29 days ago") && !left.contains("31 days ago"), "{left}");
    let again = ok(&trail(d, &["purge", "--tenant", "small"]));
    assert!(again.contains("removed 0 expired events"), "{again}");
    let verified = ok(&trail(d, &["verify"]));
    assert!(verified.contains("small") && verified.contains("OK"), "{verified}");
    // A surviving event deleted behind Trail's back is still found: only purged ones may be absent.
    let c = rusqlite::Connection::open(d.join("trail.db")).unwrap();
    let tid: i64 = c.query_row("SELECT tid FROM tenants WHERE id = 'small'", [], |r| r.get(0)).unwrap();
    assert_eq!(c.execute("DELETE FROM events WHERE pos = ?1", [(tid << 40) | 1]).unwrap(), 1);
    drop(c);
    let out = trail(d, &["verify"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && text.contains("FIRST BAD SEQ 1"), "{text}");
}
