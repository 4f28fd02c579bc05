//! The one error type of this crate.
//!
//! Only opening a GeoIP database can fail. Looking an address up or parsing a user agent never
//! does: enrichment is best effort, and an event is never refused because its IP or user agent
//! could not be placed.

use std::path::PathBuf;

/// Why a GeoIP database could not be opened.
///
/// Every variant names the file and says what is wrong with it in its message. The underlying
/// error is part of that message rather than a [`std::error::Error::source`], so that printing the
/// error chain does not say the same thing twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnrichError {
    /// The file could not be read (missing, a directory, no permission, ...).
    #[error("cannot read GeoIP database {}: {error}", path.display())]
    GeoIpRead {
        /// The path given to [`crate::GeoIp::open`].
        path: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// The file was read but is not a valid MaxMind DB (`.mmdb`) file.
    #[error("GeoIP database {} is not a valid MaxMind DB (.mmdb) file: {error}", path.display())]
    GeoIpInvalid {
        /// The path given to [`crate::GeoIp::open`].
        path: PathBuf,
        /// What the MaxMind DB reader found wrong.
        error: maxminddb::MaxMindDbError,
    },
    /// The file is a valid MaxMind DB file, but of a kind that holds no locations (an ASN, ISP,
    /// domain, connection-type or anonymous-IP database): every lookup would come back empty.
    #[error(
        "GeoIP database {} is a {database_type:?} database, which holds no locations: \
         use a City or Country database (MaxMind GeoIP2/GeoLite2 or DB-IP)",
        path.display()
    )]
    GeoIpNotLocation {
        /// The path given to [`crate::GeoIp::open`].
        path: PathBuf,
        /// The `database_type` from the file's metadata.
        database_type: String,
    },
}
