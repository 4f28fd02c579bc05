//! A data directory written by the previous release (`testdata/datadir-v0`, made as
//! `testdata/README.md` says) opens with this one: it verifies, queries return exactly the
//! events they returned then, and its persisted formats are brought to the current versions
//! (index segments rewritten with a checksum, the dictionary given its header). Damage to either
//! is then found: a segment is indexed again, a dictionary stops Trail with what to do.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use rusqlite::Connection;
use serde_json::Value;

const SEGMENT: &str = "t00000001-000000000001-000000016384.seg";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/datadir-v0")
}

/// Copies the fixture's data directory with the modes Trail gives its own (git keeps none):
/// directories 0700, files 0600.
fn copy_private(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_private(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

fn trail(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trail"))
        .args(args)
        .env("TRAIL_DATA", data)
        .env("TRAIL_LOG", "warn")
        .env_remove("TRAIL_OPERATOR_KEY")
        .env_remove("TRAIL_CONFIG")
        .env_remove("TRAIL_DATABASE")
        .output()
        .expect("run trail")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lines(b: &[u8]) -> Vec<Value> {
    text(b).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// The events `trail query --range all --all --json` prints for `filters`.
fn query(data: &Path, tenant: &str, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["query", "--tenant", tenant, "--range", "all", "--all", "--json"];
    args.extend_from_slice(filters);
    let out = trail(data, &args);
    assert!(out.status.success(), "trail {args:?}: {}", text(&out.stderr));
    lines(&out.stdout)
}

fn expected(name: &str) -> Vec<Value> {
    lines(&std::fs::read(fixture().join("expected").join(name)).unwrap())
}

fn verify(data: &Path) -> Output {
    trail(data, &["verify", "--threads", "1"])
}

/// Checks every expected answer of the fixture against `data`.
fn answers_as_before(data: &Path) {
    assert_eq!(query(data, "beta", &[]), expected("beta-all.ndjson"));
    assert_eq!(
        query(data, "acme", &["--actor", "u7", "--action", "document.signed"]),
        expected("acme-u7-signed.ndjson")
    );
    assert_eq!(query(data, "acme", &["-q", "payroll", "--actor", "u3"]), expected("acme-payroll-u3.ndjson"));
    // Every event of acme, each once: ids a1..a17000 (testdata/datadir-v0/events.py).
    let all = query(data, "acme", &[]);
    let mut ids: Vec<String> = all.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    let mut want: Vec<String> = (1..=17000).map(|i| format!("a{i}")).collect();
    want.sort();
    assert_eq!(ids, want);
}

#[test]
fn a_data_directory_of_the_previous_release_opens_verifies_and_answers_as_it_did() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_private(&fixture().join("data"), &data);
    let segment = data.join("index").join(SEGMENT);
    assert_eq!(&std::fs::read(&segment).unwrap()[..8], b"TRLIDX01", "the fixture holds a version 1 segment");

    let out = verify(&data);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("acme: 17000 events, 1 checkpoints: OK"), "{report}");
    assert!(report.contains("beta: 40 events, 1 checkpoints: OK"), "{report}");

    answers_as_before(&data);

    // Opening brought the formats up to date.
    assert_eq!(&std::fs::read(&segment).unwrap()[..8], b"TRLIDX02", "the segment was rewritten");
    let conn = Connection::open(data.join("trail.db")).unwrap();
    let dict: Vec<u8> = conn.query_row("SELECT data FROM dictionaries WHERE id = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(&dict[..8], b"TRLDIC\x01\x00", "the dictionary has its header");
    drop(conn);
    // ... and the upgraded directory verifies and answers the same.
    let out = verify(&data);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    answers_as_before(&data);

    // A flipped byte in the segment: it is deleted, its events indexed again, answers unchanged.
    let mut bytes = std::fs::read(&segment).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&segment, &bytes).unwrap();
    let out = trail(&data, &["query", "--tenant", "beta", "--range", "all", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = text(&out.stderr);
    assert!(
        log.contains("unusable index segment") && log.contains(SEGMENT) && log.contains("checksum mismatch"),
        "{log}"
    );
    answers_as_before(&data);

    // A flipped byte in the dictionary: not derived data, so Trail stops and says what to do.
    let conn = Connection::open(data.join("trail.db")).unwrap();
    let mut dict: Vec<u8> = conn.query_row("SELECT data FROM dictionaries WHERE id = 1", [], |r| r.get(0)).unwrap();
    let at = dict.len() / 2;
    dict[at] ^= 0x20;
    conn.execute("UPDATE dictionaries SET data = ?1 WHERE id = 1", [&dict]).unwrap();
    drop(conn);
    for args in [&["verify"][..], &["query", "--tenant", "acme"][..]] {
        let out = trail(&data, args);
        assert!(!out.status.success(), "trail {args:?} refuses a damaged dictionary");
        let e = text(&out.stderr);
        assert!(e.contains("compression dictionary 1 in "), "trail {args:?}: {e}");
        assert!(e.contains("restore the data directory from a backup"), "trail {args:?}: {e}");
    }
}
