//! [`Tree`]: each tenant's Merkle tree, its proofs and its signed checkpoints.

use async_trait::async_trait;
use trail_core::{TenantId, merkle::Hash};

use crate::{StoreResult, StoredCheckpoint};

/// Each tenant's Merkle tree (RFC 6962) over its events in seq order, which every append
/// extends, and the signed checkpoints of it.
#[async_trait]
pub trait Tree: Send + Sync + 'static {
    /// The leaf hash of event `seq` in the tenant's Merkle tree.
    async fn leaf_hash(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Hash>>;
    /// The data leaf `seq` hashes: the event's canonical form with commitments in place of
    /// personal values (`trail_core::canonical`).
    async fn leaf_data(&self, tenant: &TenantId, seq: u64) -> StoreResult<Option<Vec<u8>>>;
    /// The root of the tenant's tree when it held `size` events (1 <= size <= event count).
    async fn tree_root(&self, tenant: &TenantId, size: u64) -> StoreResult<Hash>;
    /// The inclusion proof of event `seq` in the tree of `size` events (1 <= seq <= size).
    async fn inclusion_proof(&self, tenant: &TenantId, seq: u64, size: u64) -> StoreResult<Vec<Hash>>;
    /// The consistency proof between the trees of `from` and `to` events (1 <= from <= to).
    async fn consistency_proof(&self, tenant: &TenantId, from: u64, to: u64) -> StoreResult<Vec<Hash>>;
    /// Keeps a signed checkpoint of the tenant's tree.
    async fn add_checkpoint(&self, tenant: &TenantId, checkpoint: StoredCheckpoint) -> StoreResult<()>;
    /// The tenant's latest checkpoint (the largest tree size).
    async fn latest_checkpoint(&self, tenant: &TenantId) -> StoreResult<Option<StoredCheckpoint>>;
}
