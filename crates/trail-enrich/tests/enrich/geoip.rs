//! GeoIP lookups with known answers, in both record layouts.
//!
//! MaxMind layout: the MaxMind-DB project's test databases in `shared/data/geoip/`, answers from
//! `GeoIP2-City-Test.source.json` there. Flat (DB-IP / ip-location-db) layout: the databases in
//! `tests/data/`, made by `tests/data/make_test_mmdb.py`.

use std::net::IpAddr;

use trail_enrich::{EnrichError, Enricher, GeoIp, Location};

use crate::helpers::{shared, test_data};

fn open(path: std::path::PathBuf) -> GeoIp {
    GeoIp::open(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn loc(country: &str, country_name: Option<&str>, region: Option<&str>, city: Option<&str>) -> Option<Location> {
    Some(Location {
        country: Some(country.to_owned()),
        country_name: country_name.map(str::to_owned),
        region: region.map(str::to_owned),
        city: city.map(str::to_owned),
    })
}

/// Answers the City databases agree on.
fn assert_city_answers(db: &GeoIp) {
    let cases = [
        ("81.2.69.142", loc("GB", Some("United Kingdom"), Some("England"), Some("London"))),
        ("2001:480:10::1", loc("US", Some("United States"), Some("California"), Some("San Diego"))),
        ("89.160.20.128", loc("SE", Some("Sweden"), Some("Östergötland County"), Some("Linköping"))),
        ("216.160.83.57", loc("US", Some("United States"), Some("Washington"), Some("Milton"))),
        ("175.16.199.1", loc("CN", Some("China"), Some("Jilin Sheng"), Some("Changchun"))),
        ("2.125.160.216", loc("GB", Some("United Kingdom"), Some("England"), Some("Boxford"))),
        // Country only: no subdivision, no city.
        ("67.43.156.1", loc("BT", Some("Bhutan"), None, None)),
        ("2a02:ff40::1", loc("IM", Some("Isle of Man"), None, None)),
        // An IPv4 address seen by a dual-stack socket.
        ("::ffff:81.2.69.142", loc("GB", Some("United Kingdom"), Some("England"), Some("London"))),
        // Not in the database.
        ("1.1.1.1", None),
        ("2001:db8::1", None),
        // Not public.
        ("127.0.0.1", None),
        ("10.0.0.1", None),
        ("192.168.1.1", None),
        ("::1", None),
        ("fe80::1", None),
    ];
    for (address, want) in cases {
        assert_eq!(db.lookup(ip(address)), want, "{address} in {}", db.path().display());
    }
}

#[test]
fn geoip2_city() {
    let db = open(shared("geoip/GeoIP2-City-Test.mmdb"));
    assert_eq!(db.database_type(), "GeoIP2-City");
    assert_city_answers(&db);
    // Only in the GeoIP2 file: an IPv4 network stored outside the IPv4-mapped subtree...
    assert_eq!(db.lookup(ip("214.78.120.1")), loc("US", Some("United States"), Some("California"), Some("San Diego")));
    // ...a subdivision without a city...
    assert_eq!(db.lookup(ip("216.160.83.65")), loc("US", Some("United States"), Some("Washington"), None));
    // ...and records with no country at all (continent only; traits only).
    assert_eq!(db.lookup(ip("2.3.3.1")), None);
    assert_eq!(db.lookup(ip("214.1.1.1")), None);
}

#[test]
fn geolite2_city() {
    let db = open(shared("geoip/GeoLite2-City-Test.mmdb"));
    assert_eq!(db.database_type(), "GeoLite2-City");
    assert_city_answers(&db);
}

#[test]
fn geolite2_country_has_countries_only() {
    let db = open(shared("geoip/GeoLite2-Country-Test.mmdb"));
    assert_eq!(db.database_type(), "GeoLite2-Country");
    let cases = [
        ("81.2.69.142", loc("GB", Some("United Kingdom"), None, None)),
        ("2001:480:10::1", loc("US", Some("United States"), None, None)),
        ("89.160.20.128", loc("SE", Some("Sweden"), None, None)),
        ("202.196.224.1", loc("PH", Some("Philippines"), None, None)),
        ("1.1.1.1", None),
        ("127.0.0.1", None),
    ];
    for (address, want) in cases {
        assert_eq!(db.lookup(ip(address)), want, "{address}");
    }
}

#[test]
fn registered_country_stands_in_for_a_missing_country() {
    let db = open(test_data("geoip2-registered-only.mmdb"));
    assert_eq!(db.lookup(ip("203.0.113.7")), loc("IN", Some("India"), None, None));
}

#[test]
fn dbip_flat_city_ipv4() {
    let db = open(test_data("dbip-city-ipv4.mmdb"));
    assert_eq!(db.database_type(), "city ipv4");
    let cases = [
        ("203.0.113.7", loc("IN", None, Some("Karnataka"), Some("Bengaluru"))),
        ("198.51.100.1", loc("DE", None, Some("Berlin"), Some("Berlin"))),
        // A `country_name` is used when the file has one; names are UTF-8.
        ("198.51.100.200", loc("BR", Some("Brazil"), Some("São Paulo"), Some("São Paulo"))),
        // Country only: empty strings are no value.
        ("192.0.2.200", loc("FR", None, None, None)),
        // `ZZ` is DB-IP's "unknown".
        ("192.0.2.1", None),
        // A miss, and a private address (which the file maps to ZZ).
        ("8.8.8.8", None),
        ("10.1.2.3", None),
        ("::ffff:203.0.113.7", loc("IN", None, Some("Karnataka"), Some("Bengaluru"))),
        // ip-location-db ships IPv6 in another file: an IPv6 address here is a miss, not an error.
        ("2001:db8:1::1", None),
    ];
    for (address, want) in cases {
        assert_eq!(db.lookup(ip(address)), want, "{address}");
    }
}

#[test]
fn dbip_flat_city_ipv6() {
    let db = open(test_data("dbip-city-ipv6.mmdb"));
    let cases = [
        ("2001:db8:1::1", loc("JP", None, Some("Tokyo"), Some("Tokyo"))),
        ("2001:db8:2:abcd::42", loc("US", None, Some("California"), Some("San Francisco"))),
        ("2001:db8:3::1", loc("NZ", None, None, None)),
        ("2001:db8:ff::1", None),
        ("2001:db8:9999::1", None),
        ("fd00::1", None),
        // No IPv4 data in this file.
        ("203.0.113.7", None),
    ];
    for (address, want) in cases {
        assert_eq!(db.lookup(ip(address)), want, "{address}");
    }
}

#[test]
fn dbip_flat_country() {
    let db = open(test_data("dbip-country-ipv4.mmdb"));
    assert_eq!(db.lookup(ip("198.51.100.200")), loc("DE", None, None, None));
    assert_eq!(db.lookup(ip("203.0.113.7")), loc("IN", None, None, None));
    assert_eq!(db.lookup(ip("192.0.2.1")), None);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = GeoIp::open("/nonexistent/GeoLite2-City.mmdb").unwrap_err();
    assert!(matches!(err, EnrichError::GeoIpRead { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("/nonexistent/GeoLite2-City.mmdb"), "{message}");
    assert!(message.contains("No such file"), "{message}");
}

#[test]
fn a_file_that_is_not_mmdb_is_an_error_naming_it() {
    let not_mmdb = shared("geoip/GeoIP2-City-Test.source.json");
    let err = GeoIp::open(&not_mmdb).unwrap_err();
    assert!(matches!(err, EnrichError::GeoIpInvalid { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&*not_mmdb.to_string_lossy()), "{message}");
    assert!(message.contains("not a valid MaxMind DB"), "{message}");

    let dir = test_data("");
    assert!(matches!(GeoIp::open(&dir), Err(EnrichError::GeoIpRead { .. })));
}

#[test]
fn a_truncated_file_is_an_error() {
    let bytes = std::fs::read(shared("geoip/GeoLite2-City-Test.mmdb")).unwrap();
    let path = std::env::temp_dir().join(format!("trail-enrich-truncated-{}.mmdb", std::process::id()));
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let result = GeoIp::open(&path);
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(result, Err(EnrichError::GeoIpInvalid { .. })), "{result:?}");
}

#[test]
fn an_asn_database_is_refused() {
    let path = shared("geoip/GeoLite2-ASN-Test.mmdb");
    let err = GeoIp::open(&path).unwrap_err();
    assert!(matches!(err, EnrichError::GeoIpNotLocation { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("GeoLite2-ASN") && message.contains(&*path.to_string_lossy()), "{message}");
}

#[test]
fn enricher_locates_with_and_without_a_database() {
    let enricher = Enricher::new(Some(open(shared("geoip/GeoLite2-City-Test.mmdb"))));
    assert_eq!(enricher.location(ip("81.2.69.142")).and_then(|l| l.city), Some("London".to_owned()));
    assert_eq!(Enricher::new(None).location(ip("81.2.69.142")), None);
}

#[test]
fn location_serialises_as_spec_shows() {
    let db = open(test_data("dbip-city-ipv4.mmdb"));
    let json = serde_json::to_string(&db.lookup(ip("203.0.113.7")).unwrap()).unwrap();
    assert_eq!(json, r#"{"country":"IN","region":"Karnataka","city":"Bengaluru"}"#);
}

/// What ingest does with an event: GeoIP fills the location unless the client gave one, and the
/// user agent becomes `context.client`.
#[test]
fn enrich_fills_location_and_client_and_a_client_location_wins() {
    use trail_core::event::NewEvent;
    let enricher = trail_enrich::Enricher::new(Some(GeoIp::open(shared("geoip/GeoIP2-City-Test.mmdb")).unwrap()));
    let now = "2026-11-22T10:00:00Z".parse().unwrap();
    let body = |json: &str| NewEvent::from_json(json, now).unwrap().into_body(now);
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

    let mut looked_up = body(&format!(r#"{{"action":"a.b","context":{{"ip":"81.2.69.142","user_agent":"{ua}"}}}}"#));
    enricher.enrich(&mut looked_up);
    let ctx = looked_up.context.as_ref().unwrap();
    let loc = ctx.location.as_ref().expect("located by GeoIP");
    assert_eq!(
        (loc.country.as_deref(), loc.country_name.as_deref(), loc.city.as_deref()),
        (Some("GB"), Some("United Kingdom"), Some("London"))
    );
    let client = ctx.client.as_ref().expect("parsed");
    assert_eq!(client.browser.as_deref(), Some("Chrome 120"));
    assert_eq!(client.os.as_deref(), Some("Windows 10"));
    assert_eq!(client.device.as_deref(), Some("desktop"));

    let mut given =
        body(r#"{"action":"a.b","context":{"ip":"81.2.69.142","location":{"country":"IN","city":"Bengaluru"}}}"#);
    enricher.enrich(&mut given);
    let loc = given.context.as_ref().unwrap().location.as_ref().unwrap();
    assert_eq!(
        (loc.country.as_deref(), loc.city.as_deref(), loc.region.as_deref()),
        (Some("IN"), Some("Bengaluru"), None)
    );
    assert!(given.context.as_ref().unwrap().client.is_none(), "no user agent, no client");

    // Twice the same user agent: the second comes from the cache, and is the same.
    assert_eq!(enricher.client(ua), enricher.client(ua));
    let mut bare = body(r#"{"action":"a.b"}"#);
    enricher.enrich(&mut bare);
    assert!(bare.context.is_none(), "nothing to enrich, nothing added");
}
