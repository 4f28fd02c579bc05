//! rusqlite errors in the terms of [`StoreError`].

use rusqlite::ErrorCode;
use trail_store::StoreError;

pub(crate) fn from_sqlite(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.code {
            ErrorCode::DiskFull => return StoreError::Unavailable("the disk is full".into()),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Unavailable("the database is busy".into());
            }
            ErrorCode::ReadOnly | ErrorCode::CannotOpen => {
                return StoreError::Unavailable("the database cannot be written".into());
            }
            _ => {}
        }
    }
    StoreError::internal(e)
}

pub(crate) trait SqlResultExt<T> {
    fn sql(self) -> Result<T, StoreError>;
}

impl<T> SqlResultExt<T> for rusqlite::Result<T> {
    fn sql(self) -> Result<T, StoreError> {
        self.map_err(from_sqlite)
    }
}
