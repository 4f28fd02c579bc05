//! GeoIP: from an IP address to a country, region and city, read from a MaxMind DB (`.mmdb`) file.
//!
//! Two record layouts are in use for location data, and one [`GeoIp::lookup`] reads both:
//!
//! - **MaxMind** (GeoIP2 / GeoLite2 City and Country, and DB-IP's own `.mmdb` downloads, which copy
//!   it): nested maps, `country.iso_code`, `country.names.en`, `subdivisions[0].names.en`,
//!   `city.names.en`. Records for anonymous proxies and the like have no `country`, only a
//!   `registered_country`, which is used instead.
//! - **Flat** (ip-location-db's `dbip-city` / `dbip-country` / `geolite2-city` `.mmdb` files, written
//!   by its `ip-location-to-mmdb` tool): one map of strings, `country_code`, `state1`, `state2`,
//!   `city`, `postcode`, `timezone`, `latitude`, `longitude`; a `country_name` is read when present.
//!   These files leave unknown values as empty strings and use `ZZ` for "no country".
//!
//! The layout is told from the record itself rather than from the `database_type` metadata, which
//! is free text (`GeoIP2-City`, `DBIP-City-Lite`, `city ipv4`, ...): `city` and `country` are decoded
//! by a visitor that accepts either a map (MaxMind) or a plain string (flat), and the flat top-level
//! keys are read beside the MaxMind ones. A record is decoded in one pass, keeping only English
//! names; the other languages are skipped without being expanded.
//!
//! The file is read into memory rather than memory-mapped: `maxminddb`'s `open_mmap` is `unsafe`
//! (the file must not change while mapped, which an operator replacing the database in place
//! would break), and the workspace denies `unsafe_code`. A City database is tens of megabytes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::EnrichError;

/// Where an IP address is, as far as the database knows: trail-core's `context.location`
/// (ISO 3166-1 alpha-2 `country`; English `country_name`, `region` (the first-level
/// subdivision) and `city`; flat-layout databases usually give no `country_name`).
pub use trail_core::event::Location;

/// An open GeoIP database. Cheap to share: lookups take `&self` and it is `Send + Sync`.
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
    path: PathBuf,
}

impl fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIp")
            .field("path", &self.path)
            .field("database_type", &self.database_type())
            .finish_non_exhaustive()
    }
}

impl GeoIp {
    /// Reads a MaxMind DB file into memory and checks that it is one and holds locations.
    ///
    /// Fails, naming the path, when the file cannot be read, is not a MaxMind DB file, or is a
    /// kind of database that has no locations (ASN, ISP, ...).
    pub fn open(path: impl AsRef<Path>) -> Result<GeoIp, EnrichError> {
        let path = path.as_ref().to_path_buf();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) => return Err(EnrichError::GeoIpRead { path, error }),
        };
        let reader = match Reader::from_source(bytes) {
            Ok(reader) => reader,
            Err(error) => return Err(EnrichError::GeoIpInvalid { path, error }),
        };
        let database_type = &reader.metadata().database_type;
        if !holds_locations(database_type) {
            return Err(EnrichError::GeoIpNotLocation { database_type: database_type.clone(), path });
        }
        Ok(GeoIp { reader, path })
    }

    /// The path the database was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `database_type` from the file's metadata, e.g. `GeoLite2-City` or `city ipv4`: worth
    /// logging at start-up.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// Where `ip` is, or `None` when the database does not know.
    ///
    /// `None` also for addresses that are not on the public internet (loopback, private,
    /// link-local, unique-local, CGNAT, multicast, unspecified), which some databases map to a
    /// placeholder record. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is looked up as the IPv4
    /// address. An IPv6 address in an IPv4-only database (ip-location-db ships one file per IP
    /// version) is `None`. A record that cannot be decoded is `None` rather than an error: a bad
    /// record must not stop an event from being stored.
    pub fn lookup(&self, ip: IpAddr) -> Option<Location> {
        let ip = canonical(ip);
        if !is_public(ip) {
            return None;
        }
        let result = self.reader.lookup(ip).ok()?;
        let record: Record = result.decode().ok()??;
        record.into_location()
    }
}

/// Whether a database of this `database_type` holds locations. Only known non-location kinds are
/// refused, so an unfamiliar name from another vendor still opens.
fn holds_locations(database_type: &str) -> bool {
    let kind = database_type.to_ascii_lowercase();
    if kind.contains("city") || kind.contains("country") || kind.contains("enterprise") {
        return true;
    }
    const NOT_LOCATION: [&str; 6] = ["asn", "isp", "domain", "connection-type", "anonymous", "user-connection"];
    !NOT_LOCATION.iter().any(|word| kind.contains(word))
}

