//! Where the test data lives.

use std::path::PathBuf;

/// `shared/data/`: `$TRAIL_SHARED` when set, else where it sits beside the repository when this
/// crate is at `crates/trail-enrich` of it.
pub fn shared(relative: &str) -> PathBuf {
    let base = std::env::var_os("TRAIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")));
    let path = base.join(relative);
    assert!(path.exists(), "{} is missing: set TRAIL_SHARED to the shared/data folder", path.display());
    path
}

/// A file of this crate's `tests/data/`.
pub fn test_data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
}

/// The user agent of each line of the real Apache combined-format log: its last quoted field.
pub fn real_user_agents() -> Vec<String> {
    let log = std::fs::read_to_string(shared("real-logs/apache_access_10k.log")).expect("read the Apache log");
    log.lines().map(|line| line.rsplit('"').nth(1).expect("a combined-format line").to_owned()).collect()
}
