//! Checkpoints: each tenant's tree is signed at most half a second after it grows.
//!
//! The signer looks at every tenant twice a second (one query) and signs the trees that grew
//! since their last checkpoint, whoever appended (this server, another one on the same
//! database, or `trail ingest`). Checkpoints are kept; each one's tree extends the previous one's
//! because the log only ever appends, and `trail verify` checks that it does.

use std::{collections::HashMap, time::Duration};

use jiff::Timestamp;
use trail_core::{TenantId, checkpoint::Checkpoint, time::truncate_us};
use trail_store::{StoreResult, StoredCheckpoint};

use crate::AppState;

/// How often the signer looks for grown trees.
pub const SIGN_EVERY: Duration = Duration::from_millis(500);

/// Signs and keeps a checkpoint of `tenant`'s tree at `size` events.
pub async fn sign(state: &AppState, tenant: &TenantId, size: u64) -> StoreResult<StoredCheckpoint> {
    let root = state.store.tree_root(tenant, size).await?;
    let cp = Checkpoint { origin: state.config.origin(tenant), size, root };
    let note = cp.sign(&state.config.key_name(), &state.config.signing_key);
    let stored = StoredCheckpoint { size, root, note, created_at: truncate_us(Timestamp::now()) };
    state.store.add_checkpoint(tenant, stored.clone()).await?;
    Ok(stored)
}

/// One pass: signs every tree that grew. `signed` remembers the size last signed per tenant.
pub async fn sign_grown(state: &AppState, signed: &mut HashMap<TenantId, u64>) -> StoreResult<usize> {
    let mut n = 0;
    for t in state.store.tenants().await? {
        if t.event_count == 0 {
            continue;
        }
        let last = match signed.get(&t.id) {
            Some(&s) => s,
            None => state.store.latest_checkpoint(&t.id).await?.map(|c| c.size).unwrap_or(0),
        };
        if t.event_count > last {
            sign(state, &t.id, t.event_count).await?;
            n += 1;
        }
        signed.insert(t.id, t.event_count.max(last));
    }
    Ok(n)
}

/// Runs the signer until the process ends.
pub async fn run_signer(state: AppState) {
    let mut signed = HashMap::new();
    loop {
        if let Err(e) = sign_grown(&state, &mut signed).await {
            tracing::warn!(error = %e, "cannot sign checkpoints now; retrying");
            signed.clear();
        }
        tokio::time::sleep(SIGN_EVERY).await;
    }
}
