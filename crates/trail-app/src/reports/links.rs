//! Shared links: every link seen in `link.*` events, most recently active first, with what
//! `link.created` said, its state, and its views and saves (in the range; all of them for
//! `range=all`): `GET /v1/tenants/{t}/links` and the console's Links page. A link's access log
//! (its `link.viewed` / `link.saved` events) is the `link-access` view ([`crate::views`])
//! narrowed to the link ([`narrow_to_link`]).

use jiff::Timestamp;
use serde::Serialize;
use trail_core::{
    TenantId,
    filter::{ActionPattern, Filter, TargetRef},
    vocabulary::actions,
};
use trail_store::{LinkSummary, RecentPage, Store};

use super::{bounded, count_in_range, rollup_page};
use crate::{AppError, AppResult};

/// A filter for one link's events of the given actions.
pub(crate) fn of_link(id: &str, actions: &[&str]) -> Filter {
    Filter {
        targets: vec![TargetRef { kind: Some("link".into()), id: id.to_owned() }],
        actions: actions.iter().map(|a| ActionPattern::parse(a).expect("catalogue actions parse")).collect(),
        ..Filter::default()
    }
}

/// One row of the link list.
#[derive(Serialize)]
pub struct LinkRow {
    pub link_id: String,
    pub name: Option<String>,
    pub file_name: Option<String>,
    pub created_by: Option<String>,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub created_at: Option<Timestamp>,
    pub expires_at: Option<String>,
    pub require_email: bool,
    /// `active`, `revoked` or `expired`.
    pub state: String,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub ended_at: Option<Timestamp>,
    pub views: u64,
    pub saves: u64,
    #[serde(with = "trail_core::time::serde_rfc3339")]
    pub last_activity_at: Timestamp,
}

/// One page of the link list for filter `f` (its time range), after the row `after`.
pub async fn link_rows(
    store: &dyn Store,
    t: &TenantId,
    f: &Filter,
    limit: usize,
    after: Option<(Timestamp, String)>,
) -> AppResult<(Vec<LinkRow>, Option<String>)> {
    let (page, next) = rollup_page::<LinkSummary>(store, t, f, limit, after).await?;
    let mut rows = Vec::with_capacity(page.len());
    for l in page {
        let (views, saves) = if bounded(f) {
            (
                count_in_range(store, t, f, of_link(&l.key, &[actions::LINK_VIEWED])).await?,
                count_in_range(store, t, f, of_link(&l.key, &[actions::LINK_SAVED])).await?,
            )
        } else {
            (l.views, l.saves)
        };
        rows.push(LinkRow {
            link_id: l.key,
            name: l.name,
            file_name: l.file_name,
            created_by: l.created_by,
            created_at: l.created_at,
            expires_at: l.expires_at,
            require_email: l.require_email,
            state: l.state,
            ended_at: l.ended_at,
            views,
            saves,
            last_activity_at: l.last_activity_at,
        });
    }
    Ok((rows, next))
}

/// The link, or the same "not found" for a link this tenant has never seen.
pub async fn find_link(store: &dyn Store, t: &TenantId, id: &str) -> AppResult<LinkSummary> {
    let found = store.links(t, &RecentPage { only: vec![id.to_owned()], ..RecentPage::first(1) }).await?;
    found.into_iter().next().ok_or_else(|| AppError::NotFound(format!("link {id}")))
}

/// Narrows `filter` to the events of link `id`, for its access log: the link is the route's,
/// so a target filter of the caller's is refused; a link never seen is "not found".
pub async fn narrow_to_link(store: &dyn Store, t: &TenantId, id: &str, filter: &mut Filter) -> AppResult<()> {
    if !filter.targets.is_empty() {
        return Err(AppError::UnsupportedFilter {
            param: "target".into(),
            message: "the link is in the path: a link access log takes no target filter".into(),
        });
    }
    find_link(store, t, id).await?;
    filter.targets = vec![TargetRef { kind: Some("link".into()), id: id.to_owned() }];
    Ok(())
}
