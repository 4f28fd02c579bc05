//! [`Maintenance`]: what the operator and the server's loops do to a store as a whole.

use async_trait::async_trait;
use trail_core::TenantId;

use crate::{ErasureReport, ErasureRequest, PurgeReport, PurgeRule, StoreResult, VerifyReport};

/// Readiness, retention's purge, erasure of personal fields, and a full check of a tenant's
/// log: the operations that remove from a log or vouch for it, rather than append to or read it.
#[async_trait]
pub trait Maintenance: Send + Sync + 'static {
    /// Whether the store can answer (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Removes the events `rule` selects (their contents; their leaf hashes stay in the tree)
    /// and the rollup rows of people and links with nothing left in range. Idempotent.
    async fn purge(&self, tenant: &TenantId, rule: &PurgeRule) -> StoreResult<PurgeReport>;

    /// Erases personal fields from events (their values and salts; the leaves keep their
    /// commitments) and the person's rollup rows, leaving no copy of the values in the store's
    /// files (old row versions included).
    async fn erase(&self, tenant: &TenantId, request: &ErasureRequest) -> StoreResult<ErasureReport>;

    /// Checks the tenant's whole log as `trail verify` does (every leaf recomputed from the
    /// stored event, the tree rebuilt, every checkpoint's signature by `public_key` and
    /// consistency), against one consistent snapshot while appends go on.
    async fn verify_log(&self, tenant: &TenantId, public_key: &[u8; 32]) -> StoreResult<VerifyReport>;
}
