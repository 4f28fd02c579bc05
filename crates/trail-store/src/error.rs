use std::error::Error as StdError;

/// What can go wrong in a store, in terms the HTTP layer can answer with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing named does not exist (404).
    #[error("{0} not found")]
    NotFound(String),
    /// Creating something whose id is taken (409).
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// An event `id` seen before with a different body (409). Nothing of the batch was stored.
    #[error("events[{index}] has id {id:?}, which event seq {seq} already has with a different body")]
    Conflict { index: usize, id: String, seq: u64 },
    /// The store cannot take writes or answer now: disk full, locked, shutting down (503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else (500). The cause is logged, never shown to clients.
    #[error("store error: {0}")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    pub fn internal(e: impl StdError + Send + Sync + 'static) -> Self {
        StoreError::Internal(Box::new(e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
