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
    /// The largest tree size a verified checkpoint signs, and whether the key was wrong.
    pub checked: Checked,
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

/// A signed checkpoint kept outside the database, to hold the log to: an entry of the
/// server's checkpoint journal (`crate::journal`), or a note someone saved
/// (`trail verify --checkpoint FILE`). A rewrite of the database cannot remove these.
#[derive(Debug, Clone)]
pub struct OutsideCheckpoint {
    /// Where it came from, for messages (`the checkpoint journal /data/checkpoints.log`).
    pub source: String,
    /// The tenant whose log it signs (the last part of its origin line).
    pub tenant: String,
    pub size: u64,
    /// The signed note.
    pub note: String,
    /// An entry of the server's journal: the checkpoints table must hold it too.
    pub journaled: bool,
}

impl OutsideCheckpoint {
    /// A saved note: its tenant and size are read from its body (the signature is checked
    /// later, with the key given to verify).
    pub fn from_note(source: &str, note: &str) -> Result<OutsideCheckpoint, String> {
        let body = note.split_once("\n\n").map(|(b, _)| format!("{b}\n")).ok_or_else(|| {
            format!("{source} is not a signed note: a checkpoint, a blank line, then signature lines")
        })?;
        let cp = Checkpoint::parse_body(&body).map_err(|e| format!("{source}: {e}"))?;
        let tenant = cp.origin.rsplit('/').next().unwrap_or_default().to_owned();
        Ok(OutsideCheckpoint {
            source: source.to_owned(),
            tenant,
            size: cp.size,
            note: note.to_owned(),
            journaled: false,
        })
    }
}

/// What `verify` is given besides the database.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub outside: Vec<OutsideCheckpoint>,
    /// How long an event may go unsigned: events received longer ago than this and covered
    /// by no signed checkpoint are a problem (a server signs within a second of an append;
    /// a log nobody vouched for cannot be told from a rewritten one whose checkpoints were
    /// deleted).
    pub unsigned_grace: std::time::Duration,
    /// The time `unsigned_grace` counts back from.
    pub now: jiff::Timestamp,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { outside: Vec::new(), unsigned_grace: DEFAULT_UNSIGNED_GRACE, now: jiff::Timestamp::now() }
    }
}

/// [`VerifyOptions::unsigned_grace`] unless told otherwise: far beyond the signer's second,
/// so a busy or restarting server is never blamed.
pub const DEFAULT_UNSIGNED_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

impl VerifyOptions {
    /// The sizes of the outside checkpoints of `tenant` up to `n` (whose roots a backend must
    /// be able to give [`check_checkpoints`]).
    pub fn sizes(&self, tenant: &str, n: u64) -> impl Iterator<Item = u64> + '_ {
        let tenant = tenant.to_owned();
        self.outside.iter().filter(move |o| o.tenant == tenant && o.size <= n).map(|o| o.size)
    }
}

/// What the checkpoints of one tenant showed besides problems.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// The largest tree size a checkpoint that verified signs (0 if none).
    pub signed: u64,
    /// Set when the key given signed none of the checkpoints: which key did.
    pub wrong_key: Option<String>,
}

/// The name and key hash of each key that signed one of `notes` (`trail/acme-prod
/// (key hash 1a2b3c4d)`), each once.
fn signers<'a>(notes: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    for note_text in notes {
        let Some((_, sigs)) = note_text.split_once("\n\n") else { continue };
        for line in sigs.lines() {
            let Some((name, b64)) = line.strip_prefix("\u{2014} ").and_then(|l| l.rsplit_once(' ')) else { continue };
            let Some(blob) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).ok() else {
                continue;
            };
            if blob.len() < 4 {
                continue;
            }
            let who = format!("{name} (key hash {})", hex_of(&blob[..4]));
            if !out.contains(&who) {
                out.push(who);
            }
        }
    }
    out
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key name a note's first signature line gives.
fn signer_name(note_text: &str) -> String {
    note_text
        .split("\n\n")
        .nth(1)
        .and_then(|sigs| sigs.lines().next())
        .and_then(|l| l.strip_prefix("\u{2014} "))
        .and_then(|l| l.rsplit_once(' '))
        .map(|(name, _)| name.to_owned())
        .unwrap_or_default()
}

