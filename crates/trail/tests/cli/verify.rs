//! Tamper tests: every kind of change to a real data directory is found by `trail verify`,
//! which exits 1 and names the first bad seq.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use base64::Engine;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use rusqlite::{Connection, params};
use serde_json::json;

use crate::helpers::{serve, wait_for_checkpoint};

pub(crate) const OPERATOR: &str = "trail_op_tamper-test-operator-key-1";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A data directory written by a real server: 1,200 events in three batches, each followed by
/// a signed checkpoint. Built once; each test works on a copy.
fn pristine() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Under the target directory, replaced on each run, so runs never pile up in /tmp.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tamper-pristine");
        let _ = std::fs::remove_dir_all(&dir);
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let mut s = serve(&dir, &[], &[("TRAIL_OPERATOR_KEY", OPERATOR)]).await;
            let http = reqwest::Client::new();
            let r = http.post(format!("{}/v1/tenants", s.base)).bearer_auth(OPERATOR).json(&json!({"id": "acme"})).send().await.unwrap();
            assert_eq!(r.status(), 201);
            for b in 0..3 {
                let batch: Vec<serde_json::Value> = (0..400)
                    .map(|i| {
                        let n = b * 400 + i;
                        let action = ["document.signed", "auth.login.failed", "file.uploaded"][n % 3];
                        json!({"id": format!("e{n}"), "action": action,
                               "actor": {"id": format!("u{}", n % 7), "name": format!("Person {}", n % 7), "email": format!("p{}@x.example", n % 7)},
                               "description": format!("event number {n}"), "targets": [{"type": "file", "id": format!("f{n}"), "name": "NDA.pdf"}],
                               "context": {"ip": format!("203.0.113.{}", n % 250), "user_agent": "Mozilla/5.0", "session_id": "s1"},
                               "metadata": {"n": n, "tag": "x"}})
                    })
                    .collect();
                let r = http.post(format!("{}/v1/tenants/acme/events", s.base)).bearer_auth(OPERATOR).json(&batch).send().await.unwrap();
                assert_eq!(r.status(), 201);
                wait_for_checkpoint(&s.base, OPERATOR, "acme", (b as u64 + 1) * 400).await;
            }
            s.child.start_kill().unwrap();
            s.child.wait().await.unwrap();
        });
        dir
    })
}

pub(crate) fn copy() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_dir(pristine(), d.path());
    d
}

