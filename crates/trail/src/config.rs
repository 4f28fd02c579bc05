//! Configuration: one typed struct, from defaults, then the TOML file, then `TRAIL_*`
//! environment variables, then command-line flags (each later source wins).
//!
//! Secrets (the operator key, database URLs with passwords) are wrapped in [`Secret`], whose
//! `Debug` never shows them, so a config can be logged whole.

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// A value that must never be printed.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A plan: what a tenant on it keeps and sees (docs/configuration.md).
pub use trail_app::plans::Plan as PlanConfig;

/// The four plans every Trail knows; the config file may change them or add more.
pub fn builtin_plans() -> BTreeMap<String, PlanConfig> {
    trail_app::plans::builtin()
}

/// The config file's shape. Every key is optional; unknown keys are errors (typos surface).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub database: Option<Secret>,
    pub listen: Option<String>,
    pub operator_key: Option<Secret>,
    pub server_name: Option<String>,
    pub default_plan: Option<String>,
    pub signing_key: Option<PathBuf>,
    pub geoip_database: Option<PathBuf>,
    pub max_ingest_requests: Option<usize>,
    pub max_ingest_body_mib: Option<usize>,
    pub max_read_requests: Option<usize>,
    #[serde(default)]
    pub plans: BTreeMap<String, PlanConfig>,
}

