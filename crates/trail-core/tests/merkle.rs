//! The Merkle math against the RFC 6962 test vectors of transparency-dev/merkle (every happy path
//! verifies, every negative case is rejected) and property tests on random trees.

use std::path::Path;

use base64::{Engine, engine::general_purpose::STANDARD};
use proptest::prelude::*;
use trail_core::merkle::*;

fn b64(v: &serde_json::Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap_or_default()).expect("base64 in the vectors")
}

fn vectors(kind: &str) -> Vec<(String, serde_json::Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/merkle-vectors").join(kind);
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("testdata/merkle-vectors is part of the repository") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let v = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                out.push((path.display().to_string(), v));
            }
        }
    }
    out
}

#[test]
fn every_inclusion_vector() {
    let all = vectors("inclusion");
    assert!(all.len() > 60, "{} vectors", all.len());
    let (mut ok, mut rejected) = (0, 0);
    for (name, v) in &all {
        let proof: Vec<Vec<u8>> = v["proof"].as_array().map(|a| a.iter().map(b64).collect()).unwrap_or_default();
        let got = verify_inclusion(
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
            &b64(&v["leafHash"]),
            &proof,
            &b64(&v["root"]),
        );
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{name}: {got:?}");
        if want_err { rejected += 1 } else { ok += 1 }
    }
    assert!(ok >= 5 && rejected >= 50, "{ok} happy, {rejected} negative");
}

#[test]
fn every_consistency_vector() {
    let all = vectors("consistency");
    assert!(all.len() > 60, "{} vectors", all.len());
    let (mut ok, mut rejected) = (0, 0);
    for (name, v) in &all {
        let proof: Vec<Vec<u8>> = v["proof"].as_array().map(|a| a.iter().map(b64).collect()).unwrap_or_default();
        let got = verify_consistency(
            v["size1"].as_u64().unwrap(),
            v["size2"].as_u64().unwrap(),
            &proof,
            &b64(&v["root1"]),
            &b64(&v["root2"]),
        );
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{name}: {got:?}");
        if want_err { rejected += 1 } else { ok += 1 }
    }
    assert!(ok >= 5 && rejected >= 50, "{ok} happy, {rejected} negative");
}

/// Every complete subtree precomputed: O(1) nodes for large random trees.
struct Levels(Vec<Vec<Hash>>);

impl Levels {
    fn new(leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().unwrap().len() > 1 {
            let next = levels.last().unwrap().chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect();
            levels.push(next);
        }
        Levels(levels)
    }
}

impl NodeSource for Levels {
    type Error = std::convert::Infallible;
    fn node(&self, height: u8, index: u64) -> Result<Hash, Self::Error> {
        Ok(self.0[height as usize][index as usize])
    }
}

fn tree(n: u64) -> Levels {
    Levels::new((0..n).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect())
}

fn flip(proof: &[Hash], at: usize, bit: u8) -> Vec<Vec<u8>> {
    let mut p: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
    p[at][(bit / 8) as usize] ^= 1 << (bit % 8);
    p
}

#[test]
fn roots_match_the_definition() {
    for n in 0..70u64 {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let fast = root(&Levels::new(leaves.clone()), n).unwrap();
        assert_eq!(fast, naive_root(&leaves), "n = {n}");
        assert_eq!(root(&MemoryTree { leaves: leaves.clone() }, n).unwrap(), naive_root(&leaves));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(n in 1u64..100_000, i in any::<u64>(), at in any::<usize>(), bit in any::<u8>()) {
        let t = tree(n);
        let index = i % n;
        // Proofs against every size from index + 1 to n are checked for a sample of sizes.
        for size in [index + 1, (index + 1 + n) / 2, n] {
            let r = root(&t, size).unwrap();
            let proof = inclusion_proof(&t, index, size).unwrap();
            let as_vecs: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
            let leaf = t.0[0][index as usize];
            prop_assert!(verify_inclusion(index, size, &leaf, &as_vecs, &r).is_ok());
            if !proof.is_empty() {
                prop_assert!(verify_inclusion(index, size, &leaf, &flip(&proof, at % proof.len(), bit), &r).is_err());
                prop_assert!(verify_inclusion(index, size, &leaf, &as_vecs[..as_vecs.len() - 1], &r).is_err());
            }
            prop_assert!(verify_inclusion(index, size, &leaf_hash(b"another"), &as_vecs, &r).is_err());
            if size > 1 {
                prop_assert!(verify_inclusion((index + 1) % size, size, &leaf, &as_vecs, &r).is_err());
            }
        }
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(n in 2u64..100_000, a in any::<u64>(), at in any::<usize>(), bit in any::<u8>()) {
        let t = tree(n);
        let size1 = 1 + a % n;
        let (r1, r2) = (root(&t, size1).unwrap(), root(&t, n).unwrap());
        let proof = consistency_proof(&t, size1, n).unwrap();
        let as_vecs: Vec<Vec<u8>> = proof.iter().map(|h| h.to_vec()).collect();
        prop_assert!(verify_consistency(size1, n, &as_vecs, &r1, &r2).is_ok());
        if !proof.is_empty() {
            prop_assert!(verify_consistency(size1, n, &flip(&proof, at % proof.len(), bit), &r1, &r2).is_err());
        }
        if size1 < n {
            prop_assert!(verify_consistency(size1, n, &as_vecs, &r2, &r2).is_err());
            prop_assert!(verify_consistency(size1, n, &as_vecs, &r1, &r1).is_err());
        }
    }
}