pub(crate) fn verify(dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trail"))
        .arg("--data")
        .arg(dir)
        .arg("verify")
        .env("TRAIL_LOG", "warn")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(crate) fn db(dir: &Path) -> (Connection, i64) {
    let c = Connection::open(dir.join("trail.db")).unwrap();
    let tid: i64 = c.query_row("SELECT tid FROM tenants WHERE id = 'acme'", [], |r| r.get(0)).unwrap();
    (c, tid)
}

pub(crate) fn pos(tid: i64, seq: i64) -> i64 {
    (tid << 40) | seq
}

#[test]
fn an_untouched_directory_verifies() {
    let d = copy();
    let (ok, out) = verify(d.path());
    assert!(ok, "{out}");
    assert!(out.contains("acme: 1200 events, 3 checkpoints: OK"), "{out}");
}

fn verify_with(dir: &Path, public_key: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trail"))
        .arg("--data")
        .arg(dir)
        .args(["verify", "--public-key", public_key])
        .env("TRAIL_LOG", "warn")
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn checkpoints_are_checked_against_the_public_key_given() {
    let d = copy();
    let text = std::fs::read_to_string(d.path().join("signing.key")).unwrap();
    let seed: [u8; 32] = base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap().try_into().unwrap();
    let right = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let (ok, out) = verify_with(d.path(), &base64::engine::general_purpose::STANDARD.encode(right.as_bytes()));
    assert!(ok, "{out}");
    let note_form = trail_core::checkpoint::verifier_key("trail/any", &right);
    let (ok, out) = verify_with(d.path(), &note_form);
    assert!(ok, "{out}");
    // A key that signed none of the checkpoints is a wrong key, not a tampered log (it used
    // to read "FIRST BAD SEQ 400 ... no signature by ..."): its own exit code, and the key
    // that did sign named.
    let wrong = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
    let (code, out) =
        verify_code(d.path(), &["--public-key", &base64::engine::general_purpose::STANDARD.encode(wrong.as_bytes())]);
    assert_eq!(code, Some(3), "{out}");
    assert!(!out.contains("FIRST BAD SEQ"), "{out}");
    let (c, tid) = db(d.path());
    let note: String = c.query_row("SELECT note FROM checkpoints WHERE tid = ?1 LIMIT 1", [tid], |r| r.get(0)).unwrap();
    let name = note.split("\n\u{2014} ").nth(1).unwrap().rsplit_once(' ').unwrap().0.to_owned();
    let key_hash: String = trail_core::checkpoint::key_hash(&name, &right).iter().map(|b| format!("{b:02x}")).collect();
    assert!(out.contains("WRONG KEY") && out.contains(&format!("{name} (key hash {key_hash})")), "{out}");
}

/// `trail verify` with `args` on `dir`: its exit code and everything it printed.
pub(crate) fn verify_code(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trail"))
        .arg("--data")
        .arg(dir)
        .arg("verify")
        .args(args)
        .env("TRAIL_LOG", "warn")
        .output()
        .unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn one_changed_byte_of_an_event_is_found() {
    let d = copy();
    trail_store_sqlite::tamper::flip_content_byte(d.path(), "acme", 523, 61).unwrap();
    let (ok, out) = verify(d.path());
    assert!(!ok);
    assert!(out.contains("FIRST BAD SEQ 523"), "{out}");
}

#[test]
fn a_deleted_event_is_found() {
    let d = copy();
    let (c, tid) = db(d.path());
    assert_eq!(c.execute("DELETE FROM events WHERE pos = ?1", [pos(tid, 777)]).unwrap(), 1);
    drop(c);
    let (ok, out) = verify(d.path());
    assert!(!ok);
    assert!(out.contains("FIRST BAD SEQ 777") && out.contains("missing"), "{out}");
}

#[test]
fn two_swapped_events_are_found() {
    let d = copy();
    let (c, tid) = db(d.path());
    let a: Vec<u8> = c.query_row("SELECT body FROM events WHERE pos = ?1", [pos(tid, 100)], |r| r.get(0)).unwrap();
    let b: Vec<u8> = c.query_row("SELECT body FROM events WHERE pos = ?1", [pos(tid, 900)], |r| r.get(0)).unwrap();
    c.execute("UPDATE events SET body = ?1 WHERE pos = ?2", params![b, pos(tid, 100)]).unwrap();
    c.execute("UPDATE events SET body = ?1 WHERE pos = ?2", params![a, pos(tid, 900)]).unwrap();
    drop(c);
    let (ok, out) = verify(d.path());
    assert!(!ok);
    assert!(out.contains("FIRST BAD SEQ 100"), "{out}");
}

#[test]
fn a_rewritten_checkpoint_root_is_found() {
    let d = copy();
    let (c, tid) = db(d.path());
    let note: String =
        c.query_row("SELECT note FROM checkpoints WHERE tid = ?1 AND size = 800", [tid], |r| r.get(0)).unwrap();
    let forged_root = [7u8; 32];
    let b64 = base64::engine::general_purpose::STANDARD.encode(forged_root);
    let mut lines: Vec<&str> = note.split('\n').collect();
    lines[2] = &b64;
    let forged = lines.join("\n");
    c.execute(
        "UPDATE checkpoints SET note = ?1, root = ?2 WHERE tid = ?3 AND size = 800",
        params![forged, &forged_root[..], tid],
    )
    .unwrap();
    drop(c);
    let (ok, out) = verify(d.path());
    assert!(!ok);
    assert!(out.contains("FIRST BAD SEQ 800") && out.contains("does not verify"), "{out}");
}

#[test]
fn a_changed_node_of_the_stored_tree_is_found() {
    let d = copy();
    let (c, tid) = db(d.path());
    let mut nodes: Vec<u8> = c
        .query_row("SELECT hashes FROM tree_tiles WHERE tid = ?1 AND level = 1 AND idx = 0", [tid], |r| r.get(0))
        .unwrap();
    nodes[2 * 32 + 5] ^= 0x80; // the node over events 513..=768
    c.execute("UPDATE tree_tiles SET hashes = ?1 WHERE tid = ?2 AND level = 1 AND idx = 0", params![nodes, tid])
        .unwrap();
    drop(c);
    let (ok, out) = verify(d.path());
    assert!(!ok);
    assert!(out.contains("FIRST BAD SEQ 513") && out.contains("stored tree"), "{out}");
}

#[test]
fn a_truncated_log_is_found() {
    let d = copy();
    let (c, tid) = db(d.path());
    // Drop the last 200 events and their leaves, and say the log is 1,000 events long: a log
    // consistent with itself, but not with what was signed.
    c.execute("DELETE FROM events WHERE pos > ?1 AND pos <= ?2", params![pos(tid, 1000), pos(tid, 1 << 39)]).unwrap();
    c.execute("UPDATE tenants SET next_seq = 1001 WHERE tid = ?1", [tid]).unwrap();
    let last: Vec<u8> = c
        .query_row("SELECT hashes FROM tree_tiles WHERE tid = ?1 AND level = 0 AND idx = 3", [tid], |r| r.get(0))
        .unwrap();
    c.execute(
        "UPDATE tree_tiles SET hashes = ?1 WHERE tid = ?2 AND level = 0 AND idx = 3",
        params![&last[..(1000 - 768) * 32], tid],
    )
    .unwrap();
    c.execute("DELETE FROM tree_tiles WHERE tid = ?1 AND level = 0 AND idx > 3", [tid]).unwrap();
    drop(c);
    let (ok, out) = verify(d.path());
    assert!(!ok);
    assert!(out.contains("FIRST BAD SEQ 1001") && out.contains("missing"), "{out}");
}

#[test]
fn a_hundred_random_single_field_changes_are_all_found() {
    let d = copy();
    let key = {
        let text = std::fs::read_to_string(d.path().join("signing.key")).unwrap();
        let seed: [u8; 32] = base64::engine::general_purpose::STANDARD.decode(text.trim()).unwrap().try_into().unwrap();
        ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key()
    };
    let (c, tid) = db(d.path());
    let mut rng = StdRng::seed_from_u64(4);
    let fields = [
        "action",
        "description",
        "actor.name",
        "actor.email",
        "actor.id",
        "ip",
        "occurred_at",
        "received_at",
        "outcome",
        "category",
        "report_type",
        "metadata",
        "target.id",
        "target.name",
        "session",
        "user_agent",
    ];
    for round in 0..100 {
        let seq = rng.random_range(1..=1200u64);
        let field = *fields.choose(&mut rng).unwrap();
        let original: Vec<u8> =
            c.query_row("SELECT body FROM events WHERE pos = ?1", [pos(tid, seq as i64)], |r| r.get(0)).unwrap();
        trail_store_sqlite::tamper::rewrite_event(d.path(), "acme", seq, |e| {
            let ctx = e.context.as_mut().unwrap();
            let actor = e.actor.as_mut().unwrap();
            match field {
                "action" => e.action = trail_core::event::Action::parse("document.rejected").unwrap(),
                "description" => e.description = Some(format!("{} ", e.description.take().unwrap())),
                "actor.name" => actor.name = Some("Someone Else".into()),
                "actor.email" => actor.email = Some("else@x.example".into()),
                "actor.id" => actor.id = Some("u999".into()),
                "ip" => ctx.ip = Some("198.51.100.1".parse().unwrap()),
                "occurred_at" => e.occurred_at -= jiff::SignedDuration::from_secs(1),
                "received_at" => e.received_at += jiff::SignedDuration::from_micros(1),
                "outcome" => e.outcome = trail_core::event::Outcome::Failure,
                "category" => e.category = trail_core::event::Category::parse("other").unwrap(),
                "report_type" => e.report_type.push('!'),
                "metadata" => {
                    e.metadata.as_mut().unwrap().insert("n".into(), json!(-1));
                }
                "target.id" => e.targets[0].id = Some("f-forged".into()),
                "target.name" => e.targets[0].name = Some("Forged.pdf".into()),
                "session" => ctx.session_id = Some("s2".into()),
                _ => ctx.user_agent = Some("curl/8".into()),
            }
        })
        .unwrap();
        let reports =
            trail_store_sqlite::verify::verify(d.path(), Some("acme"), &key, &Default::default(), 2, &|_| {}).unwrap();
        let problem = reports[0]
            .problem
            .clone()
            .unwrap_or_else(|| panic!("round {round}: changing {field} of {seq} went unnoticed"));
        assert_eq!(problem.seq, seq, "round {round}: changing {field}: {}", problem.message);
        c.execute("UPDATE events SET body = ?1 WHERE pos = ?2", params![original, pos(tid, seq as i64)]).unwrap();
    }
    let reports =
        trail_store_sqlite::verify::verify(d.path(), Some("acme"), &key, &Default::default(), 2, &|_| {}).unwrap();
    assert!(reports[0].problem.is_none(), "restored: {:?}", reports[0].problem);
}
