//! Every crate names actions through `trail_core::vocabulary`, never by a string literal of its
//! own: this walks the source of every crate in the workspace and fails on any quoted catalogue
//! action, action prefix (`"sms."`) or action pattern (`"link.*"`) outside the vocabulary module.
//!
//! Only non-test code is held to it: tests may spell actions out, since they check the wire
//! format. A file's test module is recognised as everything from a `#[cfg(test)]` followed by a
//! `mod` item to the end of the file (the project's one layout for unit tests); a file whose
//! tests sit elsewhere would be checked whole, which errs on the side of failing.

use std::{
    fs,
    path::{Path, PathBuf},
};

use trail_core::vocabulary::actions::{self, pattern, prefix};

/// Files allowed to quote actions, each with why. Paths are relative to `crates/`.
const ALLOWED: &[(&str, &str)] = &[
    ("trail-core/src/vocabulary/", "the vocabulary itself"),
    ("trail-store/src/conformance.rs", "test code: the store conformance suite, shipped for the backends' tests"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of `source` before its test module, if it has one.
fn non_test(source: &str) -> &str {
    let mut at = 0;
    while let Some(i) = source[at..].find("#[cfg(test)]") {
        let start = at + i;
        let rest = source[start + "#[cfg(test)]".len()..].trim_start();
        if rest.starts_with("mod ") || rest.starts_with("pub mod ") || rest.starts_with("pub(crate) mod ") {
            return &source[..start];
        }
        at = start + 1;
    }
    source
}

/// The quoted action names found in `code`, with their line numbers.
fn quoted_actions(code: &str) -> Vec<(usize, &'static str)> {
    let names = actions::ALL.iter().chain(prefix::ALL).chain(pattern::ALL);
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for name in names.clone() {
            if line.contains(&format!("\"{name}\"")) {
                found.push((n + 1, *name));
            }
        }
    }
    found
}

#[test]
fn the_finder_finds() {
    let code = "let a = \"auth.login.failed\";\n// \"sms.sent\" in a comment\nx.starts_with(\"sms.\")\n\
                #[cfg(test)]\nmod tests { \"link.viewed\" }";
    assert_eq!(quoted_actions(non_test(code)), [(1, actions::AUTH_LOGIN_FAILED), (3, prefix::SMS)]);
    assert!(quoted_actions("actions::AUTH_LOGIN_FAILED").is_empty());
}

#[test]
fn no_action_literals_outside_the_vocabulary() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("crates/").to_path_buf();
    let mut files = Vec::new();
    for krate in fs::read_dir(&crates).expect("crates/ is readable") {
        rust_files(&krate.expect("a crate").path().join("src"), &mut files);
    }
    assert!(files.len() > 50, "found only {} source files under {}", files.len(), crates.display());
    let mut offences = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&crates).expect("under crates/").to_string_lossy().replace('\\', "/");
        if ALLOWED.iter().any(|(allowed, _)| rel.starts_with(allowed)) {
            continue;
        }
        let source = fs::read_to_string(&file).expect("a readable source file");
        for (line, name) in quoted_actions(non_test(&source)) {
            offences.push(format!("crates/{rel}:{line}: \"{name}\""));
        }
    }
    assert!(
        offences.is_empty(),
        "action names quoted outside trail_core::vocabulary; use its constants \
         (vocabulary::actions::*, actions::prefix::*, actions::pattern::*) instead:\n{}",
        offences.join("\n")
    );
}
