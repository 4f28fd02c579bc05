//! [`Accounts`]: who may use Trail, and how they are recognised.

use async_trait::async_trait;
use trail_core::TenantId;

use crate::{ApiKey, Member, MemberPatch, NewApiKey, NewMember, NewTenant, Session, StoreResult, Tenant, TenantPatch};

/// Tenants, their API keys, their console members and those members' sessions, and the
/// server-wide settings. Every method that reads or writes a tenant's data takes that tenant's
/// [`TenantId`]; nothing a method returns ever belongs to another tenant.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates a tenant; [`StoreError::AlreadyExists`] if its id is taken.
    ///
    /// [`StoreError::AlreadyExists`]: crate::StoreError::AlreadyExists
    async fn create_tenant(&self, tenant: NewTenant) -> StoreResult<Tenant>;
    /// Every tenant, ordered by id.
    async fn tenants(&self) -> StoreResult<Vec<Tenant>>;
    async fn tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
    /// Changes what the patch names; [`StoreError::NotFound`] for an unknown tenant.
    ///
    /// [`StoreError::NotFound`]: crate::StoreError::NotFound
    async fn update_tenant(&self, id: &TenantId, patch: TenantPatch) -> StoreResult<Tenant>;

    async fn create_api_key(&self, tenant: &TenantId, key: NewApiKey) -> StoreResult<ApiKey>;
    /// A tenant's keys, newest first, revoked ones included (with `revoked_at`).
    async fn api_keys(&self, tenant: &TenantId) -> StoreResult<Vec<ApiKey>>;
    /// Revokes a key; revoking a revoked key keeps its first `revoked_at`.
    async fn revoke_api_key(&self, tenant: &TenantId, key_id: &str) -> StoreResult<ApiKey>;
    /// The key whose token hashes to `token_hash`, revoked or not, for authentication.
    async fn api_key_by_token_hash(&self, token_hash: &[u8; 32]) -> StoreResult<Option<ApiKey>>;

    /// Adds a console member; [`StoreError::AlreadyExists`] if the e-mail is taken in the tenant.
    ///
    /// [`StoreError::AlreadyExists`]: crate::StoreError::AlreadyExists
    async fn create_member(&self, tenant: &TenantId, member: NewMember) -> StoreResult<Member>;
    /// A tenant's members, by e-mail.
    async fn members(&self, tenant: &TenantId) -> StoreResult<Vec<Member>>;
    async fn member(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Member>>;
    /// The member with this e-mail (compared case-insensitively) and their password hash, to
    /// sign in.
    async fn member_login(&self, tenant: &TenantId, email: &str) -> StoreResult<Option<(Member, String)>>;
    async fn update_member(&self, tenant: &TenantId, id: &str, patch: MemberPatch) -> StoreResult<Member>;
    /// Removes a member and ends their sessions.
    async fn delete_member(&self, tenant: &TenantId, id: &str) -> StoreResult<()>;

    async fn create_session(&self, session: Session) -> StoreResult<()>;
    /// The session whose token hashes to `id_hash`, if it exists and has not expired.
    async fn session(&self, id_hash: &[u8; 32]) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, id_hash: &[u8; 32]) -> StoreResult<()>;

    /// A server-wide setting (such as the operator key's hash).
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;
}
