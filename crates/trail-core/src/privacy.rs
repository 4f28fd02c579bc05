//! Per-tenant privacy settings applied at ingest: IP truncation, before storage and
//! before hashing, so the full address is never kept or committed to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};

/// The tenant setting that turns truncation on: `{"ip_truncation": true}`.
pub const IP_TRUNCATION: &str = "ip_truncation";

/// An address cut to its network: IPv4 to /24, IPv6 to /48.
pub fn truncate_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    }
}

/// Whether a tenant's settings ask for IP truncation.
pub fn truncates_ips(settings: &Map<String, Value>) -> bool {
    settings.get(IP_TRUNCATION).and_then(Value::as_bool).unwrap_or(false)
}

/// Checks a change to a tenant's settings: the keys Trail knows, with values of their type
/// (`null` removes a key). Returns what is wrong and how to fix it.
pub fn check_settings(settings: &Map<String, Value>) -> Result<(), (String, String)> {
    for (k, v) in settings {
        match (k.as_str(), v) {
            (IP_TRUNCATION, Value::Bool(_) | Value::Null) => {}
            (IP_TRUNCATION, _) => {
                return Err((format!("settings.{k}"), format!("{k} must be true or false")));
            }
            _ => {
                return Err((
                    format!("settings.{k}"),
                    format!("setting {k:?} is unknown: the settings are {IP_TRUNCATION} (true or false)"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_keep_only_their_network() {
        assert_eq!(truncate_ip("203.0.113.77".parse().unwrap()), "203.0.113.0".parse::<IpAddr>().unwrap());
        assert_eq!(
            truncate_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348".parse().unwrap()),
            "2001:db8:85a3::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn only_known_settings_of_their_type() {
        let ok: Map<String, Value> = serde_json::from_str(r#"{"ip_truncation": true}"#).unwrap();
        assert!(check_settings(&ok).is_ok());
        let bad: Map<String, Value> = serde_json::from_str(r#"{"ip_truncation": "yes"}"#).unwrap();
        assert_eq!(check_settings(&bad).unwrap_err().0, "settings.ip_truncation");
        let unknown: Map<String, Value> = serde_json::from_str(r#"{"ip_trunc": true}"#).unwrap();
        assert!(check_settings(&unknown).is_err());
    }
}
