//! A rewritten history is never signed, and never verifies against what was signed before.
//!
//! Regression tests for the server that signed a rewritten history: rewrite an event, rebuild
//! the stored tree, delete the checkpoints and start the server, and it signed a second,
//! different root for a tree size it had already signed, after which `trail verify` said OK.

use std::{path::Path, time::Duration};

use rusqlite::params;

use crate::{
    helpers::serve,
    verify::{OPERATOR, copy, db, pos, verify, verify_code},
};

/// The latest checkpoint's note, saved as an outside auditor would keep it.
fn save_latest_checkpoint(dir: &Path, to: &Path) -> u64 {
    let (c, tid) = db(dir);
    let (size, note): (i64, String) = c
        .query_row("SELECT size, note FROM checkpoints WHERE tid = ?1 ORDER BY size DESC LIMIT 1", [tid], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    std::fs::write(to, note).unwrap();
    size as u64
}

/// Rewrites event 10's description, rebuilds the tree over the rewritten events and deletes
/// every checkpoint: a log consistent with itself, signed by nobody.
fn rewrite_history(dir: &Path) {
    trail_store_sqlite::tamper::rewrite_event(dir, "acme", 10, |b| b.description = Some("nothing happened".into()))
        .unwrap();
    trail_store_sqlite::tamper::rebuild_tree(dir, "acme").unwrap();
    let (c, tid) = db(dir);
    c.execute("DELETE FROM checkpoints WHERE tid = ?1", [tid]).unwrap();
}

/// Cuts the log to 1,000 events, consistently (tree included), and deletes every checkpoint.
fn truncate_history(dir: &Path) {
    let (c, tid) = db(dir);
    c.execute("DELETE FROM events WHERE pos > ?1 AND pos <= ?2", params![pos(tid, 1000), pos(tid, 1 << 39)]).unwrap();
    c.execute("UPDATE tenants SET next_seq = 1001 WHERE tid = ?1", [tid]).unwrap();
    c.execute("DELETE FROM checkpoints WHERE tid = ?1", [tid]).unwrap();
    drop(c);
    trail_store_sqlite::tamper::rebuild_tree(dir, "acme").unwrap();
}

fn checkpoint_count(dir: &Path) -> i64 {
    let (c, tid) = db(dir);
    c.query_row("SELECT count(*) FROM checkpoints WHERE tid = ?1", [tid], |r| r.get(0)).unwrap()
}

/// Runs `f` on a runtime of its own (the tests are plain tests: the shared data directory is
/// built on a runtime of its own too, which cannot start inside another).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

/// Starts a server on `dir`, gives its signer a few passes, and stops it.
async fn restart_server(dir: &Path) {
    let mut s = serve(dir, &[], &[("TRAIL_OPERATOR_KEY", OPERATOR)]).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    s.child.start_kill().unwrap();
    s.child.wait().await.unwrap();
}

#[test]
fn a_rewritten_history_is_refused_by_the_server_and_by_verify() {
    let d = copy();
    let saved = tempfile::NamedTempFile::new().unwrap();
    assert_eq!(save_latest_checkpoint(d.path(), saved.path()), 1200);
    rewrite_history(d.path());

    // The server refuses to sign the rewritten tree: the journal beside its key remembers
    // the tree it signed.
    block_on(restart_server(d.path()));
    assert_eq!(checkpoint_count(d.path()), 0, "the server signed a rewritten history");

    // verify: the journal's checkpoints are not the tree the events make.
    let (ok, out) = verify(d.path());
    assert!(!ok);
    assert!(out.contains("FIRST BAD SEQ 400") && out.contains("checkpoint journal"), "{out}");

    // Without the journal (deleted too), a checkpoint saved elsewhere still finds it...
    std::fs::remove_file(d.path().join("checkpoints.log")).unwrap();
    let saved_arg = saved.path().to_str().unwrap();
    let (code, out) = verify_code(d.path(), &["--checkpoint", saved_arg]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FIRST BAD SEQ 1200") && out.contains("--checkpoint"), "{out}");
    // ...and with nothing signed at all, events older than the grace are not vouched for.
    let (code, out) = verify_code(d.path(), &["--unsigned-grace", "0"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FIRST BAD SEQ 1") && out.contains("no signed checkpoint"), "{out}");
}

#[test]
fn a_truncated_history_is_refused_by_the_server_and_by_verify() {
    let d = copy();
    let saved = tempfile::NamedTempFile::new().unwrap();
    save_latest_checkpoint(d.path(), saved.path());
    truncate_history(d.path());
    block_on(restart_server(d.path()));
    assert_eq!(checkpoint_count(d.path()), 0, "the server signed a truncated history");
    std::fs::remove_file(d.path().join("checkpoints.log")).unwrap();
    let (code, out) = verify_code(d.path(), &["--checkpoint", saved.path().to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FIRST BAD SEQ 1001") && out.contains("cut short"), "{out}");
}

#[test]
fn the_journal_and_the_table_must_agree() {
    // The journal's last entry alone missing from the table is what a crash between the two
    // writes leaves: that verifies, and a restart puts it back.
    let d = copy();
    let (c, tid) = db(d.path());
    c.execute("DELETE FROM checkpoints WHERE tid = ?1 AND size = 1200", [tid]).unwrap();
    drop(c);
    let (ok, out) = verify(d.path());
    assert!(ok, "{out}");
    block_on(restart_server(d.path()));
    assert_eq!(checkpoint_count(d.path()), 3);

    // Any other entry missing from the table means checkpoints were deleted.
    let (c, tid) = db(d.path());
    c.execute("DELETE FROM checkpoints WHERE tid = ?1 AND size = 400", [tid]).unwrap();
    drop(c);
    let (ok, out) = verify(d.path());
    assert!(!ok);
    assert!(out.contains("FIRST BAD SEQ 400") && out.contains("missing from the checkpoints table"), "{out}");
}

#[test]
fn an_intact_log_is_signed_again_after_a_restart() {
    // The journal does not stop an honest server: more events after a restart are signed.
    let d = copy();
    block_on(async {
        let mut s = serve(d.path(), &[], &[("TRAIL_OPERATOR_KEY", OPERATOR)]).await;
        let r = reqwest::Client::new()
            .post(format!("{}/v1/tenants/acme/events", s.base))
            .bearer_auth(OPERATOR)
            .json(&serde_json::json!({"action": "document.signed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        crate::helpers::wait_for_checkpoint(&s.base, OPERATOR, "acme", 1201).await;
        s.child.start_kill().unwrap();
        s.child.wait().await.unwrap();
    });
    let journal = trail_store::journal::read(&d.path().join("checkpoints.log")).unwrap();
    assert_eq!(journal.iter().map(|e| e.size).collect::<Vec<_>>(), vec![400, 800, 1200, 1201]);
    let (ok, out) = verify(d.path());
    assert!(ok, "{out}");
}
