use std::path::PathBuf;

/// Where the data lives, chosen once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded store in a data directory.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL. Kept whole: it may carry a password, so it is never printed.
    Postgres(String),
}

impl StoreLocation {
    /// Reads `--database`/`TRAIL_DATABASE`: `postgres://...`, `postgresql://...`, `sqlite://DIR` or
    /// `sqlite:DIR`. Any other scheme is an error that lists the ones Trail knows.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreLocation::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err("sqlite: URL names no directory: use sqlite://PATH/TO/DATA-DIR".into());
            }
            return Ok(StoreLocation::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("(none)");
        Err(format!(
            "unknown database URL scheme {scheme:?}: use postgres://USER@HOST/DB for PostgreSQL, or --data DIR (sqlite://DIR) for the embedded store"
        ))
    }

    /// A description safe to print (no password).
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(p) => format!("embedded SQLite in {}", p.display()),
            StoreLocation::Postgres(url) => {
                let host =
                    url.rsplit_once('@').map(|(_, h)| h).unwrap_or_else(|| url.split_once("://").map_or("", |x| x.1));
                format!("PostgreSQL at {host}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert!(matches!(StoreLocation::from_url("postgres://u:p@h/db"), Ok(StoreLocation::Postgres(_))));
        assert_eq!(StoreLocation::from_url("sqlite:///tmp/x"), Ok(StoreLocation::Sqlite("/tmp/x".into())));
        let e = StoreLocation::from_url("mysql://h/db").unwrap_err();
        assert!(e.contains("\"mysql\""), "{e}");
        assert!(!StoreLocation::Postgres("postgres://u:secret@h/db".into()).describe().contains("secret"));
    }
}
