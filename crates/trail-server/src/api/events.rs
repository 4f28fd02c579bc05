//! `/v1/tenants/{t}/events`: ingest, query, and one event.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use jiff::Timestamp;
use serde::Serialize;
use trail_core::{
    TenantId,
    event::{BodyFormat, StoredEvent, parse_batch},
    filter::parse_params,
    ids::Scope,
    time::{time_zone, truncate_us},
};
use trail_store::{PreparedEvent, Tenant};

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
    let received_at = truncate_us(Timestamp::now());
    let events = parse_batch(&body, body_format(&headers), received_at, limits)?;
    let truncate = trail_core::privacy::truncates_ips(&tenant(s, &t).await?.settings);
    let prepared: Vec<PreparedEvent> = events
        .into_iter()
        .map(|e| PreparedEvent::new(e, received_at, |body| s.enricher.prepare(body, truncate)))
        .collect();
    drop((preparing, body));
    let ids: Vec<Option<String>> = prepared.iter().map(|p| p.body.id.clone()).collect();
    let receipt = s.app.append(&t, prepared).await?;
    let duplicates = receipt.events.iter().filter(|e| e.duplicate).count();
    Metrics::add(&s.metrics.events_stored, (receipt.events.len() - duplicates) as u64);
    Metrics::add(&s.metrics.events_duplicate, duplicates as u64);
    let listed: Vec<IngestedEvent<'_>> = receipt
        .events
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(index, (a, id))| IngestedEvent { index, seq: a.seq, id: id.as_deref(), duplicate: a.duplicate })
        .collect();
    let body =
        IngestResponse { accepted: receipt.events.len(), duplicates, events: listed, tree_size: receipt.tree_size };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The tenant, or the same 404 whoever asks.
pub(crate) async fn tenant(s: &AppState, t: &TenantId) -> ApiResult<Tenant> {
    s.store.tenant(t).await?.ok_or_else(|| ApiError::not_found(format!("tenant {t}")))
}

/// What a filtered request asks for: the filter and page from its query string (with `extra`
/// parameters allowed and returned), resolved in the tenant's time zone.
pub(crate) struct Filtered {
    pub tenant: Tenant,
    pub tz: jiff::tz::TimeZone,
    pub filter: trail_core::filter::Filter,
    pub page: trail_core::filter::Page,
    pub pairs: Vec<(String, String)>,
}

impl Filtered {
    /// The value of an extra parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Whether the request set the time range itself (`range`, `from` or `to`).
    pub fn has_time(&self) -> bool {
        self.pairs.iter().any(|(k, _)| matches!(k.as_str(), "range" | "from" | "to"))
    }
}

/// The filter of a request, narrowed to the caller's own events when the caller is a `member`.
pub(crate) async fn filtered(
    s: &AppState,
    who: &Principal,
    t: &TenantId,
    uri: &Uri,
    extra: &[&str],
) -> ApiResult<Filtered> {
    let tenant = tenant(s, t).await?;
    let tz = time_zone(&tenant.time_zone).map_err(ApiError::internal)?;
    let pairs = query_pairs(uri.query());
    let (mut filter, page) =
        parse_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &tz, Timestamp::now(), extra)?;
    filter.owner = who.owner().cloned();
    // The filter sees the events as this reader is shown them: no search confirms a value
    // hidden from them.
    filter.redaction = crate::redact::of(who, t, &s.config, &tenant.plan);
    crate::identity::resolve(&*s.store, t, &mut filter).await?;
    Ok(Filtered { tenant, tz, filter, page, pairs })
}

/// One event the caller may see: anyone's for managers and up, only their own for a `member`
/// (another's is the same 404 as a missing one).
pub(crate) async fn visible_event(s: &AppState, who: &Principal, t: &TenantId, seq: u64) -> ApiResult<StoredEvent> {
    let owner = match who.owner() {
        Some(o) => Some(crate::identity::owner(&*s.store, t, o).await?),
        None => None,
    };
    match s.store.event(t, seq).await? {
        Some(e) if owner.is_none_or(|o| o.owns(&e.body)) => Ok(e),
        _ => Err(ApiError::not_found(format!("event {seq}"))),
    }
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
    let mut result = s.store.query(&t, &f.filter, f.page).await?;
    let r = f.filter.redaction;
    result.events.iter_mut().for_each(|e| crate::redact::event(e, r));
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
    let mut event = visible_event(&s, &who, &t, seq).await?;
    let plan = tenant(&s, &t).await?.plan;
    crate::redact::event(&mut event, crate::redact::of(&who, &t, &s.config, &plan));
    let leaf = s.store.leaf_hash(&t, seq).await?;
    use base64::Engine;
    let leaf_hash = leaf.map(|h| base64::engine::general_purpose::STANDARD.encode(h));
    Ok(Json(EventWithLeaf { event, leaf_hash }))
}
