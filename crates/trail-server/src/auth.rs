//! Who is calling, and what they may do.

use axum::{extract::FromRequestParts, http::request::Parts};
use trail_core::{TenantId, ids::Scope};

use crate::{
    AppState,
    error::ApiError,
    secrets::{hash_token, hashes_equal},
};

/// The caller, established from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The operator key: everything, on every tenant.
    Operator,
    /// A tenant's API key.
    ApiKey { tenant: TenantId, key_id: String, scopes: Vec<Scope> },
}

impl Principal {
    /// Allows the call on `tenant` if the caller holds `needed` there. A key of another tenant
    /// gets the same 404 as a tenant that does not exist, so tenant ids cannot be probed.
    pub fn require(&self, tenant: &TenantId, needed: Scope) -> Result<(), ApiError> {
        match self {
            Principal::Operator => Ok(()),
            Principal::ApiKey { tenant: own, .. } if own != tenant => {
                Err(ApiError::not_found(format!("tenant {tenant}")))
            }
            Principal::ApiKey { scopes, .. } if scopes.iter().any(|s| s.grants(needed)) => Ok(()),
            Principal::ApiKey { key_id, .. } => Err(ApiError::forbidden(format!(
                "API key {key_id} lacks the {needed} scope needed here: create a key with scopes [\"{needed}\"]"
            ))),
        }
    }

    /// Whether the caller holds `scope` on `tenant` (without failing).
    pub fn grants(&self, tenant: &TenantId, scope: Scope) -> bool {
        self.require(tenant, scope).is_ok()
    }

    /// Allows operator-only calls.
    pub fn require_operator(&self, what: &str) -> Result<(), ApiError> {
        match self {
            Principal::Operator => Ok(()),
            _ => Err(ApiError::forbidden(format!("only the operator key can {what}"))),
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("this route needs a key: send the header Authorization: Bearer <key>")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be: Bearer <key>"))?;
        let hash = hash_token(token);
        if hashes_equal(&hash, &state.config.operator_key_hash) {
            return Ok(Principal::Operator);
        }
        match state.store.api_key_by_token_hash(&hash).await? {
            Some(k) if k.is_active() => Ok(Principal::ApiKey { tenant: k.tenant, key_id: k.id, scopes: k.scopes }),
            Some(k) => Err(ApiError::unauthorized(format!("API key {} has been revoked: use another key", k.id))),
            None => Err(ApiError::unauthorized("this key is not known here: check that you copied it whole")),
        }
    }
}