/// `::ffff:a.b.c.d` is the IPv4 address `a.b.c.d` (dual-stack sockets report IPv4 clients so).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Whether an address can be on the public internet, so that looking it up makes sense.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let this_network = a == 0;
    let shared_cgnat = a == 100 && (b & 0xc0) == 64;
    !(this_network
        || shared_cgnat
        || ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast())
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local())
}

/// The fields of a record that Trail uses, in either layout. Everything else is skipped.
#[derive(Deserialize)]
struct Record {
    // MaxMind layout.
    country: Option<Place>,
    registered_country: Option<Place>,
    subdivisions: Option<Vec<Place>>,
    // Both: a map in MaxMind's layout, a string in the flat one.
    city: Option<Place>,
    // Flat layout.
    country_code: Option<String>,
    country_name: Option<String>,
    state1: Option<String>,
}

impl Record {
    fn into_location(self) -> Option<Location> {
        // MaxMind: `country`, or `registered_country` when there is no `country`.
        let place = self.country.filter(|c| !c.is_empty()).or(self.registered_country).unwrap_or_default();
        let (code, name) = match (place.code, place.name) {
            // A flat file with a plain-string `country`: a two-letter value is the code.
            (None, Some(name)) if is_country_code(&name) => (Some(name), None),
            other => other,
        };
        let country = clean(code.or(self.country_code)).filter(|c| c != "ZZ");
        let country_name = clean(name.or(self.country_name));
        let subdivision = self.subdivisions.and_then(|s| s.into_iter().next()).and_then(|s| s.name);
        let region = clean(subdivision.or(self.state1));
        let city = clean(self.city.and_then(|c| c.name));
        let location = Location { country, country_name, region, city };
        (location != Location::default()).then_some(location)
    }
}

fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Empty strings (the flat layout's "unknown") are no value.
fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A `country`, `registered_country`, subdivision or `city` value: a map with `iso_code` and
/// `names` in MaxMind's layout, a plain string (the name) in the flat one.
#[derive(Default)]
struct Place {
    code: Option<String>,
    name: Option<String>,
}

impl Place {
    fn is_empty(&self) -> bool {
        self.code.is_none() && self.name.is_none()
    }
}

/// Only the English name is kept; serde skips the other languages.
#[derive(Deserialize, Default)]
struct Names {
    en: Option<String>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum PlaceKey {
    IsoCode,
    Names,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for Place {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PlaceVisitor)
    }
}

struct PlaceVisitor;

impl<'de> Visitor<'de> for PlaceVisitor {
    type Value = Place;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a place name, or a map with `iso_code` and `names`")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Place, E> {
        Ok(Place { code: None, name: Some(name.to_owned()) })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Place, A::Error> {
        let mut place = Place::default();
        while let Some(key) = map.next_key::<PlaceKey>()? {
            match key {
                PlaceKey::IsoCode => place.code = map.next_value()?,
                PlaceKey::Names => place.name = map.next_value::<Names>()?.en,
                PlaceKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(place)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_addresses_are_not_looked_up() {
        for ip in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1", "100.64.0.1", "0.0.0.0"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["::1", "::", "fd00::1", "fe80::1", "ff02::1"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["81.2.69.142", "8.8.8.8", "100.128.0.1", "2001:480:10::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn ipv4_mapped_addresses_become_ipv4() {
        let mapped: IpAddr = "::ffff:81.2.69.142".parse().unwrap();
        assert_eq!(canonical(mapped), "81.2.69.142".parse::<IpAddr>().unwrap());
        assert!(!is_public(canonical("::ffff:127.0.0.1".parse().unwrap())));
    }

    #[test]
    fn location_kinds() {
        for kind in ["GeoIP2-City", "GeoLite2-Country", "DBIP-City-Lite", "city ipv4", "country ipv6", "Vendor-Geo"] {
            assert!(holds_locations(kind), "{kind}");
        }
        for kind in ["GeoLite2-ASN", "GeoIP2-ISP", "GeoIP2-Domain", "GeoIP2-Connection-Type", "GeoIP2-Anonymous-IP"] {
            assert!(!holds_locations(kind), "{kind}");
        }
    }
}
