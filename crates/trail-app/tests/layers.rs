//! The layers of docs/architecture.md, checked: which crate may depend on which, and which
//! modules of the HTTP server may import which. A change that breaks a rule fails here with
//! the rule it broke, instead of quietly blurring the architecture.
//!
//! Dependencies are read from each crate's `Cargo.toml` (`[dependencies]` only: tests may use
//! anything); imports from the source, with whitespace removed so a path split over lines is
//! still found.

mod source;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The workspace crates each crate depends on (normal dependencies, not dev or build).
fn dependencies() -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(crates_dir()).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut section = String::new();
        let mut deps = Vec::new();
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.to_owned();
            } else if section == "[dependencies]"
                && let Some(dep) = line.split(['=', '.', ' ']).next().filter(|d| d.starts_with("trail"))
            {
                deps.push(dep.to_owned());
            }
        }
        out.insert(name, deps);
    }
    out
}

/// The code of every `.rs` file under `dir`: without its comment lines (doc comments may name
/// what the code must not use, to say so) and without whitespace.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    source::rust_files(dir, &mut files);
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let code =
                text.lines().filter(|l| !l.trim_start().starts_with("//")).flat_map(|l| l.split_whitespace()).collect();
            (f, code)
        })
        .collect()
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    // What each crate may depend on, from the bottom up. A crate not listed here fails the
    // test, so a new crate is placed in the layers when it is added.
    let allowed: &[(&str, &[&str])] = &[
        ("trail-core", &[]),
        ("trail-index", &["trail-core"]),
        ("trail-enrich", &["trail-core"]),
        ("trail-export", &["trail-core"]),
        ("trail-store", &["trail-core"]),
        ("trail-store-sqlite", &["trail-core", "trail-store", "trail-index", "trail-export"]),
        ("trail-store-postgres", &["trail-core", "trail-store", "trail-index"]),
        ("trail-app", &["trail-core", "trail-store", "trail-enrich", "trail-export"]),
        (
            "trail-server",
            &[
                "trail-core",
                "trail-store",
                "trail-enrich",
                "trail-export",
                "trail-app",
                "trail-store-sqlite",
                "trail-store-postgres",
            ],
        ),
        (
            "trail",
            &[
                "trail-core",
                "trail-store",
                "trail-enrich",
                "trail-export",
                "trail-app",
                "trail-store-sqlite",
                "trail-store-postgres",
                "trail-server",
            ],
        ),
        (
            "trail-bench",
            &[
                "trail-core",
                "trail-store",
                "trail-export",
                "trail-app",
                "trail-store-sqlite",
                "trail-store-postgres",
                "trail-server",
            ],
        ),
    ];
    let deps = dependencies();
    assert!(deps.len() >= 11, "found only {} crates under {}", deps.len(), crates_dir().display());
    let mut broken = Vec::new();
    for (name, uses) in &deps {
        let Some((_, may)) = allowed.iter().find(|(n, _)| n == name) else {
            broken.push(format!("{name} is in no layer: add it to this test and to docs/architecture.md"));
            continue;
        };
        for d in uses {
            if !may.contains(&d.as_str()) {
                broken.push(format!("{name} depends on {d}, which its layer may not use"));
            }
        }
    }
    assert!(broken.is_empty(), "layer rules broken:\n{}", broken.join("\n"));
}

#[test]
fn the_application_layer_knows_nothing_of_http() {
    let mut offenders = Vec::new();
    let files = sources(&crates_dir().join("trail-app/src"));
    assert!(files.len() > 10, "trail-app/src has only {} files", files.len());
    for (file, code) in &files {
        for word in ["axum::", "http::StatusCode", "trail_server", "ApiError"] {
            if code.contains(word) {
                offenders.push(format!("{}: {word}", file.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "trail-app must not speak HTTP:\n{}", offenders.join("\n"));
}

#[test]
fn the_api_and_the_console_do_not_import_each_other() {
    let server = crates_dir().join("trail-server/src");
    let mut offenders = Vec::new();
    for (dir, other) in [("api", "console"), ("console", "api")] {
        let files = sources(&server.join(dir));
        assert!(files.len() > 3, "{dir}/ has only {} files", files.len());
        for (file, code) in files {
            for path in [format!("crate::{other}"), format!("super::{other}"), format!("super::super::{other}")] {
                if code.contains(&path) {
                    offenders.push(format!("{}: {path}", file.display()));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "api/ and console/ import each other:\n{}", offenders.join("\n"));
}

#[test]
fn the_cli_uses_the_server_only_to_start_it() {
    // `serve` starts the server; the configuration file carries the server's own settings
    // (admission limits) that `serve` hands it.
    let may = ["commands/serve.rs", "config.rs"];
    let mut offenders = Vec::new();
    let root = crates_dir().join("trail/src");
    for (file, code) in sources(&root) {
        let rel = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if code.contains("trail_server") && !may.contains(&rel.as_str()) {
            offenders.push(rel);
        }
    }
    assert!(
        offenders.is_empty(),
        "the CLI calls the application layer (trail_app), not the server, except to start it:\n{}",
        offenders.join("\n")
    );
}
