//! `/v1/tenants/{t}/events`: ingest, query, and one event. What each does is trail-app's
//! (`ingest`, `queries`); here are the request's body and parameters, and the JSON answered.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
pub(crate) use trail_app::queries::Filtered;
use trail_app::{ingest, queries};
use trail_core::{
    TenantId,
    event::{BodyFormat, StoredEvent},
    ids::Scope,
};

use super::extract::TenantPath;
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
    metrics::Metrics,
    params::query_pairs,
};

#[derive(Serialize)]
pub struct IngestResponse<'a> {
    accepted: usize,
    duplicates: usize,
    events: Vec<IngestedEvent<'a>>,
    tree_size: u64,
}

#[derive(Serialize)]
pub struct EventsResponse {
    events: Vec<StoredEvent>,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct IngestedEvent<'a> {
    index: usize,
    seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    duplicate: bool,
}

fn body_format(headers: &HeaderMap) -> BodyFormat {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.contains("ndjson") || ct.contains("jsonlines") || ct.contains("jsonl") {
        BodyFormat::Ndjson
    } else {
        BodyFormat::Json
    }
}

pub async fn ingest(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    Metrics::add(&s.metrics.ingest_requests, 1);
    let result = ingest_inner(&s, who, t, headers, body).await;
    if result.is_err() {
        // A 5xx is counted in `server_errors` by the router's layer, like every route's.
        Metrics::add(&s.metrics.ingest_rejected, 1);
    }
    result
}

async fn ingest_inner(
    s: &AppState,
    who: Principal,
    t: TenantId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    who.require(&t, Scope::Ingest)?;
    let limits = s.config.limits;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                format!(
                    "the request is larger than {} bytes: split it into several requests; nothing was stored",
                    limits.max_bytes
                ),
            )
        } else {
            ApiError::new(e.status(), "invalid_body", format!("cannot read the request body: {e}"))
        }
    })?;
    // Validation is the CPU part of ingest: a few requests at a time (`admission.rs`).
    let preparing = s.admission.preparing().await;
    let prepared = ingest::prepare(&s.app, &t, &body, body_format(&headers), &s.enricher).await?;
    drop((preparing, body));
    let receipt = ingest::append(&s.app, &t, prepared).await?;
    let duplicates = receipt.duplicates();
    Metrics::add(&s.metrics.events_stored, receipt.stored() as u64);
    Metrics::add(&s.metrics.events_duplicate, duplicates as u64);
    let listed: Vec<IngestedEvent<'_>> = receipt
        .events
        .iter()
        .enumerate()
        .map(|(index, e)| IngestedEvent { index, seq: e.seq, id: e.id.as_deref(), duplicate: e.duplicate })
        .collect();
    let body =
        IngestResponse { accepted: receipt.events.len(), duplicates, events: listed, tree_size: receipt.tree_size };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The filter of a request (`trail_app::queries::filtered`): its query string, with `extra`
/// parameters allowed and kept, for the caller.
pub(crate) async fn filtered(
    s: &AppState,
    who: &Principal,
    t: &TenantId,
    uri: &Uri,
    extra: &[&str],
) -> ApiResult<Filtered> {
    Ok(queries::filtered(&s.app, who, t, query_pairs(uri.query()), extra).await?)
}

pub async fn query(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    uri: Uri,
) -> ApiResult<Json<EventsResponse>> {
    who.require(&t, Scope::Read)?;
    Metrics::add(&s.metrics.query_requests, 1);
    let f = filtered(&s, &who, &t, &uri, &[]).await?;
    let result = queries::page(&*s.store, &t, &f.filter, f.page).await?;
    Ok(Json(EventsResponse { events: result.events, next_cursor: result.next_cursor.map(|c| c.encode()) }))
}

/// One event, with its leaf hash.
#[derive(Serialize)]
pub struct EventWithLeaf {
    #[serde(flatten)]
    event: StoredEvent,
    leaf_hash: Option<String>,
}

pub async fn get_one(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    Path((_, seq)): Path<(String, String)>,
) -> ApiResult<Json<EventWithLeaf>> {
    who.require(&t, Scope::Read)?;
    let seq: u64 = seq.parse().map_err(|_| {
        ApiError::bad_request("invalid_parameter", format!("{seq:?} is not a seq: use the event's number, such as 42"))
            .with_field("seq")
    })?;
    let event = queries::event(&s.app, &who, &t, seq).await?;
    let leaf = s.store.leaf_hash(&t, seq).await?;
    use base64::Engine;
    let leaf_hash = leaf.map(|h| base64::engine::general_purpose::STANDARD.encode(h));
    Ok(Json(EventWithLeaf { event, leaf_hash }))
}
