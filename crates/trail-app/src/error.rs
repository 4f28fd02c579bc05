//! What went wrong, in the application's words.
//!
//! Every operation of this crate returns [`AppError`]. It says what happened (a tenant was not
//! found, a password is too short, the plan does not export PDF), never how a client hears of
//! it: `trail-server` turns an `AppError` into a status, a stable code and a body in one place
//! (`impl From<AppError> for ApiError` in its `error.rs`), and the CLI prints its message.
//!
//! The message of each variant is the text a client reads, so it is written for a person and
//! says what to do. The variants that carry a `field` name the request's field at fault.

use trail_core::{event::BatchError, filter::ParamError};
use trail_store::StoreError;

/// A failed operation. `Display` is the message a client reads.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing named does not exist, or is not the caller's to see (another tenant's key is
    /// told "not found", so tenant ids cannot be probed). Holds what was looked for:
    /// "tenant acme", "link l1", "event 42".
    #[error("{0} not found")]
    NotFound(String),
    /// The credential is unknown, revoked or expired.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this (scope, role, viewer-token rules).
    #[error("{0}")]
    Forbidden(String),
    /// The tenant's plan does not allow this export `format`; the message names the plans that do.
    #[error("{message}")]
    PlanRequired { format: String, message: String },
    /// An event's leaf holds in clear what the reader's redaction hides.
    #[error("{0}")]
    Withheld(String),
    /// A value given is not acceptable: `what` says which kind (and so the code and whether it
    /// is a query's fault or a body's), `field` where it was.
    #[error("{message}")]
    Invalid { what: Invalid, message: String, field: Option<String> },
    /// A query parameter this route does not take (reports take only time filters and `actor`).
    #[error("{message}")]
    UnsupportedFilter { param: String, message: String },
    /// A document export (PDF, DOCX) would have more rows than it may.
    #[error("{0}")]
    TooManyRows(String),
    /// Creating something whose id is taken. Holds what: "tenant acme".
    #[error("{0} already exists: choose another id")]
    AlreadyExists(String),
    /// An event id seen before with a different body; nothing of the batch was stored.
    #[error(
        "events[{index}].id {id:?} was already used by event seq {seq} with a different body; nothing of this request was stored: use a new id for a new event, or resend the original unchanged"
    )]
    Conflict { index: usize, id: String, seq: u64 },
    /// An ingest body that is not a valid batch of events (its own codes, from `trail-core`).
    #[error("{}; nothing of this request was stored", .0.message)]
    Batch(BatchError),
    /// The store cannot answer now (disk full, locked, shutting down). Holds the cause, which
    /// is logged, never shown.
    #[error("Trail cannot store or read events right now; nothing of this request was stored: retry later")]
    Unavailable(String),
    /// Anything else. Holds the cause (with its source chain), which is logged, never shown.
    #[error("Trail failed to handle this request; the cause is in the server log")]
    Internal(String),
}

/// Which kind of value an [`AppError::Invalid`] refused. Each has a stable code (the API's
/// `error.code`), and is either a query's fault (400) or a body's (422).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// A query parameter's value (`limit=abc`, a bad time or interval).
    Parameter,
    /// A required query parameter is missing (`format` of an export).
    MissingParameter,
    /// A view name that is not one of the catalogue's.
    View,
    Scopes,
    Plan,
    TimeZone,
    Name,
    Setting,
    TenantId,
    Email,
    Password,
    Role,
    ActorId,
    MissingActorId,
    Ttl,
    /// An erasure request that names nobody, or two people.
    ErasureSubject,
    /// A member removing themselves.
    SelfRemoval,
}

impl Invalid {
    /// The stable code the API reports.
    pub fn code(self) -> &'static str {
        match self {
            Invalid::Parameter => "invalid_parameter",
            Invalid::MissingParameter => "missing_parameter",
            Invalid::View => "unsupported_view",
            Invalid::Scopes => "invalid_scopes",
            Invalid::Plan => "invalid_plan",
            Invalid::TimeZone => "invalid_time_zone",
            Invalid::Name => "invalid_name",
            Invalid::Setting => "invalid_setting",
            Invalid::TenantId => "invalid_id",
            Invalid::Email => "invalid_email",
            Invalid::Password => "invalid_password",
            Invalid::Role => "invalid_role",
            Invalid::ActorId => "invalid_actor_id",
            Invalid::MissingActorId => "missing_actor_id",
            Invalid::Ttl => "invalid_ttl",
            Invalid::ErasureSubject => "invalid_erasure",
            Invalid::SelfRemoval => "cannot_remove_self",
        }
    }

    /// Whether the value came in the query (a 400) rather than in a body (a 422).
    pub fn query(self) -> bool {
        matches!(self, Invalid::Parameter | Invalid::MissingParameter | Invalid::View)
    }
}

impl AppError {
    /// An invalid value of kind `what`, with no field named.
    pub fn invalid(what: Invalid, message: impl Into<String>) -> AppError {
        AppError::Invalid { what, message: message.into(), field: None }
    }

    /// The same error naming `field` as the one at fault (only [`AppError::Invalid`] carries one).
    pub fn with_field(self, field: impl Into<String>) -> AppError {
        match self {
            AppError::Invalid { what, message, .. } => AppError::Invalid { what, message, field: Some(field.into()) },
            other => other,
        }
    }

    /// Something that failed for a reason no client can fix; `cause` is logged.
    pub fn internal(cause: impl std::fmt::Display) -> AppError {
        AppError::Internal(cause.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::AlreadyExists(what) => AppError::AlreadyExists(what),
            StoreError::Conflict { index, id, seq } => AppError::Conflict { index, id, seq },
            StoreError::Unavailable(why) => AppError::Unavailable(why),
            StoreError::Internal(cause) => {
                // The whole chain, for the log: the outermost error rarely says enough.
                let mut chain = cause.to_string();
                let mut src = cause.source();
                while let Some(s) = src {
                    chain.push_str(": ");
                    chain.push_str(&s.to_string());
                    src = s.source();
                }
                AppError::Internal(chain)
            }
        }
    }
}

impl From<ParamError> for AppError {
    fn from(e: ParamError) -> Self {
        AppError::Invalid { what: Invalid::Parameter, message: e.message, field: Some(e.param) }
    }
}

impl From<BatchError> for AppError {
    fn from(e: BatchError) -> Self {
        AppError::Batch(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_value_is_a_400_and_a_body_value_a_422() {
        assert!(Invalid::Parameter.query() && Invalid::View.query());
        assert!(!Invalid::Password.query() && !Invalid::SelfRemoval.query());
        assert_eq!(Invalid::TenantId.code(), "invalid_id");
    }

    #[test]
    fn store_errors_keep_their_meaning() {
        let e = AppError::from(StoreError::NotFound("tenant acme".into()));
        assert_eq!(e.to_string(), "tenant acme not found");
        let e = AppError::from(StoreError::Internal("disk".into()));
        assert!(matches!(e, AppError::Internal(c) if c == "disk"));
    }
}
