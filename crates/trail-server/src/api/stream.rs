//! `GET /v1/tenants/{t}/stream`: a live tail of new events as Server-Sent Events.
//!
//! The stream follows seq (the order Trail accepted events), so it can resume exactly: each
//! event's SSE `id` is its seq, and a client that reconnects with `Last-Event-ID` (which
//! browsers' `EventSource` sends by itself) receives every matching event after that seq.
//! Without it the stream starts after the newest event (or after `after=SEQ`). Filters are those
//! of the query; the time range applies only when given (`range`, `from`, `to`).

use std::{collections::VecDeque, convert::Infallible, time::Duration};

use axum::{
    extract::State,
    http::{HeaderMap, Uri},
    response::sse::{Event, KeepAlive, Sse},
};
use futures::Stream;
use trail_core::{event::StoredEvent, filter::Filter, ids::Scope, time::TimeBounds};

use super::{events::filtered, extract::TenantPath};
use crate::{
    AppState,
    auth::Principal,
    error::{ApiError, ApiResult},
    tail::Subscription,
};

/// How long one stream lasts. The caller is checked when a stream opens, so a stream ends
/// after this and the client reconnects (as `EventSource` does by itself, resuming with
/// `Last-Event-ID`, and losing nothing): a revoked key, an ended session or an expired viewer
/// token stops receiving events within this time.
const MAX_LIFE: Duration = Duration::from_secs(5 * 60);

/// One stream: its tenant's events come from the tenant's hub (`crate::tail`), read once for
/// every stream; this stream filters them and redacts its own copies.
struct Tail {
    /// When the stream ends (see [`MAX_LIFE`]).
    ends: tokio::time::Instant,
    /// Whether phone numbers are masked for this reader (`redact.rs`).
    mask: trail_app::redact::Redaction,
    filter: Filter,
    events: Subscription,
    ready: VecDeque<StoredEvent>,
}

impl Tail {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(mut e) = self.ready.pop_front() {
                trail_app::redact::event(&mut e, self.mask);
                let data = serde_json::to_string(&e).ok()?;
                let event = Event::default().id(e.seq.to_string()).event("event").data(data);
                return Some((Ok(event), self));
            }
            tokio::select! {
                chunk = self.events.next() => match chunk {
                    Ok(chunk) => {
                        let filter = &self.filter;
                        self.ready.extend(chunk.events().iter().filter(|e| filter.matches(&e.body)).cloned());
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "stream ends: store error");
                        return None;
                    }
                },
                _ = tokio::time::sleep_until(self.ends) => return None,
            }
        }
    }
}

pub async fn stream(
    State(s): State<AppState>,
    who: Principal,
    TenantPath(t): TenantPath,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    who.require(&t, Scope::Read)?;
    let f = filtered(&s, &who, &t, &uri, &["after"]).await?;
    let mut filter = f.filter.clone();
    if !f.has_time() {
        filter.time = TimeBounds::default();
    }
    let seq = |v: &str, what: &str| {
        v.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request(
                "invalid_parameter",
                format!("{what} {v:?} is not a seq: give the seq of the last event received"),
            )
            .with_field(what)
        })
    };
    let after = match (headers.get("last-event-id").and_then(|v| v.to_str().ok()), f.param("after")) {
        (Some(id), _) => seq(id, "Last-Event-ID")?,
        (None, Some(a)) => seq(a, "after")?,
        (None, None) => f.tenant.event_count,
    };
    let ends = tokio::time::Instant::now() + MAX_LIFE;
    // The filter, which is the query's, matches what the reader is shown (`redact.rs`).
    let mask = f.filter.redaction;
    let events = s.tails.subscribe(&t, after, f.tenant.event_count);
    let tail = Tail { ends, mask, filter, events, ready: VecDeque::new() };
    let events = futures::stream::unfold(tail, Tail::next);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
