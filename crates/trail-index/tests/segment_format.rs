//! The segment file's version and checksum: damage is found when a segment is opened, an
//! unknown version is refused, and segments written by the previous release (version 1, no
//! checksum) still open and are rewritten in the current format.

use std::path::{Path, PathBuf};

use trail_index::{
    Bounds, Doc, IndexConfig, Plan, TermIndex,
    segment::{self, Segment},
    source::Source,
};

const CONFIG: IndexConfig = IndexConfig { flush_docs: 10, merge_factor: 100, max_segment_docs: 1000 };

fn docs(n: u64) -> Vec<(i64, Doc)> {
    (0..n)
        .map(|i| {
            let doc = Doc { terms: vec![i % 7, 100 + i % 3], action: format!("a.b{}", i % 2), key: Some(1000 + i) };
            // Every fourth document is backdated, so segments also hold a time order.
            (1_700_000_000_000_000 + i as i64 * 1000 - if i % 4 == 0 { 5000 } else { 0 }, doc)
        })
        .collect()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    files.sort();
    files
}

fn all_seqs(index: &TermIndex, n: u64) -> Vec<u64> {
    index
        .search(1, &Plan::default(), Bounds { from: None, to: None, before: None, snapshot: n })
        .map(|(_, s)| s)
        .collect()
}

/// Regression: a segment was only checked for offsets that fit the file, so a flipped bit in its
/// times, terms or posting lists was read as data (wrong answers, or a panic on a bad offset).
#[test]
fn every_flipped_byte_of_a_segment_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let index = TermIndex::open(dir.path(), CONFIG).unwrap();
    index.add(1, 1, &docs(10)).unwrap();
    index.flush_all();
    let path = segments(dir.path()).remove(0);
    let good = std::fs::read(&path).unwrap();
    Segment::open(&path).expect("the segment as written opens");
    let copy = dir.path().join("copy.seg");
    for at in 0..good.len() {
        let mut bytes = good.clone();
        bytes[at] ^= 0x10;
        std::fs::write(&copy, &bytes).unwrap();
        let e = Segment::open(&copy).err().unwrap_or_else(|| panic!("a flipped byte at {at} went unnoticed"));
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "byte {at}: {e}");
    }
}

#[test]
fn a_segment_with_a_flipped_byte_is_deleted_and_its_events_indexed_again() {
    let dir = tempfile::tempdir().unwrap();
    let all = docs(30);
    {
        let index = TermIndex::open(dir.path(), CONFIG).unwrap();
        index.add(1, 1, &all).unwrap();
        index.flush_all();
    }
    let files = segments(dir.path());
    assert_eq!(files.len(), 3);
    // One bit of one posting list or time in the middle segment (seqs 11..=20); its header and
    // offsets stay plausible, so only the checksum can tell.
    let mut bytes = std::fs::read(&files[1]).unwrap();
    let at = bytes.len() - 20;
    bytes[at] ^= 1;
    std::fs::write(&files[1], &bytes).unwrap();

    let index = TermIndex::open(dir.path(), CONFIG).unwrap();
    assert_eq!(index.covered(1), 10, "the damaged segment (and what follows it) is indexed again");
    assert!(!files[1].exists(), "the damaged segment is deleted");
    index.add(1, 11, &all[10..]).unwrap();
    assert_eq!(all_seqs(&index, 30).len(), 30);
    index.flush_all();
    drop(index);
    for f in segments(dir.path()) {
        Segment::open(&f).unwrap_or_else(|e| panic!("rebuilt segment {}: {e}", f.display()));
    }
}

#[test]
fn a_segment_of_an_unknown_version_is_refused_with_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let index = TermIndex::open(dir.path(), CONFIG).unwrap();
    index.add(1, 1, &docs(10)).unwrap();
    index.flush_all();
    let path = segments(dir.path()).remove(0);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[6..8].copy_from_slice(b"07");
    std::fs::write(&path, &bytes).unwrap();
    let e = Segment::open(&path).err().expect("version 07 is refused");
    assert!(e.to_string().contains("format version 07 is unknown"), "{e}");
}

/// The segment the previous release wrote into the data directory fixture (version 1: no
/// checksum): it opens, and the index's owner rewrites it as the current version holding the
/// same terms, postings, times, actions and id keys.
#[test]
fn a_version_1_segment_opens_and_is_rewritten_in_the_current_format() {
    let name = "t00000001-000000000001-000000016384.seg";
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/datadir-v0/data/index").join(name);
    let old = Segment::open(&fixture).expect("the previous release's segment opens");
    assert_eq!(old.version(), 1);

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&fixture, dir.path().join(name)).unwrap();
    let index = TermIndex::open(dir.path(), CONFIG).unwrap();
    assert_eq!(index.covered(1), 16384, "the old segment is used, not indexed again");
    let new = Segment::open(&dir.path().join(name)).unwrap();
    assert_eq!(new.version(), segment::VERSION, "rewritten in the current format");
    assert_eq!(std::fs::read(dir.path().join(name)).unwrap()[..8], *b"TRLIDX02");

    let terms = old.terms();
    assert!(terms.len() > 100, "{} terms", terms.len());
    assert_eq!(new.terms(), terms);
    for t in &terms {
        assert_eq!(new.postings(*t), old.postings(*t), "postings of term {t:x}");
    }
    assert_eq!(new.actions(), old.actions());
    assert_eq!(new.keys(), old.keys());
    assert_eq!(new.sorted(), old.sorted());
    for o in 0..old.len() {
        assert_eq!(new.occurred_at(o), old.occurred_at(o));
        assert_eq!(new.in_time_order(o), old.in_time_order(o));
    }
    assert_eq!(all_seqs(&index, 16384).len(), 16384);

    // A process that does not own the index (the CLI beside a server) reads a version 1 segment
    // as it is.
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::copy(&fixture, dir2.path().join(name)).unwrap();
    let _owner = TermIndex::open(dir2.path(), CONFIG).unwrap();
    std::fs::copy(&fixture, dir2.path().join(name)).unwrap();
    let reader = TermIndex::open(dir2.path(), CONFIG).unwrap();
    assert!(!reader.is_owner());
    assert_eq!(reader.covered(1), 16384);
    assert_eq!(std::fs::read(dir2.path().join(name)).unwrap()[..8], *b"TRLIDX01", "left as it is");
}
