//! The usage report (`GET /v1/tenants/{t}/reports/usage`, the console's Files page): per
//! person seen in `file.*`, files held and storage used (as of now), their uploads, downloads
//! and deletes (in the range; over all time for `range=all`), and their latest file event.

use jiff::Timestamp;
use serde::Serialize;
use trail_core::{TenantId, filter::Filter, vocabulary::actions};
use trail_store::{Store, UsageSummary};

use super::{bounded, count_in_range, person, rollup_page};
use crate::AppResult;

/// One row of the usage report (the fields docs/api.md lists, plus `storage` in human units).
#[derive(Serialize)]
pub struct UsageRow {
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub files: u64,
    pub storage_bytes: u64,
    pub storage: String,
    pub uploads: u64,
    pub downloads: u64,
    pub deletes: u64,
    #[serde(with = "trail_core::time::serde_rfc3339")]
    pub last_activity_at: Timestamp,
    #[serde(skip)]
    pub key: String,
}

/// One page of the usage report for filter `f`, after the row `after`.
pub async fn usage_rows(
    store: &dyn Store,
    t: &TenantId,
    f: &Filter,
    limit: usize,
    after: Option<(Timestamp, String)>,
) -> AppResult<(Vec<UsageRow>, Option<String>)> {
    let (page, next) = rollup_page::<UsageSummary>(store, t, f, limit, after).await?;
    let mut rows = Vec::with_capacity(page.len());
    for u in page {
        let (uploads, downloads, deletes) = if bounded(f) {
            (
                count_in_range(store, t, f, person(&u.key, &[actions::FILE_UPLOADED])).await?,
                count_in_range(store, t, f, person(&u.key, &[actions::FILE_DOWNLOADED])).await?,
                count_in_range(store, t, f, person(&u.key, &[actions::FILE_DELETED])).await?,
            )
        } else {
            (u.uploads, u.downloads, u.deletes)
        };
        rows.push(UsageRow {
            actor_id: u.actor_id,
            name: u.name,
            email: u.email,
            files: u.files,
            storage_bytes: u.storage_bytes,
            storage: trail_export::views::human_bytes(u.storage_bytes),
            uploads,
            downloads,
            deletes,
            last_activity_at: u.last_activity_at,
            key: u.key,
        });
    }
    Ok((rows, next))
}
