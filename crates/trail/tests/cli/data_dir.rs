//! Which commands create a data directory and which need one: a read-only command run in the
//! wrong directory must say where it looked, not create an empty store there.

use std::{
    path::Path,
    process::{Command, Output},
};

/// Runs `trail ARGS` in `cwd` with no data directory configured by the environment.
fn trail_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trail"))
        .current_dir(cwd)
        .args(args)
        .env_remove("TRAIL_OPERATOR_KEY")
        .env_remove("TRAIL_DATA")
        .env_remove("TRAIL_DATABASE")
        .env_remove("TRAIL_CONFIG")
        .env("TRAIL_LOG", "warn")
        .output()
        .expect("run trail")
}

fn stderr_of_failure(out: &Output, what: &str) -> String {
    assert!(!out.status.success(), "{what} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every command that only reads or changes existing data.
const READ_ONLY: &[&[&str]] = &[
    &["tenant", "list"],
    &["tenant", "show", "acme"],
    &["key", "list", "--tenant", "acme"],
    &["key", "create", "--tenant", "acme", "--name", "ci", "--scope", "read"],
    &["key", "revoke", "--tenant", "acme", "key_1"],
    &["ingest", "--tenant", "acme", "-"],
    &["query", "--tenant", "acme"],
    &["export", "--tenant", "acme", "-o", "-", "--format", "csv"],
    &["verify"],
    &["purge"],
];

// Regression: `trail tenant list` in a directory without `./trail-data` silently created an
// empty one and answered "No tenants yet", as if the real data were gone.
#[test]
fn read_only_commands_refuse_a_missing_data_directory_and_create_nothing() {
    let cwd = tempfile::tempdir().unwrap();
    for args in READ_ONLY {
        let what = args.join(" ");
        let err = stderr_of_failure(&trail_in(cwd.path(), args), &what);
        assert!(
            err.contains("no Trail data directory at ./trail-data")
                && err.contains("trail init")
                && err.contains("--data DIR"),
            "{what}: {err}"
        );
        assert!(!cwd.path().join("trail-data").exists(), "{what} created ./trail-data");
    }
    // An explicit --data that does not exist: named as given.
    let missing = cwd.path().join("elsewhere");
    let err = stderr_of_failure(
        &trail_in(cwd.path(), &["--data", missing.to_str().unwrap(), "tenant", "list"]),
        "tenant list --data",
    );
    assert!(err.contains(&format!("no Trail data directory at {}", missing.display())), "{err}");
    assert!(!missing.exists());
}

#[test]
fn a_directory_without_a_store_is_not_a_data_directory() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("trail-data")).unwrap();
    let err = stderr_of_failure(&trail_in(cwd.path(), &["tenant", "list"]), "tenant list");
    assert!(err.contains("./trail-data is not a Trail data directory (it has no trail.db)"), "{err}");
    assert!(!cwd.path().join("trail-data/trail.db").exists());
}

#[test]
fn init_and_tenant_create_make_the_data_directory_and_then_reads_work() {
    let cwd = tempfile::tempdir().unwrap();
    let out = trail_in(cwd.path(), &["tenant", "create", "acme"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(cwd.path().join("trail-data/trail.db").exists());
    let out = trail_in(cwd.path(), &["tenant", "list"]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("acme"));

    let other = tempfile::tempdir().unwrap();
    let out = trail_in(other.path(), &["init"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(other.path().join("trail-data/trail.db").exists());
}