/// The settled configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory of the embedded store.
    pub data: PathBuf,
    /// A database URL; when set, used instead of `data`.
    pub database: Option<Secret>,
    pub listen: SocketAddr,
    pub operator_key: Option<Secret>,
    pub server_name: String,
    pub default_plan: String,
    /// The checkpoint signing key file [default: `signing.key` in the data directory].
    pub signing_key: Option<PathBuf>,
    /// A GeoIP `.mmdb` (MaxMind City/Country layout or DB-IP flat layout) that locates events'
    /// addresses at ingest; without one, location comes only from the client.
    pub geoip_database: Option<PathBuf>,
    /// How much work the server takes on at once; beyond it, requests are answered `503
    /// overloaded` with `Retry-After`.
    pub admission: trail_server::admission::AdmissionLimits,
    pub plans: BTreeMap<String, PlanConfig>,
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Config> {
        let from_file: FileConfig = match file {
            None => FileConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("the config file {} is not valid", path.display()))?
            }
        };
        Self::from_sources(from_file, |k| std::env::var(k).ok())
    }

    pub fn from_sources(file: FileConfig, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let env_nonempty = |k: &str| env(k).filter(|v| !v.is_empty());
        let mut plans = builtin_plans();
        plans.extend(file.plans);
        let defaults = trail_server::admission::AdmissionLimits::default();
        let count = |var: &str, key: &str, file: Option<usize>, default: usize| -> anyhow::Result<usize> {
            let n =
                match env_nonempty(var) {
                    Some(v) => v.trim().parse::<usize>().ok().with_context(|| {
                        format!("{var} {v:?} is not a number: give a whole number such as {default}")
                    })?,
                    None => file.unwrap_or(default),
                };
            if n == 0 {
                bail!(
                    "{key} (or {var}) must be at least 1: it bounds how many requests run at once (default {default})"
                );
            }
            Ok(n)
        };
        let admission = trail_server::admission::AdmissionLimits {
            ingest_requests: count(
                "TRAIL_MAX_INGEST_REQUESTS",
                "max_ingest_requests",
                file.max_ingest_requests,
                defaults.ingest_requests,
            )?,
            ingest_body_bytes: count(
                "TRAIL_MAX_INGEST_BODY_MIB",
                "max_ingest_body_mib",
                file.max_ingest_body_mib,
                defaults.ingest_body_bytes >> 20,
            )?
            .saturating_mul(1 << 20),
            read_requests: count(
                "TRAIL_MAX_READ_REQUESTS",
                "max_read_requests",
                file.max_read_requests,
                defaults.read_requests,
            )?,
        };
        let listen_text = env_nonempty("TRAIL_LISTEN").or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let config = Config {
            data: env_nonempty("TRAIL_DATA").map(PathBuf::from).or(file.data).unwrap_or_else(|| "trail-data".into()),
            database: env_nonempty("TRAIL_DATABASE").map(Secret::new).or(file.database),
            listen: parse_listen(&listen_text)?,
            operator_key: env_nonempty("TRAIL_OPERATOR_KEY").map(Secret::new).or(file.operator_key),
            server_name: env_nonempty("TRAIL_SERVER_NAME").or(file.server_name).unwrap_or_else(default_server_name),
            default_plan: env_nonempty("TRAIL_DEFAULT_PLAN")
                .or(file.default_plan)
                .unwrap_or_else(|| "enterprise".into()),
            signing_key: env_nonempty("TRAIL_SIGNING_KEY").map(PathBuf::from).or(file.signing_key),
            geoip_database: env_nonempty("TRAIL_GEOIP_DATABASE").map(PathBuf::from).or(file.geoip_database),
            admission,
            plans,
        };
        if !config.plans.contains_key(&config.default_plan) {
            bail!(
                "default_plan {:?} is not a plan: use one of {}",
                config.default_plan,
                config.plans.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        if let Some(key) = &config.operator_key
            && key.expose().len() < 16
        {
            bail!("the operator key must be at least 16 characters long: generate one with `openssl rand -base64 32`");
        }
        Ok(config)
    }
}

pub fn parse_listen(s: &str) -> anyhow::Result<SocketAddr> {
    s.parse().with_context(|| {
        format!("listen address {s:?} is not valid: use HOST:PORT, such as 127.0.0.1:8080 or 0.0.0.0:8080")
    })
}

fn default_server_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins_over_file_and_file_over_defaults() {
        let file: FileConfig = toml::from_str(
            r#"
            listen = "0.0.0.0:9000"
            data = "/srv/trail"
            [plans.starter]
            retention_days = 7
            link_detail = false
            exports = ["csv"]
            "#,
        )
        .unwrap();
        let c = Config::from_sources(file, |k| (k == "TRAIL_LISTEN").then(|| "127.0.0.1:7000".to_string())).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(c.data, PathBuf::from("/srv/trail"));
        assert_eq!(c.plans.len(), 5);
        assert_eq!(c.plans["starter"].retention_days, Some(7));
        assert_eq!(c.plans["basic"].retention_days, Some(30));
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Config::from_sources(FileConfig::default(), |k| {
            (k == "TRAIL_OPERATOR_KEY").then(|| "super-secret-operator-key".to_string())
        })
        .unwrap();
        assert!(!format!("{c:?}").contains("super-secret"));
    }

    #[test]
    fn admission_limits_come_from_file_and_environment() {
        let c = Config::from_sources(FileConfig::default(), |_| None).unwrap();
        assert_eq!(c.admission, trail_server::admission::AdmissionLimits::default());
        let file: FileConfig =
            toml::from_str("max_ingest_requests = 8\nmax_ingest_body_mib = 32\nmax_read_requests = 4").unwrap();
        let c = Config::from_sources(file, |k| (k == "TRAIL_MAX_READ_REQUESTS").then(|| "16".into())).unwrap();
        assert_eq!(c.admission.ingest_requests, 8);
        assert_eq!(c.admission.ingest_body_bytes, 32 << 20);
        assert_eq!(c.admission.read_requests, 16);
        let zero =
            Config::from_sources(FileConfig::default(), |k| (k == "TRAIL_MAX_INGEST_REQUESTS").then(|| "0".into()));
        assert!(zero.unwrap_err().to_string().contains("max_ingest_requests"));
        let junk =
            Config::from_sources(FileConfig::default(), |k| (k == "TRAIL_MAX_INGEST_BODY_MIB").then(|| "lots".into()));
        assert!(junk.unwrap_err().to_string().contains("is not a number"));
    }

    #[test]
    fn typos_are_errors() {
        assert!(toml::from_str::<FileConfig>("listn = \"x\"").is_err());
        assert!(Config::from_sources(FileConfig::default(), |k| (k == "TRAIL_LISTEN").then(|| "nope".into())).is_err());
    }
}
