//! The login report (`GET /v1/tenants/{t}/reports/logins`, the console's Logins page): per
//! person seen in `auth.login.*`, the status of their latest attempt, their latest success and
//! failure, their failed attempts in the range, and where the latest attempt came from.

use jiff::Timestamp;
use serde::Serialize;
use trail_core::{TenantId, filter::Filter, vocabulary::actions};
use trail_store::{LoginSummary, Store};

use super::{count_in_range, person, rollup_page};
use crate::AppResult;

/// One row of the login report.
#[derive(Serialize)]
pub struct LoginRow {
    pub actor_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// `succeeded` or `failed`.
    pub last_status: &'static str,
    #[serde(with = "trail_core::time::serde_rfc3339")]
    pub last_attempt_at: Timestamp,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub last_success_at: Option<Timestamp>,
    #[serde(with = "trail_core::time::serde_rfc3339_opt")]
    pub last_failure_at: Option<Timestamp>,
    pub failed_count: u64,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    /// What the `actor` filter finds this person by.
    #[serde(skip)]
    pub key: String,
}

/// One page of the login report for filter `f` (its time range and actors), after the row
/// `after`: the rows and the next page's cursor.
pub async fn login_rows(
    store: &dyn Store,
    t: &TenantId,
    f: &Filter,
    limit: usize,
    after: Option<(Timestamp, String)>,
) -> AppResult<(Vec<LoginRow>, Option<String>)> {
    let (page, next) = rollup_page::<LoginSummary>(store, t, f, limit, after).await?;
    let mut rows = Vec::with_capacity(page.len());
    for l in page {
        let failed_count = count_in_range(store, t, f, person(&l.key, &[actions::AUTH_LOGIN_FAILED])).await?;
        rows.push(LoginRow {
            last_status: if l.last_succeeded { "succeeded" } else { "failed" },
            actor_id: l.actor_id,
            name: l.name,
            email: l.email,
            last_attempt_at: l.last_attempt_at,
            last_success_at: l.last_success_at,
            last_failure_at: l.last_failure_at,
            failed_count,
            ip: l.ip,
            country: l.country,
            region: l.region,
            city: l.city,
            key: l.key,
        });
    }
    Ok((rows, next))
}
