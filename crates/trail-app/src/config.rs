//! What the application needs to know beyond its store: the server's name (in checkpoints'
//! origins), the plans, the limits on events, and the signing key. Built by the binary from
//! the config file (`trail/src/open.rs`); the HTTP server's own settings (the operator key's
//! hash, admission limits) are `trail-server`'s `ServerConfig`, which holds this one.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use trail_core::{TenantId, event::Limits};

use crate::plans::Plan;

#[derive(Clone)]
pub struct AppConfig {
    /// Names this Trail in checkpoints' origin lines (`trail/{server_name}/{tenant}`).
    pub server_name: String,
    /// The plans a tenant may have, by name.
    pub plans: BTreeMap<String, Plan>,
    /// The plan of a tenant created without one.
    pub default_plan: String,
    pub limits: Limits,
    /// The key checkpoints (and viewer tokens' MAC keys) derive from. Never printed.
    pub signing_key: Arc<ed25519_dalek::SigningKey>,
    /// The checkpoint journal (`checkpoints.log` beside the signing key): every checkpoint
    /// signed, outside the database, so a rewritten log is never signed. `None` only in tests.
    pub checkpoint_journal: Option<PathBuf>,
}

impl AppConfig {
    /// The name checkpoints are signed under: `trail/{server_name}`.
    pub fn key_name(&self) -> String {
        format!("trail/{}", self.server_name)
    }

    /// The plan named `name`; a name no longer configured counts as the default plan.
    pub fn plan(&self, name: &str) -> &Plan {
        self.plans
            .get(name)
            .or_else(|| self.plans.get(&self.default_plan))
            .unwrap_or_else(|| self.plans.values().next().expect("Trail has at least one plan (the config checks it)"))
    }

    /// The origin of a tenant's checkpoints: `trail/{server_name}/{tenant}`.
    pub fn origin(&self, tenant: &TenantId) -> String {
        format!("trail/{}/{tenant}", self.server_name)
    }
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("server_name", &self.server_name)
            .field("plans", &self.plans.keys().collect::<Vec<_>>())
            .field("default_plan", &self.default_plan)
            .field("checkpoint_journal", &self.checkpoint_journal)
            .finish_non_exhaustive()
    }
}