/// Checks a tenant's checkpoints (ascending by size) against its log of `n` events: each
/// signature by `public`, each stored root against the note and the root the events make
/// (`root_at(size)`), each tree against the previous one (`consistency(from, to)`, a proof
/// from the stored tree); then the checkpoints kept outside the database (`options`): each
/// must verify and sign a tree the events make, and each journal entry must be in the table.
/// A backend then calls [`check_unsigned`] with [`Checked::signed`].
///
/// When the key given signed none of the checkpoints, nothing else is judged: that is a wrong
/// key, not a tampered log ([`Checked::wrong_key`]).
#[allow(clippy::too_many_arguments)]
pub fn check_checkpoints(
    problem: &Mutex<Option<Problem>>,
    tenant: &str,
    n: u64,
    public: &VerifyingKey,
    checkpoints: &[StoredNote],
    options: &VerifyOptions,
    root_at: impl Fn(u64) -> Hash,
    consistency: impl Fn(u64, u64) -> StoreResult<Vec<Hash>>,
) -> StoreResult<Checked> {
    let outside: Vec<&OutsideCheckpoint> = options.outside.iter().filter(|o| o.tenant == tenant).collect();
    let all_notes = || checkpoints.iter().map(|c| c.2.as_str()).chain(outside.iter().map(|o| o.note.as_str()));
    let by_this_key = all_notes().filter(|note| Checkpoint::verify(note, &signer_name(note), public).is_ok()).count();
    if by_this_key == 0 && all_notes().next().is_some() {
        let signed_by = signers(all_notes());
        return Ok(Checked {
            signed: 0,
            wrong_key: Some(format!(
                "the public key given signed none of its {} checkpoints; they are signed by {}",
                checkpoints.len() + outside.len(),
                if signed_by.is_empty() { "no key Trail can read".to_owned() } else { signed_by.join(", ") }
            )),
        });
    }
    let mut signed = 0;
    let mut previous: Option<(u64, Hash)> = None;
    for (size, stored_root, note_text) in checkpoints {
        let size = *size;
        let cp = match Checkpoint::verify(note_text, &signer_name(note_text), public) {
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
        signed = signed.max(size);
        previous = Some((size, root));
    }
    signed = signed.max(check_outside(problem, n, public, checkpoints, &outside, &root_at));
    Ok(Checked { signed, wrong_key: None })
}

/// Notes a problem, unless one is known already, when events past the largest signed tree
/// (`signed`) are older than the grace: `received_at` is when event `signed + 1` was received (`None` when every event is
/// signed, or that event is missing, which other checks report).
pub fn check_unsigned(
    problem: &Mutex<Option<Problem>>,
    n: u64,
    signed: u64,
    received_at: Option<jiff::Timestamp>,
    options: &VerifyOptions,
) {
    // The weakest finding: a log nobody vouched for. Another problem says more.
    if problem.lock().expect("problem lock").is_some() {
        return;
    }
    let Some(at) = received_at.filter(|_| signed < n) else { return };
    let grace = jiff::SignedDuration::try_from(options.unsigned_grace).unwrap_or(jiff::SignedDuration::MAX);
    if options.now.duration_since(at) <= grace {
        return;
    }
    let first = signed + 1;
    note(
        problem,
        first,
        format!(
            "events {first}..={n} are in no signed checkpoint, and seq {first} was received at {at}: a server \
             signs within a second, so the checkpoints were removed or the log was written without a server \
             (start `trail serve` once to sign it, if you trust it)"
        ),
    );
}

/// Checks the checkpoints kept outside the database; returns the largest size that verified.
fn check_outside(
    problem: &Mutex<Option<Problem>>,
    n: u64,
    public: &VerifyingKey,
    table: &[StoredNote],
    outside: &[&OutsideCheckpoint],
    root_at: &impl Fn(u64) -> Hash,
) -> u64 {
    let mut signed = 0;
    let last_journaled = outside.iter().filter(|o| o.journaled).map(|o| o.size).max();
    for o in outside {
        let cp = match Checkpoint::verify(&o.note, &signer_name(&o.note), public) {
            Ok(cp) => cp,
            Err(e) => {
                note(
                    problem,
                    o.size.max(1),
                    format!("the checkpoint of size {} in {} does not verify: {e}", o.size, o.source),
                );
                continue;
            }
        };
        if cp.size > n {
            note(
                problem,
                n + 1,
                format!(
                    "{} holds a signed checkpoint of {} events but the log holds {n}: seq {} onwards is missing \
                     (the log was cut short)",
                    o.source,
                    cp.size,
                    n + 1
                ),
            );
            continue;
        }
        if cp.size > 0 && root_at(cp.size) != cp.root {
            note(
                problem,
                cp.size,
                format!(
                    "the log's first {} events are not the ones {} signed: an event at or before seq {} was \
                     changed, removed or reordered, and the tree rebuilt",
                    cp.size, o.source, cp.size
                ),
            );
            continue;
        }
        if o.journaled {
            match table.iter().find(|t| t.0 == cp.size) {
                Some(t) if t.1[..] != cp.root[..] => {
                    note(
                        problem,
                        cp.size,
                        format!("the checkpoints table and {} disagree about the tree of size {}", o.source, cp.size),
                    );
                    continue;
                }
                Some(_) => {}
                // The journal is written before the table: a crash between the two leaves
                // the journal's last entry alone. Any other entry must be in the table.
                None if Some(cp.size) == last_journaled => {}
                None => {
                    note(
                        problem,
                        cp.size,
                        format!(
                            "the checkpoint of size {} that {} holds is missing from the checkpoints table: \
                             checkpoints were removed from the database",
                            cp.size, o.source
                        ),
                    );
                    continue;
                }
            }
        }
        signed = signed.max(cp.size);
    }
    signed
}
