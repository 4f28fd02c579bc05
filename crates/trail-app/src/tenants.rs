//! Tenants: the rules for creating one and changing its name, plan, time zone or settings,
//! shared by the HTTP routes, the console and the command line, so all apply the same rules.

use trail_core::{TenantId, time::time_zone, vocabulary::actions};
use trail_store::{NewTenant, Store, Tenant, TenantPatch};

use crate::{
    App, AppConfig, AppError, AppResult, Invalid,
    access::Principal,
    own_events::{self, Origin},
};

/// What is asked for when creating a tenant; unset fields take defaults.
#[derive(Debug, Clone, Default)]
pub struct TenantRequest {
    pub id: String,
    pub name: Option<String>,
    pub plan: Option<String>,
    pub time_zone: Option<String>,
}

pub fn check_plan(config: &AppConfig, plan: &str) -> AppResult<()> {
    if config.plans.contains_key(plan) {
        Ok(())
    } else {
        let names: Vec<&str> = config.plans.keys().map(String::as_str).collect();
        Err(AppError::invalid(Invalid::Plan, format!("plan {plan:?} is not defined: use one of {}", names.join(", ")))
            .with_field("plan"))
    }
}

pub fn check_time_zone(tz: &str) -> AppResult<()> {
    time_zone(tz).map(|_| ()).map_err(|m| AppError::invalid(Invalid::TimeZone, m).with_field("time_zone"))
}

/// A tenant's, a member's or an API key's name: 1 to 200 characters, not only spaces.
pub fn check_name(name: &str) -> AppResult<()> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(Invalid::Name, "name must be 1 to 200 characters").with_field("name"));
    }
    Ok(())
}

/// Creates a tenant after checking its id, name, plan and time zone.
pub async fn create_tenant(store: &dyn Store, config: &AppConfig, req: TenantRequest) -> AppResult<Tenant> {
    let id = TenantId::parse(&req.id).map_err(|e| AppError::invalid(Invalid::TenantId, e.0).with_field("id"))?;
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
    origin: &Origin,
    who: &Principal,
    tenant: &TenantId,
    patch: TenantPatch,
) -> AppResult<Tenant> {
    let store = &**app.store();
    if let Some(name) = &patch.name {
        check_name(name)?;
    }
    if let Some(plan) = &patch.plan {
        who.require_operator("change a tenant's plan")?;
        check_plan(app.config(), plan)?;
    }
    if let Some(tz) = &patch.time_zone {
        check_time_zone(tz)?;
    }
    if let Some(settings) = &patch.settings {
        trail_core::privacy::check_settings(settings)
            .map_err(|(field, m)| AppError::invalid(Invalid::Setting, m).with_field(field))?;
    }
    let before = store.tenant(tenant).await?.ok_or_else(|| AppError::NotFound(format!("tenant {tenant}")))?;
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
        own_events::record(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(e: AppError) -> (Invalid, Option<String>) {
        match e {
            AppError::Invalid { what, field, .. } => (what, field),
            other => panic!("not an invalid value: {other:?}"),
        }
    }

    #[test]
    fn each_check_names_its_kind_and_field() {
        let plans = crate::plans::builtin();
        assert!(plans.contains_key("basic"));
        let config = AppConfig {
            server_name: "test".into(),
            plans,
            default_plan: "basic".into(),
            limits: Default::default(),
            signing_key: std::sync::Arc::new(ed25519_dalek::SigningKey::from_bytes(&[1; 32])),
            checkpoint_journal: None,
        };
        assert!(check_plan(&config, "basic").is_ok());
        let e = check_plan(&config, "gold").unwrap_err();
        assert!(e.to_string().contains("use one of basic, business"), "{e}");
        assert_eq!(kind(e), (Invalid::Plan, Some("plan".into())));
        assert!(check_time_zone("Europe/London").is_ok());
        assert_eq!(kind(check_time_zone("Mars/Base").unwrap_err()), (Invalid::TimeZone, Some("time_zone".into())));
        assert!(check_name("Acme").is_ok());
        for bad in ["", "   ", &"x".repeat(201)] {
            assert_eq!(kind(check_name(bad).unwrap_err()), (Invalid::Name, Some("name".into())), "{bad:?}");
        }
    }
}
