//! API keys (issued and revoked, each recorded in the tenant's log) and the operator key
//! (settled at start-up), shared by the HTTP routes, the console and the command line.

use trail_core::{TenantId, ids::Scope, vocabulary::actions};
use trail_store::{ApiKey, NewApiKey, Store};

use crate::{
    App, AppError, AppResult, Invalid,
    own_events::{self, Origin},
    secrets,
    tenants::check_name,
};

/// Creates an API key for `by` (an event actor) and records `trail.key.created`; the token is
/// returned here and never again.
pub async fn issue_api_key(
    app: &App,
    origin: &Origin,
    by: serde_json::Value,
    tenant: &TenantId,
    name: String,
    scopes: Vec<Scope>,
) -> AppResult<(ApiKey, String)> {
    let store = &**app.store();
    check_name(&name)?;
    if scopes.is_empty() {
        return Err(AppError::invalid(Invalid::Scopes, "scopes must name at least one of ingest, read, admin")
            .with_field("scopes"));
    }
    let token = secrets::new_token(secrets::API_KEY_PREFIX);
    let key = NewApiKey { id: secrets::new_id("key_"), name, scopes, token_hash: secrets::hash_token(&token) };
    let key = store.create_api_key(tenant, key).await?;
    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
    own_events::record(
        app,
        tenant,
        origin,
        by,
        actions::TRAIL_KEY_CREATED,
        format!("Created API key {} ({}) with scopes {}", key.name, key.id, scopes.join(", ")),
        serde_json::json!({"key_id": key.id, "name": key.name, "scopes": scopes}),
    )
    .await?;
    Ok((key, token))
}

/// Revokes an API key for `by` and records `trail.key.revoked` (once: revoking again changes
/// nothing and records nothing).
pub async fn revoke_api_key(
    app: &App,
    origin: &Origin,
    by: serde_json::Value,
    tenant: &TenantId,
    key_id: &str,
) -> AppResult<ApiKey> {
    let store = &**app.store();
    let was_active = store.api_keys(tenant).await?.iter().any(|k| k.id == key_id && k.is_active());
    let key = store.revoke_api_key(tenant, key_id).await?;
    if was_active {
        own_events::record(
            app,
            tenant,
            origin,
            by,
            actions::TRAIL_KEY_REVOKED,
            format!("Revoked API key {} ({})", key.name, key.id),
            serde_json::json!({"key_id": key.id, "name": key.name}),
        )
        .await?;
    }
    Ok(key)
}

/// The setting that holds the operator key's SHA-256 (hex) when Trail generated the key.
pub const OPERATOR_KEY_SETTING: &str = "operator_key_sha256";

/// How the operator key was settled at start-up.
pub enum OperatorKey {
    /// Given by configuration (`TRAIL_OPERATOR_KEY` or `operator_key`): nothing is stored.
    Configured([u8; 32]),
    /// Generated earlier; only its hash is known.
    Stored([u8; 32]),
    /// Generated now: the one moment it can be shown.
    Generated { hash: [u8; 32], token: String },
}

impl OperatorKey {
    pub fn hash(&self) -> [u8; 32] {
        match self {
            OperatorKey::Configured(h) | OperatorKey::Stored(h) => *h,
            OperatorKey::Generated { hash, .. } => *hash,
        }
    }
}

/// Settles the operator key: the configured one, else the stored one, else a new one (stored
/// as a hash). With `rotate`, a new one replaces any stored one.
pub async fn operator_key(store: &dyn Store, configured: Option<&str>, rotate: bool) -> AppResult<OperatorKey> {
    if let Some(key) = configured {
        return Ok(OperatorKey::Configured(secrets::hash_token(key)));
    }
    if !rotate
        && let Some(hex_hash) = store.setting(OPERATOR_KEY_SETTING).await?
        && let Ok(bytes) = hex::decode(hex_hash.trim())
        && let Ok(hash) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(OperatorKey::Stored(hash));
    }
    let token = secrets::new_token(secrets::OPERATOR_PREFIX);
    let hash = secrets::hash_token(&token);
    store.set_setting(OPERATOR_KEY_SETTING, &hex::encode(hash)).await?;
    Ok(OperatorKey::Generated { hash, token })
}
