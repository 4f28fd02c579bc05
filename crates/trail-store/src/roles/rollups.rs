//! [`Rollups`]: the rows every append folds its events into, behind the reports.

use async_trait::async_trait;
use trail_core::TenantId;

use crate::{
    ActionCount, ActorSummary, LinkSummary, LoginSummary, RecentPage, RollupKind, StoreResult, UsageSummary, identity,
};

/// Per-person and per-link rows that every append updates (the users, login, usage and link
/// reports, the actions list), so listing them costs O(rows), not O(events); and who is who,
/// through the tenant's identity links.
#[async_trait]
pub trait Rollups: Send + Sync + 'static {
    /// The people seen as actors (the users report), by their latest event.
    async fn actors(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<ActorSummary>>;
    /// Everything that identifies the people some actor ids and e-mails name, through the
    /// tenant's identity table ([`identity`]): the ids `emails` are linked to, and every
    /// spelling of the e-mails linked to those ids or to `ids`, and of `emails` themselves
    /// (e-mails compared case-insensitively). An id or e-mail nobody linked adds nothing. (The
    /// `actor` filter passes each value as both; a member's id is only an id.)
    async fn person(&self, tenant: &TenantId, ids: &[String], emails: &[String]) -> StoreResult<identity::Person>;
    /// The actions the tenant's log holds, by name, with their counts.
    async fn actions(&self, tenant: &TenantId) -> StoreResult<Vec<ActionCount>>;

    /// The login rollup (behind the login report): people seen in `auth.login.*`, by their latest
    /// attempt.
    async fn logins(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<LoginSummary>>;
    /// The usage rollup (behind the usage report): people seen in `file.*`, by their latest one.
    async fn usage(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<UsageSummary>>;
    /// The link rollup: links seen in `link.*` (by target id), by their latest event; `only`
    /// names link ids.
    async fn links(&self, tenant: &TenantId, page: &RecentPage) -> StoreResult<Vec<LinkSummary>>;
    /// The keys of a rollup's rows with activity in `[from, to)` (both multiples of
    /// [`ACTIVITY_BUCKET_US`]), by their latest activity in that range, newest first (ties by
    /// key), after `after` (`(latest in range, key)` of the previous page's last row), at most
    /// `limit`: `(latest activity in the range, key)`. Costs O(rows returned), not O(people).
    ///
    /// [`ACTIVITY_BUCKET_US`]: crate::ACTIVITY_BUCKET_US
    async fn active_in(
        &self,
        tenant: &TenantId,
        kind: RollupKind,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
        after: Option<(jiff::Timestamp, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(jiff::Timestamp, String)>>;
}
