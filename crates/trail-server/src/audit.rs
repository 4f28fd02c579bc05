//! The events Trail writes about what people do with it (`trail.*`, docs/events.md): the auditors
//! are audited. Each goes into the tenant's own log, tree and checkpoints like any other event.

use jiff::Timestamp;
use serde_json::{Value, json};
use trail_core::{TenantId, event::NewEvent};
use trail_store::{PreparedEvent, Store, StoreError};

/// Appends one `action` event by `actor` to `tenant`'s log; returns its seq.
pub async fn record(
    store: &dyn Store,
    tenant: &TenantId,
    actor: Value,
    action: &str,
    description: String,
    metadata: Value,
) -> Result<u64, StoreError> {
    let event = json!({"action": action, "actor": actor, "description": description, "metadata": metadata});
    let now = trail_core::time::truncate_us(Timestamp::now());
    let new = NewEvent::from_json(&event.to_string(), now)
        .map_err(|e| StoreError::Internal(format!("{}: {}", e.field, e.message).into()))?;
    let receipt = store.append(tenant, vec![PreparedEvent::new(new, now, |_| {})]).await?;
    Ok(receipt.events.first().map(|e| e.seq).unwrap_or_default())
}
