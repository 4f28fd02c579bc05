//! Monthly partitions of `events`, by `occurred_at` (UTC). A partition is created before the
//! first event of its month is appended (also a backdated one), under the DDL advisory lock so
//! that two servers creating the same month do not collide; each server remembers the months it
//! has seen exist. Retention drops a month's partition outright when every event left in it is
//! past the retention (`purge.rs`).

use std::{collections::HashSet, sync::Mutex};

use jiff::{Timestamp, civil::date, tz::TimeZone};
use tokio_postgres::Client;
use trail_store::StoreResult;

use crate::{error::PgResultExt, schema::DDL_LOCK};

/// A month: `year * 12 + month - 1`.
pub(crate) type Month = i64;

pub(crate) fn month_of(occurred_at_us: i64) -> Month {
    let ts = Timestamp::from_microsecond(occurred_at_us).unwrap_or(Timestamp::UNIX_EPOCH);
    let d = ts.to_zoned(TimeZone::UTC).date();
    i64::from(d.year()) * 12 + i64::from(d.month()) - 1
}

/// The first microsecond of a month.
fn start_of(month: Month) -> i64 {
    let (y, m) = (month.div_euclid(12), month.rem_euclid(12) + 1);
    date(y as i16, m as i8, 1).to_zoned(TimeZone::UTC).map(|z| z.timestamp().as_microsecond()).unwrap_or(i64::MAX)
}

/// `[from, to)` of a month, in microseconds.
pub(crate) fn bounds(month: Month) -> (i64, i64) {
    (start_of(month), start_of(month + 1))
}

/// The partition's table name (quoted where used).
pub(crate) fn name(month: Month) -> String {
    format!("events_{:04}_{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

/// The month a partition name stands for.
pub(crate) fn parse(name: &str) -> Option<Month> {
    let rest = name.strip_prefix("events_")?;
    let (y, m) = rest.rsplit_once('_')?;
    Some(y.parse::<i64>().ok()? * 12 + m.parse::<i64>().ok()? - 1)
}

#[derive(Default)]
pub(crate) struct Partitions {
    known: Mutex<HashSet<Month>>,
}

impl Partitions {
    /// Makes sure the partitions of these months exist. Runs its own transaction, so call it
    /// before the append's.
    pub(crate) async fn ensure(&self, client: &mut Client, months: impl IntoIterator<Item = Month>) -> StoreResult<()> {
        let missing: Vec<Month> = {
            let known = self.known.lock().expect("partitions lock");
            let mut m: Vec<Month> = months.into_iter().filter(|m| !known.contains(m)).collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        if missing.is_empty() {
            return Ok(());
        }
        let tx = client.transaction().await.pg()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK]).await.pg()?;
        for &month in &missing {
            let (from, to) = bounds(month);
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS \"{}\" PARTITION OF events FOR VALUES FROM ({from}) TO ({to})",
                name(month)
            ))
            .await
            .pg()?;
        }
        tx.commit().await.pg()?;
        self.known.lock().expect("partitions lock").extend(missing);
        Ok(())
    }

    /// Forgets every partition seen: after this server or another dropped one (an insert
    /// finding no partition says so), the next `ensure` checks again.
    pub(crate) fn forget_all(&self) {
        self.known.lock().expect("partitions lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_their_bounds() {
        let t: Timestamp = "2026-11-30T23:59:59.999999Z".parse().unwrap();
        let m = month_of(t.as_microsecond());
        assert_eq!(name(m), "events_2026_11");
        assert_eq!(parse("events_2026_11"), Some(m));
        let (from, to) = bounds(m);
        assert_eq!(from, "2026-11-01T00:00:00Z".parse::<Timestamp>().unwrap().as_microsecond());
        assert_eq!(to, "2026-12-01T00:00:00Z".parse::<Timestamp>().unwrap().as_microsecond());
        assert!(from <= t.as_microsecond() && t.as_microsecond() < to);
        assert_eq!(month_of(to), m + 1);
    }
}
