//! Operations shared by the HTTP routes and the command line, so both apply the same rules.

use trail_app::App;
use trail_core::{TenantId, ids::Scope, time::time_zone, vocabulary::actions};
use trail_store::{ApiKey, NewApiKey, NewTenant, Store, StoreError, Tenant};

use crate::{ServerConfig, error::ApiError, secrets};

/// What is asked for when creating a tenant; unset fields take defaults.
#[derive(Debug, Clone, Default)]
pub struct TenantRequest {
    pub id: String,
    pub name: Option<String>,
    pub plan: Option<String>,
    pub time_zone: Option<String>,
}

pub fn check_plan(config: &ServerConfig, plan: &str) -> Result<(), ApiError> {
    if config.plans.contains_key(plan) {
        Ok(())
    } else {
        let names: Vec<&str> = config.plans.keys().map(String::as_str).collect();
        Err(ApiError::unprocessable(
            "invalid_plan",
            format!("plan {plan:?} is not defined: use one of {}", names.join(", ")),
        )
        .with_field("plan"))
    }
}

pub fn check_time_zone(tz: &str) -> Result<(), ApiError> {
    time_zone(tz).map(|_| ()).map_err(|m| ApiError::unprocessable("invalid_time_zone", m).with_field("time_zone"))
}

pub fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(ApiError::unprocessable("invalid_name", "name must be 1 to 200 characters").with_field("name"));
    }
    Ok(())
}

/// Creates a tenant after checking its id, name, plan and time zone.
pub async fn create_tenant(store: &dyn Store, config: &ServerConfig, req: TenantRequest) -> Result<Tenant, ApiError> {
    let id = TenantId::parse(&req.id).map_err(|e| ApiError::unprocessable("invalid_id", e.0).with_field("id"))?;
    let name = req.name.unwrap_or_else(|| id.to_string());
    check_name(&name)?;
    let plan = req.plan.unwrap_or_else(|| config.default_plan.clone());
    check_plan(config, &plan)?;
    let time_zone = req.time_zone.unwrap_or_else(|| "UTC".into());
    check_time_zone(&time_zone)?;
    Ok(store.create_tenant(NewTenant { id, name, plan, time_zone }).await?)
}

/// Applies a change to a tenant's name, plan, time zone or settings for `who`, and records
/// `trail.settings.changed` with what changed. Only the operator changes plans (they decide
/// retention and what a tenant may see).
pub async fn change_tenant(
    app: &App,
    origin: &crate::audit::Origin,
    config: &ServerConfig,
    who: &crate::auth::Principal,
    tenant: &TenantId,
    patch: trail_store::TenantPatch,
) -> Result<Tenant, ApiError> {
    let store = &**app.store();
    if let Some(name) = &patch.name {
        check_name(name)?;
    }
    if let Some(plan) = &patch.plan {
        who.require_operator("change a tenant's plan")?;
        check_plan(config, plan)?;
    }
    if let Some(tz) = &patch.time_zone {
        check_time_zone(tz)?;
    }
    if let Some(settings) = &patch.settings {
        trail_core::privacy::check_settings(settings)
            .map_err(|(field, m)| ApiError::unprocessable("invalid_setting", m).with_field(field))?;
    }
    let before = store.tenant(tenant).await?.ok_or_else(|| ApiError::not_found(format!("tenant {tenant}")))?;
    let after = store.update_tenant(tenant, patch).await?;
    let mut changed = serde_json::Map::new();
    for (field, old, new) in [
        ("name", &before.name, &after.name),
        ("plan", &before.plan, &after.plan),
        ("time_zone", &before.time_zone, &after.time_zone),
    ] {
        if old != new {
            changed.insert(field.into(), serde_json::json!({"from": old, "to": new}));
        }
    }
    if before.settings != after.settings {
        changed.insert("settings".into(), serde_json::json!({"from": before.settings, "to": after.settings}));
    }
    if !changed.is_empty() {
        let fields: Vec<&str> = changed.keys().map(String::as_str).collect();
        crate::audit::record(
            app,
            tenant,
            origin,
            who.actor(),
            actions::TRAIL_SETTINGS_CHANGED,
            format!("Changed the account's {}", fields.join(", ").replace('_', " ")),
            serde_json::Value::Object(changed.clone()),
        )
        .await?;
        // Read again: the event just recorded is part of the answer's event count.
        return Ok(store.tenant(tenant).await?.unwrap_or(after));
    }
    Ok(after)
}

/// Creates an API key for `by` (an event actor) and records `trail.key.created`; the token is
/// returned here and never again.
pub async fn issue_api_key(
    app: &App,
    origin: &crate::audit::Origin,
    by: serde_json::Value,
    tenant: &TenantId,
    name: String,
    scopes: Vec<Scope>,
) -> Result<(ApiKey, String), ApiError> {
    let store = &**app.store();
    check_name(&name)?;
    if scopes.is_empty() {
        return Err(ApiError::unprocessable("invalid_scopes", "scopes must name at least one of ingest, read, admin")
            .with_field("scopes"));
    }
    let token = secrets::new_token(secrets::API_KEY_PREFIX);
    let key = NewApiKey { id: secrets::new_id("key_"), name, scopes, token_hash: secrets::hash_token(&token) };
    let key = store.create_api_key(tenant, key).await?;
    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
    crate::audit::record(
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
    origin: &crate::audit::Origin,
    by: serde_json::Value,
    tenant: &TenantId,
    key_id: &str,
) -> Result<ApiKey, ApiError> {
    let store = &**app.store();
    let was_active = store.api_keys(tenant).await?.iter().any(|k| k.id == key_id && k.is_active());
    let key = store.revoke_api_key(tenant, key_id).await?;
    if was_active {
        crate::audit::record(
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
pub async fn operator_key(
    store: &dyn Store,
    configured: Option<&str>,
    rotate: bool,
) -> Result<OperatorKey, StoreError> {
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
