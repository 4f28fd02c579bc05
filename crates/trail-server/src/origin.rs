//! Where a request came from, for the events Trail writes about it (`trail_app::own_events`):
//! the connection's peer address and the `User-Agent` header.

use std::{convert::Infallible, net::SocketAddr, sync::Arc};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts};
use trail_enrich::Enricher;

pub use trail_app::own_events::Origin;

use crate::AppState;

/// The origin of the request whose head is `parts`, enriched by `enricher`.
pub fn origin_of(parts: &Parts, enricher: &Arc<Enricher>) -> Origin {
    let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical());
    let user_agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    Origin::new(ip, user_agent, enricher.clone())
}

/// Legal under the orphan rule because `AppState` is this crate's.
impl FromRequestParts<AppState> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        Ok(origin_of(parts, &s.enricher))
    }
}
