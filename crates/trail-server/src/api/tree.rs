//! The tenant's Merkle tree: checkpoints, proofs, and the data each leaf hashes (docs/integrity.md).
//!
//! Hashes are base64 (standard, padded), as in checkpoints and in the RFC 6962 test vectors.
//! A proof is computed against a tree size: by default the latest checkpoint's, so a client can
//! check it against a signed root.

use axum::{
    Json,
    extract::{Path, State},
    http::{Uri, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Serialize;
use trail_core::{TenantId, checkpoint::verifier_key, ids::Scope, merkle::Hash};
use trail_store::StoredCheckpoint;

use super::{events::tenant, extract::TenantPath};
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

/// The tree size a proof is asked against: given, or the latest checkpoint's, or the log's.
async fn size_or_latest(
    s: &AppState,
    t: &TenantId,
    given: Option<u64>,
    field: &str,
) -> ApiResult<(u64, Option<StoredCheckpoint>)> {
    let count = tenant(s, t).await?.event_count;
    let latest = s.store.latest_checkpoint(t).await?;
    let size = given.or(latest.as_ref().map(|c| c.size)).unwrap_or(count);
    if size == 0 || size > count {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("{field} {size} is not a tree size of this log: use 1 to {count}"),
        )
        .with_field(field));
    }
    let cp = latest.filter(|c| c.size == size);
    Ok((size, cp))
}

pub async fn checkpoint(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
) -> ApiResult<Json<CheckpointView>> {
    who.require(&t, Scope::Read)?;
    tenant(&s, &t).await?;
    let c =
        s.store.latest_checkpoint(&t).await?.ok_or_else(|| {
            ApiError::not_found("checkpoint (the first is signed within a second of the first event)")
        })?;
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
    let (to, _) = size_or_latest(&s, &t, param(&uri, "to")?, "to").await?;
    if from == 0 || from > to {
        return Err(ApiError::bad_request("invalid_parameter", format!("from must be between 1 and to ({to})"))
            .with_field("from"));
    }
    let proof = s.store.consistency_proof(&t, from, to).await?;
    Ok(Json(ConsistencyView { from, to, proof: proof.iter().map(b64).collect() }))
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
    if who.owner().is_some() {
        super::events::visible_event(&s, &who, &t, seq).await?;
    }
    let (size, cp) = size_or_latest(&s, &t, param(&uri, "tree_size")?, "tree_size").await?;
    if seq == 0 || seq > size {
        return Err(ApiError::not_found(format!("event {seq} in the tree of {size} events")));
    }
    let leaf = s.store.leaf_hash(&t, seq).await?.ok_or_else(|| ApiError::not_found(format!("event {seq}")))?;
    let proof = s.store.inclusion_proof(&t, seq, size).await?;
    // Against a checkpoint (the default), its root is the one signed: no need to compute it.
    let root = match &cp {
        Some(c) => c.root,
        None => s.store.tree_root(&t, size).await?,
    };
    Ok(Json(InclusionView {
        seq,
        leaf_index: seq - 1,
        tree_size: size,
        leaf_hash: b64(&leaf),
        root_hash: b64(&root),
        proof: proof.iter().map(b64).collect(),
        checkpoint: cp.map(|c| c.note),
    }))
}

/// The exact bytes leaf `seq` hashes (as `SHA-256(0x00 || bytes)`): the event in canonical form
/// with commitments in place of its personal values.
///
/// A leaf holds the metadata, the location and the client in clear (only the e-mail, name,
/// address and description are commitments), so a reader from whom the event's copy hides
/// something (a masked phone number, a link visitor's detail the plan withholds) gets a 403
/// for its leaf rather than the values hidden everywhere else.
pub async fn leaf(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, raw_seq)): Path<(String, String)>,
) -> ApiResult<Response> {
    who.require(&t, Scope::Read)?;
    let seq = seq(&raw_seq)?;
    let redaction = crate::redact::of(&who, &t, &s.config, &tenant(&s, &t).await?.plan);
    let event = if who.owner().is_some() {
        Some(super::events::visible_event(&s, &who, &t, seq).await?)
    } else if redaction != crate::redact::Redaction::NONE {
        s.store.event(&t, seq).await?
    } else {
        None
    };
    if let Some(e) = event.filter(|e| crate::redact::changes(e, redaction)) {
        let (what, who_may) = if redaction.hide_link_detail && crate::redact::is_link_access(&e) {
            (
                "a link visitor's e-mail, address, location and platform, which the tenant's plan does not include",
                "on a plan with link detail it is shown",
            )
        } else {
            ("an SMS phone number, which only admins of the tenant see whole", "an admin of the tenant can fetch it")
        };
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "leaf_withheld",
            format!(
                "the leaf of event {seq} holds in clear what your access hides ({what}): {who_may}; \
             its inclusion proof (GET /v1/tenants/{t}/events/{seq}/proof) still proves its leaf hash"
            ),
        ));
    }
    let data = s.store.leaf_data(&t, seq).await?.ok_or_else(|| ApiError::not_found(format!("event {seq}")))?;
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
