//! The tenant's Merkle tree: checkpoints, proofs, and the data each leaf hashes (docs/integrity.md).
//! What each answers is `trail_app::tree`'s; here are its parameters and its JSON.
//!
//! Hashes are base64 (standard, padded), as in checkpoints and in the RFC 6962 test vectors.

use axum::{
    Json,
    extract::{Path, State},
    http::{Uri, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Serialize;
use trail_app::tree;
use trail_core::{TenantId, checkpoint::verifier_key, ids::Scope, merkle::Hash};
use trail_store::StoredCheckpoint;

use super::extract::TenantPath;
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
    params::query_pairs,
};

fn b64(h: &Hash) -> String {
    STANDARD.encode(h)
}

#[derive(Serialize)]
pub struct CheckpointView {
    tree_size: u64,
    root_hash: String,
    origin: String,
    /// The signed note (C2SP tlog-checkpoint in a signed-note).
    note: String,
    created_at: String,
    /// Why this server refuses to sign the log's current tree (it does not extend the last
    /// tree signed: see docs/integrity.md), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_refused: Option<String>,
}

fn view(s: &AppState, t: &TenantId, c: StoredCheckpoint) -> CheckpointView {
    CheckpointView {
        tree_size: c.size,
        root_hash: b64(&c.root),
        origin: s.config.origin(t),
        note: c.note,
        created_at: trail_core::time::format_rfc3339(c.created_at),
        signing_refused: s.refusals.get(t),
    }
}

/// A numeric query parameter.
fn param(uri: &Uri, name: &str) -> ApiResult<Option<u64>> {
    let pairs = query_pairs(uri.query());
    for (k, _) in &pairs {
        if !["tree_size", "from", "to"].contains(&k.as_str()) {
            return Err(
                ApiError::bad_request("invalid_parameter", format!("unknown parameter {k:?}")).with_field(k.clone())
            );
        }
    }
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| {
            v.parse::<u64>().map_err(|_| {
                ApiError::bad_request("invalid_parameter", format!("{name} {v:?} is not a number of events"))
                    .with_field(name)
            })
        })
        .transpose()
}

fn seq(raw: &str) -> ApiResult<u64> {
    raw.parse().map_err(|_| {
        ApiError::bad_request("invalid_parameter", format!("{raw:?} is not a seq: use the event's number, such as 42"))
            .with_field("seq")
    })
}

pub async fn checkpoint(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
) -> ApiResult<Json<CheckpointView>> {
    who.require(&t, Scope::Read)?;
    let c = tree::checkpoint(&s.app, &t).await?;
    Ok(Json(view(&s, &t, c)))
}

#[derive(Serialize)]
pub struct ConsistencyView {
    from: u64,
    to: u64,
    proof: Vec<String>,
}

pub async fn consistency(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<ConsistencyView>> {
    who.require(&t, Scope::Read)?;
    let from = param(&uri, "from")?.ok_or_else(|| {
        ApiError::bad_request("invalid_parameter", "from is required: the size of the older tree").with_field("from")
    })?;
    let c = tree::consistency(&s.app, &t, from, param(&uri, "to")?).await?;
    Ok(Json(ConsistencyView { from: c.from, to: c.to, proof: c.proof.iter().map(b64).collect() }))
}

#[derive(Serialize)]
pub struct InclusionView {
    seq: u64,
    /// The leaf's index in the tree: seq - 1.
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: String,
    root_hash: String,
    proof: Vec<String>,
    /// The signed checkpoint of `tree_size`, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoint: Option<String>,
}

pub async fn inclusion(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, raw_seq)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult<Json<InclusionView>> {
    who.require(&t, Scope::Read)?;
    let seq = seq(&raw_seq)?;
    let p = tree::inclusion(&s.app, &who, &t, seq, param(&uri, "tree_size")?).await?;
    Ok(Json(InclusionView {
        seq,
        leaf_index: seq - 1,
        tree_size: p.tree_size,
        leaf_hash: b64(&p.leaf_hash),
        root_hash: b64(&p.root_hash),
        proof: p.proof.iter().map(b64).collect(),
        checkpoint: p.checkpoint.map(|c| c.note),
    }))
}

/// The exact bytes leaf `seq` hashes, or a 403 for a reader its event's copy hides something
/// from (`trail_app::tree::leaf`).
pub async fn leaf(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, raw_seq)): Path<(String, String)>,
) -> ApiResult<Response> {
    who.require(&t, Scope::Read)?;
    let data = tree::leaf(&s.app, &who, &t, seq(&raw_seq)?).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], data).into_response())
}

#[derive(Serialize)]
pub struct PublicKey {
    name: String,
    algorithm: &'static str,
    /// The raw 32-byte Ed25519 public key, base64.
    public_key: String,
    /// The note verifier key: `name+hex(key hash)+base64(0x01 || public key)`.
    verifier_key: String,
}

/// `GET /v1/keys/public`: the key checkpoints are signed with.
pub async fn public_key(State(s): State<AppState>) -> Json<PublicKey> {
    let public = s.config.signing_key.verifying_key();
    let name = s.config.key_name();
    Json(PublicKey {
        verifier_key: verifier_key(&name, &public),
        public_key: STANDARD.encode(public.as_bytes()),
        name,
        algorithm: "ed25519",
    })
}
