//! The tenant's Merkle tree as readers see it: its latest checkpoint, consistency and inclusion
//! proofs, the data a leaf hashes (withheld from a reader the event's copy hides something
//! from), and whether an event is proven in the latest signed checkpoint (docs/integrity.md).
//!
//! A proof is computed against a tree size: by default the latest checkpoint's, so a client can
//! check it against a signed root. How hashes are written (base64 in the API) is the adapters'.

use jiff::Timestamp;
use trail_core::{
    TenantId,
    checkpoint::Checkpoint,
    merkle::{self, Hash},
    redaction::Redaction,
};
use trail_store::{StoredCheckpoint, VerifyReport};

use crate::{App, AppError, AppResult, Invalid, access::Principal, queries, redact};

/// The tree size a proof is asked against: `given`, or the latest checkpoint's, or the log's;
/// with the latest checkpoint when it is of that size. `field` names the parameter that gave
/// it, for the error when it is not a size of this log.
pub async fn size_or_latest(
    app: &App,
    t: &TenantId,
    given: Option<u64>,
    field: &str,
) -> AppResult<(u64, Option<StoredCheckpoint>)> {
    let count = queries::tenant(&**app.store(), t).await?.event_count;
    let latest = app.store().latest_checkpoint(t).await?;
    let size = given.or(latest.as_ref().map(|c| c.size)).unwrap_or(count);
    if size == 0 || size > count {
        return Err(AppError::invalid(
            Invalid::Parameter,
            format!("{field} {size} is not a tree size of this log: use 1 to {count}"),
        )
        .with_field(field));
    }
    let cp = latest.filter(|c| c.size == size);
    Ok((size, cp))
}

/// The tenant's latest signed checkpoint.
pub async fn checkpoint(app: &App, t: &TenantId) -> AppResult<StoredCheckpoint> {
    queries::tenant(&**app.store(), t).await?;
    app.store()
        .latest_checkpoint(t)
        .await?
        .ok_or_else(|| AppError::NotFound("checkpoint (the first is signed within a second of the first event)".into()))
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consistency {
    pub from: u64,
    pub to: u64,
    pub proof: Vec<Hash>,
}

/// The proof that the tree of `from` events is a prefix of the tree of `to` (by default the
/// latest checkpoint's size).
pub async fn consistency(app: &App, t: &TenantId, from: u64, to: Option<u64>) -> AppResult<Consistency> {
    let (to, _) = size_or_latest(app, t, to, "to").await?;
    if from == 0 || from > to {
        return Err(
            AppError::invalid(Invalid::Parameter, format!("from must be between 1 and to ({to})")).with_field("from")
        );
    }
    let proof = app.store().consistency_proof(t, from, to).await?;
    Ok(Consistency { from, to, proof })
}

/// An inclusion proof of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inclusion {
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub root_hash: Hash,
    pub proof: Vec<Hash>,
    /// The signed checkpoint of `tree_size`, when there is one.
    pub checkpoint: Option<StoredCheckpoint>,
}

/// The proof that event `seq` is in the tree of `tree_size` events (by default the latest
/// checkpoint's), for `who`: a `member` only of their own events.
pub async fn inclusion(
    app: &App,
    who: &Principal,
    t: &TenantId,
    seq: u64,
    tree_size: Option<u64>,
) -> AppResult<Inclusion> {
    if who.owner().is_some() {
        queries::visible_event(&**app.store(), who, t, seq).await?;
    }
    let (size, cp) = size_or_latest(app, t, tree_size, "tree_size").await?;
    if seq == 0 || seq > size {
        return Err(AppError::NotFound(format!("event {seq} in the tree of {size} events")));
    }
    let store = app.store();
    let leaf = store.leaf_hash(t, seq).await?.ok_or_else(|| AppError::NotFound(format!("event {seq}")))?;
    let proof = store.inclusion_proof(t, seq, size).await?;
    // Against a checkpoint (the default), its root is the one signed: no need to compute it.
    let root = match &cp {
        Some(c) => c.root,
        None => store.tree_root(t, size).await?,
    };
    Ok(Inclusion { seq, tree_size: size, leaf_hash: leaf, root_hash: root, proof, checkpoint: cp })
}

