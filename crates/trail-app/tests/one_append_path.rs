//! `App::append` is the only way an event enters a log: no crate's source calls
//! `Store::append` itself, since an append made there would publish no notice and the live
//! tail (and whatever else subscribes) would not hear of it.

mod source;

use std::path::Path;

/// How a direct call looks in this code base: the store is always reached through a binding
/// or field named `store` (`store.append(`, `s.store.append(`, `self.store.append(`), an
/// accessor (`app.store().append(`), or the trait path.
const DIRECT_CALLS: &[&str] =
    &["store.append(", "store().append(", "store.clone().append(", "Store::append(", "EventLog::append("];

/// Crates allowed to call `Store::append`:
/// - `trail-app`: the one append path itself;
/// - `trail-store`, `trail-store-sqlite`, `trail-store-postgres`: the trait, its
///   implementations and the conformance suite, which test the stores below the application;
/// - `trail-bench`: measures the stores' append throughput on its own, without a server.
const EXEMPT: &[&str] = &["trail-app", "trail-store", "trail-store-sqlite", "trail-store-postgres", "trail-bench"];

#[test]
fn no_crate_appends_to_a_store_but_through_the_app() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut checked = 0;
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(crates).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if EXEMPT.contains(&name.as_str()) || !dir.join("src").is_dir() {
            continue;
        }
        let mut files = Vec::new();
        source::rust_files(&dir.join("src"), &mut files);
        for file in files {
            // Without whitespace, so a call split over lines (`store\n    .append(`) is found.
            let code: String = std::fs::read_to_string(&file).unwrap().split_whitespace().collect();
            checked += 1;
            for call in DIRECT_CALLS {
                if code.contains(call) {
                    offenders.push(format!("{}: `{call}`", file.display()));
                }
            }
        }
    }
    assert!(
        checked > 50,
        "the walk found only {checked} files under {}: is the layout still crates/*/src?",
        crates.display()
    );
    assert!(
        offenders.is_empty(),
        "these lines append to a store directly, so no notice is published: call `App::append` instead\n{}",
        offenders.join("\n")
    );
}
