//! Retention by plan (docs/configuration.md): each tenant's events older than its plan keeps (by
//! `occurred_at`), and link access events of links revoked or expired more than the plan's
//! days ago, are purged; their leaf hashes stay, so the tree, the checkpoints and every proof of
//! the remaining events stay valid. Each purge that removed something writes a
//! `trail.retention.purged` event with its counts. It runs in the background of `trail serve`
//! (shortly after start, then every [`INTERVAL`]) and on demand with `trail purge`.

use std::{sync::Arc, time::Duration};

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use trail_core::vocabulary::actions;
use trail_store::{PurgeReport, PurgeRule, Tenant};

use crate::{
    App, AppConfig, AppResult,
    own_events::{self, Origin},
};

/// How often the background purge runs.
pub const INTERVAL: Duration = Duration::from_secs(3600);

/// How long after start the first background purge runs (so a start is not slowed by it).
pub const FIRST_RUN: Duration = Duration::from_secs(60);

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

/// What the tenant's plan says to remove, as of `now`.
pub fn rule(config: &AppConfig, tenant: &Tenant, now: Timestamp) -> PurgeRule {
    let plan = config.plan(&tenant.plan);
    PurgeRule {
        before: plan.retention_days.map(|d| now - days(d)),
        link_access_ended_before: Some(now - days(plan.link_log_days_after_end)),
    }
}

/// Purges one tenant as of `now`, by its plan in `config`, and records what went.
pub async fn purge_tenant(app: &App, config: &AppConfig, tenant: &Tenant, now: Timestamp) -> AppResult<PurgeReport> {
    let store = &**app.store();
    let rule = rule(config, tenant, now);
    let report = store.purge(&tenant.id, &rule).await?;
    if report.removed() > 0 {
        let when = |t: Option<Timestamp>| t.map(trail_core::time::format_rfc3339);
        let description = format!(
            "Retention removed {} events past the {} plan's retention and {} link access events of ended links",
            report.expired, tenant.plan, report.link_access
        );
        own_events::record(
            app,
            &tenant.id,
            &Origin::none(),
            json!({"type": "system", "name": "Trail retention"}),
            actions::TRAIL_RETENTION_PURGED,
            description,
            json!({
                "plan": tenant.plan,
                "expired": report.expired,
                "link_access": report.link_access,
                "rollup_rows": report.rollup_rows,
                "before": when(rule.before),
                "link_access_ended_before": when(rule.link_access_ended_before),
            }),
        )
        .await?;
    }
    Ok(report)
}

/// Purges every tenant; a tenant that fails is logged and the others go on.
pub async fn purge_all(app: &App, config: &AppConfig, now: Timestamp) -> Vec<(Tenant, AppResult<PurgeReport>)> {
    let tenants = match app.store().tenants().await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "retention: cannot list tenants");
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(tenants.len());
    for t in tenants {
        let r = purge_tenant(app, config, &t, now).await;
        match &r {
            Ok(r) if r.removed() > 0 => {
                tracing::info!(tenant = %t.id, expired = r.expired, link_access = r.link_access, "retention purged events")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(tenant = %t.id, error = %e, "retention: the purge failed"),
        }
        out.push((t, r));
    }
    out
}

/// The background purge of `trail serve` (the server starts it, and aborts it when it stops).
pub async fn run(app: Arc<App>) {
    tokio::time::sleep(FIRST_RUN).await;
    loop {
        purge_all(&app, app.config(), Timestamp::now()).await;
        tokio::time::sleep(INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_follows_the_plan() {
        let config = AppConfig {
            server_name: "test".into(),
            plans: crate::plans::builtin(),
            default_plan: "enterprise".into(),
            limits: Default::default(),
            signing_key: Arc::new(ed25519_dalek::SigningKey::from_bytes(&[1; 32])),
            checkpoint_journal: None,
        };
        let now: Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let tenant = |plan: &str| Tenant {
            id: trail_core::TenantId::parse("acme").unwrap(),
            name: "Acme".into(),
            plan: plan.into(),
            time_zone: "UTC".into(),
            settings: Default::default(),
            created_at: now,
            event_count: 0,
        };
        let basic = rule(&config, &tenant("basic"), now);
        assert_eq!(basic.before, Some("2026-10-23T12:00:00Z".parse().unwrap()));
        assert_eq!(basic.link_access_ended_before, Some("2026-08-24T12:00:00Z".parse().unwrap()));
        assert_eq!(rule(&config, &tenant("enterprise"), now).before, None, "enterprise keeps everything");
        // A plan no longer configured counts as the default one.
        assert_eq!(rule(&config, &tenant("gone"), now).before, None);
    }
}
