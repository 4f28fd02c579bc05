//! The events Trail writes about what people do with it (`trail.*`, docs/events.md): the auditors are
//! audited. Each goes into the tenant's own log, tree and checkpoints like any other event, through
//! the one append path ([`App::append`]), so live streams see it.
//!
//! An event caused by a request carries the request's [`Origin`] in `context` (the address it
//! came from and its `User-Agent`), and is enriched like an ingested event (GeoIP location,
//! client from the user agent, the tenant's IP truncation), so Trail's own events read like
//! any `auth.login.*` in the console, the reports and exports. Events with no request behind
//! them (the CLI, retention) have no context. How an origin is read from a request is the HTTP
//! server's (`trail-server/src/origin.rs`).

use std::{net::IpAddr, sync::Arc};

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use trail_core::{
    TenantId,
    event::{NewEvent, validate::limits},
};
use trail_enrich::Enricher;
use trail_store::{PreparedEvent, StoreError};

use crate::App;

/// Where a request came from: the peer address of its connection and its `User-Agent`.
///
/// The address is the TCP peer's. Trail has no setting that says a proxy in front is
/// trusted, so `X-Forwarded-For` (which any client can send) is never believed: behind a
/// reverse proxy, Trail's own events carry the proxy's address.
#[derive(Clone, Default)]
pub struct Origin {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// Enriches the context (location, client); none outside a server.
    enricher: Option<Arc<Enricher>>,
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin").field("ip", &self.ip).field("user_agent", &self.user_agent).finish()
    }
}

impl Origin {
    /// No request behind the event (the CLI, retention, the demo's setup).
    pub fn none() -> Origin {
        Origin::default()
    }

    /// A request's origin: its peer address and `User-Agent` as sent (trimmed, cut to the
    /// longest user agent an event may hold, and none when blank), enriched by `enricher`.
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>, enricher: Arc<Enricher>) -> Origin {
        let user_agent = user_agent.map(|ua| clip(ua.trim(), limits::USER_AGENT)).filter(|ua| !ua.is_empty());
        Origin { ip, user_agent, enricher: Some(enricher) }
    }

    /// The event's `context`, if there is anything to say.
    fn context(&self) -> Option<Value> {
        let mut c = Map::new();
        if let Some(ip) = self.ip {
            c.insert("ip".into(), json!(ip.to_string()));
        }
        if let Some(ua) = &self.user_agent {
            c.insert("user_agent".into(), json!(ua));
        }
        (!c.is_empty()).then_some(Value::Object(c))
    }
}

/// At most `max` characters of `s`: a longer user agent is cut rather than refused, since the
/// event must be written whatever the client sends.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => s[..at].to_owned(),
        None => s.to_owned(),
    }
}

/// Appends one `action` event by `actor` to `tenant`'s log, from `origin`, through the one
/// append path (so live streams see it); returns its seq.
pub async fn record(
    app: &App,
    tenant: &TenantId,
    origin: &Origin,
    actor: Value,
    action: &str,
    description: String,
    metadata: Value,
) -> Result<u64, StoreError> {
    let event = json!({"action": action, "actor": actor, "description": description, "metadata": metadata});
    append(app, tenant, origin, event).await
}

/// Appends `event` (an event as a client would send it, without `context`) to `tenant`'s log
/// with `origin` as its context; returns its seq.
pub async fn append(app: &App, tenant: &TenantId, origin: &Origin, mut event: Value) -> Result<u64, StoreError> {
    if let Some(context) = origin.context() {
        event["context"] = context;
    }
    let now = trail_core::time::truncate_us(Timestamp::now());
    let new = NewEvent::from_json(&event.to_string(), now)
        .map_err(|e| StoreError::Internal(format!("{}: {}", e.field, e.message).into()))?;
    // The tenant's IP truncation applies to Trail's own events as to ingested ones.
    let truncate = match (&origin.enricher, origin.ip) {
        (Some(_), Some(_)) => {
            app.store().tenant(tenant).await?.is_some_and(|t| trail_core::privacy::truncates_ips(&t.settings))
        }
        _ => false,
    };
    let prepared = PreparedEvent::new(new, now, |body| {
        if let Some(e) = &origin.enricher {
            e.prepare(body, truncate);
        }
    });
    let receipt = app.append(tenant, vec![prepared]).await?;
    Ok(receipt.events.first().map(|e| e.seq).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_user_agent_is_cut_at_a_character_boundary() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("ééé", 2), "éé");
        assert_eq!(clip(&"x".repeat(2000), limits::USER_AGENT).len(), limits::USER_AGENT);
    }

    #[test]
    fn no_request_means_no_context() {
        assert_eq!(Origin::none().context(), None);
        let o = Origin { ip: Some("203.0.113.7".parse().unwrap()), user_agent: Some("curl/8".into()), enricher: None };
        assert_eq!(o.context(), Some(json!({"ip": "203.0.113.7", "user_agent": "curl/8"})));
        let blank = Origin::new(None, Some("  "), Arc::new(Enricher::new(None)));
        assert_eq!(blank.context(), None);
    }
}
