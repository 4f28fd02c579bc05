//! tokio-postgres and pool errors in the terms of [`StoreError`].

use tokio_postgres::error::SqlState;
use trail_store::StoreError;

pub(crate) fn from_pg(e: tokio_postgres::Error) -> StoreError {
    if e.is_closed() {
        return StoreError::Unavailable("the connection to PostgreSQL was lost".into());
    }
    match e.code() {
        Some(c) if *c == SqlState::DISK_FULL => StoreError::Unavailable("PostgreSQL's disk is full".into()),
        Some(c) if *c == SqlState::TOO_MANY_CONNECTIONS || *c == SqlState::ADMIN_SHUTDOWN => {
            StoreError::Unavailable(format!("PostgreSQL refused: {}", c.code()))
        }
        Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => {
            StoreError::Unavailable("PostgreSQL is read-only (a standby?)".into())
        }
        None => StoreError::Unavailable(format!("PostgreSQL cannot be reached: {e}")),
        _ => StoreError::internal(e),
    }
}

/// Whether the error is a unique-key violation (something with this id exists).
pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

pub(crate) fn from_pool(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => from_pg(e),
        other => StoreError::Unavailable(format!("no PostgreSQL connection: {other}")),
    }
}

pub(crate) trait PgResultExt<T> {
    fn pg(self) -> Result<T, StoreError>;
}

impl<T> PgResultExt<T> for Result<T, tokio_postgres::Error> {
    fn pg(self) -> Result<T, StoreError> {
        self.map_err(from_pg)
    }
}

/// A stored value that is not what Trail wrote.
pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::internal(std::io::Error::new(std::io::ErrorKind::InvalidData, what.into()))
}
