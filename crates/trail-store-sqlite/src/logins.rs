//! The login rollup (SPEC 5's login report), kept by every append in its transaction: per
//! person seen in `auth.login.succeeded` / `auth.login.failed`, their latest attempt (when, how
//! it went, from where), their latest success and failure, and their failures in all. A batch
//! is folded in memory first, then one upsert per person.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use trail_core::event::EventBody;
use trail_store::{LoginSummary, StoreResult};

use crate::error::SqlResultExt;

/// One login attempt, taken from its event before it is encoded.
pub(crate) struct Attempt {
    key: String,
    actor_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    at: i64,
    ok: bool,
    ip: Option<String>,
    country: Option<String>,
    region: Option<String>,
    city: Option<String>,
}

impl Attempt {
    /// The attempt an event records, if it is a login attempt by someone identifiable.
    pub(crate) fn of(body: &EventBody) -> Option<Attempt> {
        let ok = match body.action.as_str() {
            "auth.login.succeeded" => true,
            "auth.login.failed" => false,
            _ => return None,
        };
        let actor = body.actor.as_ref()?;
        let key = actor.id.clone().or_else(|| actor.email.clone())?;
        let ctx = body.context.as_deref();
        let loc = ctx.and_then(|c| c.location.as_ref());
        Some(Attempt {
            key,
            actor_id: actor.id.clone(),
            name: actor.name.clone(),
            email: actor.email.clone(),
            at: body.occurred_at.as_microsecond(),
            ok,
            ip: ctx.and_then(|c| c.ip).map(|ip| ip.to_string()),
            country: loc.and_then(|l| l.country.clone()),
            region: loc.and_then(|l| l.region.clone()),
            city: loc.and_then(|l| l.city.clone()),
        })
    }
}

struct Fold<'a> {
    latest: &'a Attempt,
    success: Option<i64>,
    failure: Option<i64>,
    failed: i64,
}

/// Folds the newly stored attempts of one append into the rollup.
pub(crate) fn add<'a>(conn: &Connection, tid: i64, attempts: impl Iterator<Item = &'a Attempt>) -> StoreResult<()> {
    let mut people: HashMap<&str, Fold<'_>> = HashMap::new();
    for a in attempts {
        let f = people.entry(&a.key).or_insert(Fold { latest: a, success: None, failure: None, failed: 0 });
        if a.at >= f.latest.at {
            f.latest = a;
        }
        let slot = if a.ok { &mut f.success } else { &mut f.failure };
        *slot = Some(slot.map_or(a.at, |t| t.max(a.at)));
        f.failed += i64::from(!a.ok);
    }
    if people.is_empty() {
        return Ok(());
    }
    // The latest attempt's details replace the kept ones only when it is at least as recent:
    // events may arrive out of `occurred_at` order. (SET expressions see the old row.)
    let mut upsert = conn
        .prepare_cached(
            "INSERT INTO logins (tid, key, actor_id, name, email, last_at, last_ok, last_success, last_failure,
                                 failed_total, ip, country, region, city)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (tid, key) DO UPDATE SET
               actor_id = COALESCE(logins.actor_id, excluded.actor_id),
               name = CASE WHEN excluded.last_at >= logins.last_at THEN COALESCE(excluded.name, logins.name) ELSE COALESCE(logins.name, excluded.name) END,
               email = CASE WHEN excluded.last_at >= logins.last_at THEN COALESCE(excluded.email, logins.email) ELSE COALESCE(logins.email, excluded.email) END,
               last_ok = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.last_ok ELSE logins.last_ok END,
               ip = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.ip ELSE logins.ip END,
               country = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.country ELSE logins.country END,
               region = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.region ELSE logins.region END,
               city = CASE WHEN excluded.last_at >= logins.last_at THEN excluded.city ELSE logins.city END,
               last_at = MAX(logins.last_at, excluded.last_at),
               last_success = MAX(COALESCE(logins.last_success, excluded.last_success), COALESCE(excluded.last_success, logins.last_success)),
               last_failure = MAX(COALESCE(logins.last_failure, excluded.last_failure), COALESCE(excluded.last_failure, logins.last_failure)),
               failed_total = logins.failed_total + excluded.failed_total",
        )
        .sql()?;
    for (key, f) in people {
        let l = f.latest;
        upsert
            .execute(params![
                tid, key, l.actor_id, l.name, l.email, l.at, l.ok, f.success, f.failure, f.failed, l.ip, l.country,
                l.region, l.city
            ])
            .sql()?;
    }
    Ok(())
}