/// The exact bytes leaf `seq` hashes (as `SHA-256(0x00 || bytes)`): the event in canonical form
/// with commitments in place of its personal values.
///
/// A leaf holds the metadata, the location and the client in clear (only the e-mail, name,
/// address and description are commitments), so a reader from whom the event's copy hides
/// something (a masked phone number, a link visitor's detail the plan withholds) is refused
/// its leaf ([`AppError::Withheld`]) rather than shown the values hidden everywhere else.
pub async fn leaf(app: &App, who: &Principal, t: &TenantId, seq: u64) -> AppResult<Vec<u8>> {
    let store = app.store();
    let redaction = redact::of(who, t, app.config(), &queries::tenant(&**store, t).await?.plan);
    let event = if who.owner().is_some() {
        Some(queries::visible_event(&**store, who, t, seq).await?)
    } else if redaction != Redaction::NONE {
        store.event(t, seq).await?
    } else {
        None
    };
    if let Some(e) = event.filter(|e| redact::changes(e, redaction)) {
        let (what, who_may) = if redaction.hide_link_detail && redact::is_link_access(&e) {
            (
                "a link visitor's e-mail, address, location and platform, which the tenant's plan does not include",
                "on a plan with link detail it is shown",
            )
        } else {
            ("an SMS phone number, which only admins of the tenant see whole", "an admin of the tenant can fetch it")
        };
        return Err(AppError::Withheld(format!(
            "the leaf of event {seq} holds in clear what your access hides ({what}): {who_may}; \
             its inclusion proof (GET /v1/tenants/{t}/events/{seq}/proof) still proves its leaf hash"
        )));
    }
    store.leaf_data(t, seq).await?.ok_or_else(|| AppError::NotFound(format!("event {seq}")))
}

/// Whether an event is proven in the latest signed checkpoint, as an outside verifier would
/// check it (see [`proof_in_latest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The log has no signed checkpoint yet.
    NoCheckpoint,
    /// The latest checkpoint is older than the event; it covers this many events.
    NotYetSigned { checkpoint_size: u64 },
    /// A check failed: why, in a sentence.
    Failed(String),
    /// Leaf `seq - 1` of the checkpoint of `tree_size` events, by an inclusion proof of
    /// `proof_len` hashes to `root`, signed at `signed_at`.
    Proven { tree_size: u64, proof_len: usize, root: Hash, signed_at: Timestamp },
}

/// Whether event `seq`, whose leaf hash is `leaf`, is proven in `t`'s latest checkpoint: the
/// checkpoint's signature verifies with the application's key, `leaf` is the hash of the
/// stored leaf data, and the inclusion proof leads from it to the checkpoint's root. (That the
/// leaf data commits to exactly the stored values is `trail verify`'s check.)
pub async fn proof_in_latest(app: &App, t: &TenantId, seq: u64, leaf: &Hash) -> AppResult<Proof> {
    let store = app.store();
    let Some(cp) = store.latest_checkpoint(t).await? else { return Ok(Proof::NoCheckpoint) };
    if cp.size < seq {
        return Ok(Proof::NotYetSigned { checkpoint_size: cp.size });
    }
    let failed = |why: String| Ok(Proof::Failed(why));
    let config = app.config();
    let public = config.signing_key.verifying_key();
    let signed = match Checkpoint::verify(&cp.note, &config.key_name(), &public) {
        Ok(c) if c.size == cp.size && c.root == cp.root => c,
        Ok(_) => return failed("The checkpoint's signed note does not match its stored root".into()),
        Err(e) => return failed(format!("The checkpoint's signature does not verify: {e}")),
    };
    let data = match store.leaf_data(t, seq).await {
        Ok(Some(d)) => d,
        Ok(None) => return failed("The event's leaf data is missing".into()),
        // A damaged stored event: the reader is told, never given an error.
        Err(e) => {
            tracing::error!(tenant = %t, seq, error = %e, "stored event cannot be read for its proof");
            return failed("The stored event cannot be read, so its leaf cannot be recomputed".into());
        }
    };
    if merkle::leaf_hash(&data) != *leaf {
        return failed("The event's leaf data does not hash to its leaf hash".into());
    }
    let path: Vec<Vec<u8>> = store.inclusion_proof(t, seq, cp.size).await?.into_iter().map(|h| h.to_vec()).collect();
    if let Err(e) = merkle::verify_inclusion(seq - 1, signed.size, leaf, &path, &signed.root) {
        return failed(format!("The inclusion proof does not verify: {e}"));
    }
    Ok(Proof::Proven { tree_size: cp.size, proof_len: path.len(), root: signed.root, signed_at: cp.created_at })
}

/// Checks `t`'s whole log as `trail verify` does (every leaf recomputed from its stored event,
/// every checkpoint's signature and consistency), with the application's key.
pub async fn verify(app: &App, t: &TenantId) -> AppResult<VerifyReport> {
    Ok(app.store().verify_log(t, app.config().signing_key.verifying_key().as_bytes()).await?)
}
