//! What every backend's `trail verify` shares: how problems are kept (the one with the
//! smallest seq wins), how stored tree nodes are compared with the nodes the recomputed leaves
//! build, and how checkpoints are checked (signature, root, consistency with the one before).

use std::sync::Mutex;

use ed25519_dalek::VerifyingKey;
use trail_core::{
    checkpoint::Checkpoint,
    merkle::{Hash, verify_consistency},
};

use crate::{StoreResult, tree::TILE};

/// Where a tenant's log stops being what its tree and checkpoints say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The first seq involved.
    pub seq: u64,
    pub message: String,
}

/// What `verify` found for one tenant.
#[derive(Debug, Clone)]
pub struct TenantReport {
    pub tenant: String,
    pub events: u64,
    pub checkpoints: u64,
    /// The first problem, by seq; `None` when everything verifies.
    pub problem: Option<Problem>,
}

/// Keeps the problem with the smallest seq.
pub fn note(slot: &Mutex<Option<Problem>>, seq: u64, message: String) {
    let mut p = slot.lock().expect("problem lock");
    if p.as_ref().is_none_or(|p| seq < p.seq) {
        *p = Some(Problem { seq, message });
    }
}

/// Compares stored tile `height`/`idx` with the nodes the leaves build, noting the first
/// node that differs unless a problem under it is already known. `n` is the log's size.
pub fn check_nodes(problem: &Mutex<Option<Problem>>, n: u64, height: u8, idx: u64, stored: &[Hash], computed: &[Hash]) {
    let span = 1u64 << (8 * height as u32); // leaves under one node of this level
    for k in 0..stored.len().max(computed.len()) {
        if stored.get(k) == computed.get(k) {
            continue;
        }
        let first = (idx * TILE + k as u64) * span + 1;
        let last = first + span - 1;
        let known = problem.lock().expect("problem lock").as_ref().is_some_and(|p| p.seq <= last);
        if known {
            return;
        }
        if k >= computed.len() {
            past_the_end(problem, n, &format!("tile {height}/{idx}"));
        } else {
            note(
                problem,
                first,
                format!("the stored tree (tile {height}/{idx}, node {k}) does not match events {first}..={last}"),
            );
        }
        return;
    }
}

/// Notes that the stored tree reaches past the log's end (`what` names the tile).
pub fn past_the_end(problem: &Mutex<Option<Problem>>, n: u64, what: &str) {
    note(
        problem,
        n + 1,
        format!("the stored tree ({what}) holds events past the log's end: seq {} onwards is missing", n + 1),
    );
}

/// A checkpoint as stored: size, root, signed note.
pub type StoredNote = (u64, Vec<u8>, String);

/// Checks a tenant's checkpoints (ascending by size) against its log of `n` events: each
/// signature by `public`, each stored root against the note and the root the events make
/// (`root_at(size)`), each tree against the previous one (`consistency(from, to)`, a proof
/// from the stored tree).
pub fn check_checkpoints(
    problem: &Mutex<Option<Problem>>,
    tenant: &str,
    n: u64,
    public: &VerifyingKey,
    checkpoints: &[StoredNote],
    root_at: impl Fn(u64) -> Hash,
    consistency: impl Fn(u64, u64) -> StoreResult<Vec<Hash>>,
) -> StoreResult<()> {
    let mut previous: Option<(u64, Hash)> = None;
    for (size, stored_root, note_text) in checkpoints {
        let size = *size;
        let key_name = note_text
            .split("\n\n")
            .nth(1)
            .and_then(|sigs| sigs.lines().next())
            .and_then(|l| l.strip_prefix("\u{2014} "))
            .and_then(|l| l.rsplit_once(' '))
            .map(|(name, _)| name.to_owned())
            .unwrap_or_default();
        let cp = match Checkpoint::verify(note_text, &key_name, public) {
            Ok(cp) => cp,
            Err(e) => {
                note(problem, size, format!("the checkpoint of size {size} does not verify: {e}"));
                continue;
            }
        };
        if cp.size != size || cp.root[..] != stored_root[..] || !cp.origin.ends_with(&format!("/{tenant}")) {
            note(problem, size, format!("the checkpoint of size {size} is not the tree it is stored as"));
            continue;
        }
        if size > n {
            note(
                problem,
                n + 1,
                format!(
                    "a signed checkpoint covers {size} events but the log holds {n}: seq {} onwards is missing",
                    n + 1
                ),
            );
            continue;
        }
        let root = root_at(size);
        if root != cp.root {
            note(problem, size, format!("the checkpoint of size {size} signs a root the events do not make"));
            continue;
        }
        if let Some((psize, proot)) = previous {
            let proof: Vec<Vec<u8>> = consistency(psize, size)?.iter().map(|h| h.to_vec()).collect();
            if let Err(e) = verify_consistency(psize, size, &proof, &proot, &root) {
                note(
                    problem,
                    size,
                    format!("the checkpoint of size {size} does not extend the one of size {psize}: {e}"),
                );
            }
        }
        previous = Some((size, root));
    }
    Ok(())
}