fn ts(us: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(us).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// People whose latest attempt is at or after `since`, latest attempt first (ties by key),
/// strictly after `after` (`(last attempt, key)` of the previous page's last row); only those
/// named in `only` (by key, which is the actor id when there is one, or by e-mail) when it is
/// not empty.
pub(crate) fn page(
    conn: &Connection,
    tid: i64,
    since: Option<i64>,
    after: Option<(i64, String)>,
    limit: usize,
    only: &[String],
) -> StoreResult<Vec<LoginSummary>> {
    let (after_at, after_key) = after.unwrap_or((i64::MAX, String::new()));
    let since = since.unwrap_or(i64::MIN);
    if !only.is_empty() {
        // A few named people: look them up by key (the actor id, or the e-mail for people
        // without one) and by e-mail, then order them here; SQLite would rather walk the whole
        // `last_at` index for the ORDER BY.
        let marks = (0..only.len()).map(|i| format!("?{}", i + 2)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {COLUMNS} FROM logins WHERE tid = ?1 AND key IN ({marks})
             UNION SELECT {COLUMNS} FROM logins WHERE tid = ?1 AND email IN ({marks})"
        );
        let mut values: Vec<rusqlite::types::Value> = vec![tid.into()];
        values.extend(only.iter().map(|k| rusqlite::types::Value::Text(k.clone())));
        let mut stmt = conn.prepare_cached(&sql).sql()?;
        let mut rows: Vec<LoginSummary> =
            stmt.query_map(rusqlite::params_from_iter(values), row).sql()?.collect::<rusqlite::Result<_>>().sql()?;
        rows.retain(|r| {
            let at = r.last_attempt_at.as_microsecond();
            at >= since && (at < after_at || (at == after_at && r.key > after_key))
        });
        rows.sort_by(|a, b| b.last_attempt_at.cmp(&a.last_attempt_at).then_with(|| a.key.cmp(&b.key)));
        rows.truncate(limit);
        return Ok(rows);
    }
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM logins
             WHERE tid = ?1 AND last_at >= ?2 AND (last_at < ?3 OR (last_at = ?3 AND key > ?4))
             ORDER BY last_at DESC, key
             LIMIT ?5"
        ))
        .sql()?;
    let values: Vec<rusqlite::types::Value> =
        vec![tid.into(), since.into(), after_at.into(), after_key.into(), (limit.min(10_000) as i64).into()];
    let rows = stmt.query_map(rusqlite::params_from_iter(values), row).sql()?;
    rows.collect::<rusqlite::Result<_>>().sql()
}

const COLUMNS: &str =
    "key, actor_id, name, email, last_at, last_ok, last_success, last_failure, failed_total, ip, country, region, city";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoginSummary> {
    Ok(LoginSummary {
        key: r.get(0)?,
        actor_id: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        last_attempt_at: ts(r.get(4)?),
        last_succeeded: r.get(5)?,
        last_success_at: r.get::<_, Option<i64>>(6)?.map(ts),
        last_failure_at: r.get::<_, Option<i64>>(7)?.map(ts),
        failed_total: r.get::<_, i64>(8)? as u64,
        ip: r.get(9)?,
        country: r.get(10)?,
        region: r.get(11)?,
        city: r.get(12)?,
    })
}
