//! The index holds every tenant's words and values: its directory and files are private to the
//! user Trail runs as, whatever the umask.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use trail_index::{Doc, IndexConfig, TermIndex};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Regression: the index directory was created 0755 and its segment files 0644, readable by
/// every local user.
#[test]
fn the_index_directory_and_its_segments_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data").join("index");
    let index = TermIndex::open(&dir, IndexConfig { flush_docs: 10, merge_factor: 2, max_segment_docs: 1000 }).unwrap();
    let docs: Vec<(i64, Doc)> = (0..25)
        .map(|i| (1_700_000_000_000_000 + i, Doc { terms: vec![i as u64], action: "a.b".into(), key: None }))
        .collect();
    index.add(1, 1, &docs).unwrap();
    index.flush_all();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.iter().filter(|p| p.extension().is_some_and(|x| x == "seg")).count() >= 1, "{files:?}");
    assert!(files.iter().any(|p| p.ends_with("LOCK")), "{files:?}");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(dir.parent().unwrap()), 0o700, "a missing parent is created private too");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
}
