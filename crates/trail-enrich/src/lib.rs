//! Ingest-time enrichment for Trail: where an event came from ([`GeoIp`] → [`Location`]) and what
//! sent it ([`parse_user_agent`] → [`Client`]); both are trail-core's types, stored as they are.
//!
//! Both are computed once, when an event is ingested, and frozen with it: a later
//! database update or parser release never changes what an old event says. So this crate is
//! deliberately small and infallible at lookup time: looking up an address or parsing a user
//! agent returns what could be found and never an error; only opening a GeoIP database can fail,
//! at start-up, with an [`EnrichError`] naming the file.
//!
//! [`Enricher`] bundles the two for the ingest path. It is `Send + Sync` and holds no locks: share
//! it behind an `Arc`.

mod error;
mod geoip;
mod useragent;

use std::{collections::HashMap, net::IpAddr, sync::Mutex};

pub use error::EnrichError;
pub use geoip::{GeoIp, Location};
pub use useragent::{Client, Device, parse as parse_user_agent};

/// Everything ingest needs to enrich an event. Without a GeoIP database, location comes only from
/// the client, and [`Enricher::location`] is always `None`.
#[derive(Debug)]
pub struct Enricher {
    /// The GeoIP database, if one is configured (`TRAIL_GEOIP_DATABASE`).
    pub geoip: Option<GeoIp>,
    /// Parsed user agents. Parsing one takes ~8 µs, as much as storing the event, while real
    /// traffic repeats a few hundred user agents over and over: a lookup here is ~50 ns.
    clients: Mutex<HashMap<Box<str>, Client>>,
}

/// User agents kept parsed at most; past this the cache starts afresh (cheaper than tracking
/// recency, and a log's user agents are few).
const CLIENT_CACHE: usize = 4096;
/// User agents longer than this are parsed every time, not kept.
const CACHED_UA_LEN: usize = 512;

impl Enricher {
    /// Makes an enricher and builds the user-agent parser now, so that the first event ingested
    /// does not wait the 100-150 ms that takes.
    pub fn new(geoip: Option<GeoIp>) -> Enricher {
        useragent::parser();
        Enricher::lazy(geoip)
    }

    /// An enricher that builds the user-agent parser on first use instead (its compiled rules
    /// take about 60 MB): for a process that may never parse a user agent, such as a command
    /// that only writes Trail's own events without a request behind them (`trail erase`).
    pub fn lazy(geoip: Option<GeoIp>) -> Enricher {
        Enricher { geoip, clients: Mutex::new(HashMap::new()) }
    }

    /// Where `ip` is, when a GeoIP database is configured and knows it. See [`GeoIp::lookup`].
    pub fn location(&self, ip: IpAddr) -> Option<Location> {
        self.geoip.as_ref()?.lookup(ip)
    }

    /// What the user agent says about the client. See [`parse_user_agent`].
    pub fn client(&self, user_agent: &str) -> Client {
        if user_agent.len() > CACHED_UA_LEN {
            return useragent::parse(user_agent);
        }
        if let Some(c) = self.clients.lock().expect("client cache").get(user_agent) {
            return c.clone();
        }
        let parsed = useragent::parse(user_agent);
        let mut cache = self.clients.lock().expect("client cache");
        if cache.len() >= CLIENT_CACHE {
            cache.clear();
        }
        cache.insert(user_agent.into(), parsed.clone());
        parsed
    }

    /// Everything done to an event's body at ingest before it is stored and hashed: enrichment,
    /// then, for a tenant that asks for it, the IP cut to its network. GeoIP reads the
    /// whole address first, so the location stays as precise as the database allows, but only
    /// the truncated address is stored or committed to.
    pub fn prepare(&self, body: &mut trail_core::event::EventBody, truncate_ips: bool) {
        self.enrich(body);
        if truncate_ips && let Some(ctx) = body.context.as_mut() {
            ctx.ip = ctx.ip.map(trail_core::privacy::truncate_ip);
        }
    }

    /// Enriches a stored event's body at ingest: `context.location` from the GeoIP
    /// database when the client gave none (a client-given location wins, whole), and
    /// `context.client` from the user agent.
    pub fn enrich(&self, body: &mut trail_core::event::EventBody) {
        let Some(ctx) = body.context.as_mut() else { return };
        if ctx.location.is_none() {
            ctx.location = ctx.ip.and_then(|ip| self.location(ip));
        }
        if let Some(ua) = ctx.user_agent.as_deref() {
            ctx.client = Some(self.client(ua));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enricher_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Enricher>();
        assert_send_sync::<GeoIp>();
    }

    #[test]
    fn without_geoip_there_is_no_location() {
        let enricher = Enricher::new(None);
        assert_eq!(enricher.location("81.2.69.142".parse().unwrap()), None);
    }
}
