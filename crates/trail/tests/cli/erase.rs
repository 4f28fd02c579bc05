//! `trail erase`: a person erased by e-mail (and so by the id their events carry), other
//! people's remarks naming them losing their text, everyone else intact, and `trail verify`
//! passing afterwards.

use std::{io::Write, path::Path, process::Output};

use serde_json::Value;

use super::commands::{ok, trail};

/// A failure with exit code 1 (what was asked cannot be done), its standard error.
fn fails(out: &Output) -> String {
    let stderr = super::commands::fails(out);
    assert_eq!(out.status.code(), Some(1));
    stderr
}

/// The tenant's events, oldest first, as `trail query` prints them when piped.
fn events(d: &Path, tenant: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["query", "--tenant", tenant, "--range", "all", "--all", "--limit", "1000"];
    args.extend(extra);
    let mut all: Vec<Value> = ok(&trail(d, &args)).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    all.reverse();
    all
}

#[test]
fn erase_then_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&trail(d, &["init"]));
    ok(&trail(d, &["tenant", "create", "acme"]));
    ok(&trail(d, &["tenant", "create", "beta"]));
    let file = d.join("events.ndjson");
    let mut f = std::fs::File::create(&file).unwrap();
    let asha = r#"{"id":"u_42","name":"Asha Rao","email":"asha@acme.example"}"#;
    let ben = r#"{"id":"u_7","name":"Ben Okafor"}"#;
    for line in [
        format!(r#"{{"action":"auth.login.succeeded","actor":{asha},"context":{{"ip":"198.51.100.77"}}}}"#),
        format!(r#"{{"action":"document.signed","actor":{asha},"description":"Asha Rao signed NDA.pdf"}}"#),
        r#"{"action":"link.created","actor":{"email":"asha@acme.example"},"targets":[{"type":"link","id":"l1"}]}"#
            .into(),
        r#"{"action":"file.uploaded","actor":{"id":"u_42"},"context":{"ip":"198.51.100.77"}}"#.into(),
        format!(r#"{{"action":"document.reviewed","actor":{ben},"description":"Reviewed what Asha Rao signed"}}"#),
        format!(r#"{{"action":"message.sent","actor":{ben},"description":"Sent to asha@acme.example"}}"#),
        format!(
            r#"{{"action":"document.signed","actor":{ben},"description":"Ben signed the lease","context":{{"ip":"203.0.113.9"}}}}"#
        ),
    ] {
        writeln!(f, "{line}").unwrap();
    }
    drop(f);
    ok(&trail(d, &["ingest", "--tenant", "acme", file.to_str().unwrap()]));
    ok(&trail(d, &["ingest", "--tenant", "beta", file.to_str().unwrap()]));

    // Who and where must be known.
    let err = fails(&trail(d, &["erase", "--tenant", "acme", "--email", "nobody@acme.example"]));
    assert!(err.contains("nobody@acme.example") && err.contains("nothing to erase"), "{err}");
    let err = fails(&trail(d, &["erase", "--tenant", "gamma", "--actor", "u_42"]));
    assert!(err.contains("no tenant \"gamma\""), "{err}");
    let out = trail(d, &["erase", "--tenant", "acme", "--actor", "u_42", "--email", "asha@acme.example"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses two people");

    let out = ok(&trail(d, &["erase", "--tenant", "acme", "--email", "asha@acme.example"]));
    assert!(out.contains("from 4 of their events and 2 remarks naming them"), "{out}");

    let all = events(d, "acme", &[]);
    let text = |v: &Value| v.to_string();
    assert_eq!(all.len(), 8, "the seven events and the erasure's own");
    for e in &all[..4] {
        assert!(!text(e).contains("Asha") && !text(e).contains("asha@") && !text(e).contains("198.51.100.77"), "{e}");
        assert_eq!(e["actor"]["email"].as_str().unwrap_or("[erased]"), "[erased]", "{e}");
    }
    assert_eq!(all[1]["actor"]["name"], "[erased]");
    assert_eq!(all[1]["description"], "[erased]");
    assert_eq!(all[3]["actor"]["id"], "u_42", "ids are kept");
    for e in &all[4..6] {
        assert_eq!((e["description"].as_str(), e["actor"]["name"].as_str()), (Some("[erased]"), Some("Ben Okafor")));
    }
    assert_eq!(all[6]["description"], "Ben signed the lease");
    assert!(all[6].get("erased").is_none_or(|v| v.as_array().unwrap().is_empty()), "{}", all[6]);
    assert_eq!(all[7]["action"], "trail.erasure.completed");
    assert_eq!(all[7]["metadata"]["actor_ids"], serde_json::json!(["u_42"]));
    // The other tenant's Asha is untouched.
    assert_eq!(events(d, "beta", &["--actor", "u_42"]).len(), 4);
    assert!(events(d, "beta", &[]).iter().all(|e| e.get("erased").is_none_or(|v| v.as_array().unwrap().is_empty())));

    // The erasure's own event is signed, and everything verifies.
    let verified = ok(&trail(d, &["verify"]));
    assert!(verified.contains("acme: 8 events") && verified.contains("everything verifies"), "{verified}");

    // Again by id: nothing left to erase, still fine; by e-mail: nobody carries it any more.
    let again = ok(&trail(d, &["erase", "--tenant", "acme", "--actor", "u_42"]));
    assert!(again.contains("erased 0 fields from 0 of their events and 0 remarks"), "{again}");
    let err = fails(&trail(d, &["erase", "--tenant", "acme", "--email", "asha@acme.example"]));
    assert!(err.contains("nothing to erase"), "{err}");
    ok(&trail(d, &["verify"]));
}
