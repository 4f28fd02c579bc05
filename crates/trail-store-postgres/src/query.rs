//! Queries: a `trail_index::Plan` (the same term hashes the SQLite store's index holds) becomes
//! SQL over each row's `terms` (GIN) and `action`; candidates come newest first by
//! `(occurred_at, seq)`, and each is checked against the whole filter (`Filter::matches`, the
//! reference definition of a match) until the page is full. Every batch of a page, and every
//! later page, sees only seqs up to the first page's newest (the cursor's snapshot).

use jiff::Timestamp;
use tokio_postgres::{
    GenericClient,
    types::{ToSql, Type},
};
use trail_core::{
    TenantId,
    event::{EventBody, StoredEvent},
    filter::{Filter, Page},
};
use trail_index::{
    Plan,
    terms::{Alt, Clause},
};
use trail_store::{
    EventPage, StoreResult,
    unreadable::{Read, occurred_at_in, or_placeholder},
};

use crate::{
    PgStore,
    error::{PgResultExt, corrupt},
};

type Param = Box<dyn ToSql + Sync + Send>;

/// SQL conditions with their parameters, numbered after `first` fixed ones.
pub(crate) struct Conditions {
    /// One ` AND (...)` per clause of the plan.
    clauses: Vec<String>,
    pub params: Vec<(Param, Type)>,
    first: usize,
    /// The first actor clause that asks both actor columns, as two disjoint halves:
    /// `(its place in clauses, [id side, e-mail side and not the id side])`. A page reads each
    /// half down its own B-tree in time order and merges them; one `OR` across two columns
    /// gives PostgreSQL no single ordered walk, and a person's page could take 40 ms.
    halves: Option<(usize, [String; 2])>,
}

impl Conditions {
    fn mark(&mut self, p: Param, ty: Type) -> String {
        self.params.push((p, ty));
        format!("${}", self.first + self.params.len())
    }

    /// The plan's clauses as ` AND ...` conditions (none for a plan that selects everything),
    /// with parameters numbered from `first + 1`. A clause naming only actors (the `actor`
    /// filter, a member's own events, `actor:` in `q`) is asked of the actor columns and their
    /// B-trees instead of the terms: PostgreSQL estimates them well, and walks one person's
    /// events in time order.
    pub(crate) fn of(filter: &Filter, plan: &Plan, first: usize) -> Conditions {
        let (ids, emails) = Plan::actor_terms(filter);
        let mut c = Conditions { clauses: Vec::new(), params: Vec::new(), first, halves: None };
        for clause in &plan.clauses {
            let (alts, negated) = match clause {
                Clause::AnyOf(a) => (a, false),
                Clause::NoneOf(a) => (a, true),
            };
            let terms: Vec<u64> =
                alts.iter().filter_map(|a| if let Alt::Term(t) = a { Some(*t) } else { None }).collect();
            let only_actors = !negated
                && terms.len() == alts.len()
                && !terms.is_empty()
                && terms.iter().all(|t| ids.contains(t) || emails.contains(t));
            if only_actors {
                let mut sides = Vec::new();
                for (column, known) in [("actor_id_term", &ids), ("actor_email_term", &emails)] {
                    let these: Vec<i64> = terms.iter().filter(|t| known.contains(t)).map(|t| *t as i64).collect();
                    // One value as `=`: a B-tree walks `= ANY(...)` on its second column
                    // without giving the time order.
                    match these[..] {
                        [] => {}
                        [one] => sides.push(format!("{column} = {}", c.mark(Box::new(one), Type::INT8))),
                        _ => sides.push(format!("{column} = ANY({})", c.mark(Box::new(these), Type::INT8_ARRAY))),
                    }
                }
                if let ([id, email], None) = (&sides[..], &c.halves) {
                    let second = format!("{email} AND NOT coalesce({id}, false)");
                    c.halves = Some((c.clauses.len(), [id.clone(), second]));
                }
                c.clauses.push(format!(" AND ({})", sides.join(" OR ")));
                continue;
            }
            let mut any = Vec::new();
            if !terms.is_empty() {
                let terms: Vec<i64> = terms.iter().map(|t| *t as i64).collect();
                any.push(format!("terms && {}", c.mark(Box::new(terms), Type::INT8_ARRAY)));
            }
            for alt in alts {
                if let Alt::ActionPrefix(p) = alt {
                    any.push(format!("starts_with(action, {})", c.mark(Box::new(p.clone()), Type::TEXT)));
                }
            }
            if any.is_empty() {
                continue;
            }
            let any = any.join(" OR ");
            c.clauses.push(if negated { format!(" AND NOT ({any})") } else { format!(" AND ({any})") });
        }
        c
    }

    /// All the conditions, as SQL.
    pub(crate) fn text(&self) -> String {
        self.clauses.concat()
    }

    /// The conditions as two disjoint halves (see `halves`), if they split.
    fn split(&self) -> Option<[String; 2]> {
        let (at, [a, b]) = self.halves.as_ref()?;
        let rest: String =
            self.clauses.iter().enumerate().filter(|(i, _)| i != at).map(|(_, clause)| clause.as_str()).collect();
        Some([format!(" AND {a}{rest}"), format!(" AND {b}{rest}")])
    }

    /// The fixed parameters and then the conditions', with their types (statements are sent
    /// typed: parsed, bound and run in one round trip).
    fn typed<'a>(&'a self, fixed: &[(&'a (dyn ToSql + Sync), Type)]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
        let mut all = fixed.to_vec();
        all.extend(self.params.iter().map(|(p, t)| (&**p as &(dyn ToSql + Sync), t.clone())));
        all
    }
}

/// Where a scan looks: the tenant, the newest seq, a half-open time range.
pub(crate) struct Scan<'a> {
    pub tenant: &'a str,
    pub snapshot: u64,
    pub from: i64,
    pub to: i64,
    pub conditions: Conditions,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(tenant: &'a str, filter: &Filter, plan: &Plan, snapshot: u64) -> Scan<'a> {
        Scan {
            tenant,
            snapshot,
            from: filter.time.from.map_or(i64::MIN, |t| t.as_microsecond()),
            to: filter.time.to.map_or(i64::MAX, |t| t.as_microsecond()),
            conditions: Conditions::of(filter, plan, 7),
        }
    }

    /// Up to `limit` candidates before `(occurred_at, seq)`, newest first.
    pub(crate) async fn next(
        &self,
        c: &impl GenericClient,
        before: (i64, i64),
        limit: usize,
    ) -> StoreResult<Vec<(i64, u64, Vec<u8>)>> {
        let select = |conditions: &str| {
            format!(
                "SELECT occurred_at, seq, body FROM events
                 WHERE tenant_id = $1 AND seq <= $2 AND occurred_at >= $3 AND occurred_at < $4
                   AND (occurred_at, seq) < ($5, $6){conditions}
                 ORDER BY occurred_at DESC, seq DESC LIMIT $7"
            )
        };
        let sql = match self.conditions.split() {
            None => select(&self.conditions.text()),
            // Each half newest first down its own B-tree, then the two merged.
            Some([a, b]) => format!(
                "SELECT occurred_at, seq, body FROM (({}) UNION ALL ({})) AS halves
                 ORDER BY occurred_at DESC, seq DESC LIMIT $7",
                select(&a),
                select(&b)
            ),
        };
        let (snapshot, limit) = (self.snapshot as i64, limit as i64);
        let params = self.conditions.typed(&[
            (&self.tenant, Type::TEXT),
            (&snapshot, Type::INT8),
            (&self.from, Type::INT8),
            (&self.to, Type::INT8),
            (&before.0, Type::INT8),
            (&before.1, Type::INT8),
            (&limit, Type::INT8),
        ]);
        let rows = c.query_typed(&sql, &params).await.pg()?;
        Ok(rows.iter().map(|r| (r.get(0), r.get::<_, i64>(1) as u64, r.get(2))).collect())
    }
}

/// The event a stored record holds.
pub(crate) fn body(record: &[u8]) -> StoreResult<EventBody> {
    trail_store::record::body(record).map_err(|e| corrupt(format!("event body: {e}")))
}

/// The event a stored record holds, or, when it does not decode, its placeholder (logged; see
/// `trail_store::unreadable`), at `occurred_at_us` (the row's column).
pub(crate) fn read(tenant: &TenantId, seq: u64, occurred_at_us: i64, record: &[u8]) -> Read {
    or_placeholder(trail_store::record::body(record), tenant, seq, Some(occurred_at_us), || occurred_at_in(record))
}

/// Candidates per round trip, at most.
const MAX_BATCH: usize = 5000;

pub(crate) async fn run(store: &PgStore, tenant: &TenantId, filter: &Filter, page: Page) -> StoreResult<EventPage> {
    // No transaction: events never change once written, and `seq <= snapshot` keeps every
    // batch (and every later page) to the events that existed when the first page was read.
    let client = store.client().await?;
    let newest = PgStore::next_seq(&client, tenant).await? - 1;
    let snapshot = page.cursor.map(|c| c.snapshot).unwrap_or(newest);
    let plan = Plan::of(filter);
    let scan = Scan::new(tenant.as_str(), filter, &plan, snapshot);
    let mut before = page.cursor.map_or((i64::MAX, i64::MAX), |c| (c.occurred_at_us, c.seq as i64));
    let mut batch = page.limit + 1;
    let mut events = Vec::with_capacity(page.limit.min(1000));
    let mut more = false;
    'page: loop {
        let rows = scan.next(&**client, before, batch).await?;
        let exhausted = rows.len() < batch;
        for (occ, seq, record) in rows {
            before = (occ, seq as i64);
            // A placeholder is shown wherever the terms (made from the event) propose it.
            let Read { body, readable } = read(tenant, seq, occ, &record);
            if readable && !filter.matches(&body) {
                continue;
            }
            if events.len() == page.limit {
                more = true;
                break 'page;
            }
            events.push(StoredEvent { tenant: tenant.clone(), seq, body });
        }
        if exhausted {
            break;
        }
        batch = (batch * 2).min(MAX_BATCH);
    }
    Ok(EventPage::new(events, more, snapshot, filter.time))
}

/// One event's time and stored record, by seq.
async fn record(c: &impl GenericClient, tenant: &TenantId, seq: u64) -> StoreResult<Option<(i64, Vec<u8>)>> {
    PgStore::next_seq(c.client(), tenant).await?;
    if seq == 0 || seq > i64::MAX as u64 {
        return Ok(None);
    }
    let row = c
        .query_typed_opt(
            "SELECT occurred_at, body FROM events WHERE tenant_id = $1 AND seq = $2",
            &[(&tenant.as_str(), Type::TEXT), (&(seq as i64), Type::INT8)],
        )
        .await
        .pg()?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

pub(crate) async fn event(store: &PgStore, tenant: &TenantId, seq: u64) -> StoreResult<Option<StoredEvent>> {
    let client = store.client().await?;
    match record(&**client, tenant, seq).await? {
        None => Ok(None),
        Some((occ, r)) => Ok(Some(StoredEvent { tenant: tenant.clone(), seq, body: read(tenant, seq, occ, &r).body })),
    }
}

pub(crate) async fn leaf_data(store: &PgStore, tenant: &TenantId, seq: u64) -> StoreResult<Option<Vec<u8>>> {
    let client = store.client().await?;
    match record(&**client, tenant, seq).await? {
        None => Ok(None),
        Some((_, r)) => trail_store::record::leaf_data(&r, tenant.as_str(), seq)
            .map(Some)
            .map_err(|e| corrupt(format!("event body: {e}"))),
    }
}

pub(crate) async fn events_after(
    store: &PgStore,
    tenant: &TenantId,
    after: u64,
    limit: usize,
) -> StoreResult<Vec<StoredEvent>> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    let rows = client
        .query(
            "SELECT seq, body, occurred_at FROM events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &[&tenant.as_str(), &(after.min(i64::MAX as u64) as i64), &(limit as i64)],
        )
        .await
        .pg()?;
    Ok(rows
        .iter()
        .map(|r| {
            let seq = r.get::<_, i64>(0) as u64;
            StoredEvent { tenant: tenant.clone(), seq, body: read(tenant, seq, r.get(2), r.get(1)).body }
        })
        .collect())
}

pub(crate) async fn count_buckets(
    store: &PgStore,
    tenant: &TenantId,
    filter: &Filter,
    boundaries: &[Timestamp],
) -> StoreResult<Vec<u64>> {
    let mut counts = vec![0u64; boundaries.len().saturating_sub(1)];
    if counts.is_empty() {
        return Ok(counts);
    }
    let mut client = store.client().await?;
    let tx = crate::store::snapshot(&mut client).await?;
    let newest = PgStore::next_seq(tx.client(), tenant).await? - 1;
    let (f, edges) = trail_store::bucket_bounds(filter, boundaries);
    let plan = Plan::of(&f);
    let scan = Scan::new(tenant.as_str(), &f, &plan, newest);
    if plan.selects_all() {
        // Every event counts: the 15-minute counts answer (`counts.rs`).
        counts = crate::counts::per_interval(&*tx, scan.tenant, newest, &edges).await?;
    } else if plan.exact {
        // width_bucket gives i for edges[i-1] <= occurred_at < edges[i].
        let conditions = Conditions::of(&f, &plan, 5);
        let sql = format!(
            "SELECT width_bucket(occurred_at, $5) AS b, count(*) FROM events
             WHERE tenant_id = $1 AND seq <= $2 AND occurred_at >= $3 AND occurred_at < $4{}
             GROUP BY b",
            conditions.text()
        );
        let snapshot = newest as i64;
        let params = conditions.typed(&[
            (&scan.tenant, Type::TEXT),
            (&snapshot, Type::INT8),
            (&scan.from, Type::INT8),
            (&scan.to, Type::INT8),
            (&edges, Type::INT8_ARRAY),
        ]);
        for r in tx.query_typed(&sql, &params).await.pg()? {
            let (b, n): (i32, i64) = (r.get(0), r.get(1));
            if (1..edges.len() as i32).contains(&b) {
                counts[b as usize - 1] += n as u64;
            }
        }
    } else {
        let mut before = (i64::MAX, i64::MAX);
        loop {
            let rows = scan.next(&*tx, before, MAX_BATCH).await?;
            let exhausted = rows.len() < MAX_BATCH;
            for (occ, seq, record) in rows {
                before = (occ, seq as i64);
                let Read { body, readable } = read(tenant, seq, occ, &record);
                if !readable || f.matches(&body) {
                    let i = edges.partition_point(|&b| b <= occ);
                    if (1..edges.len()).contains(&i) {
                        counts[i - 1] += 1;
                    }
                }
            }
            if exhausted {
                break;
            }
        }
    }
    tx.commit().await.pg()?;
    Ok(counts)
}

pub(crate) async fn first_occurred_at(store: &PgStore, tenant: &TenantId) -> StoreResult<Option<Timestamp>> {
    let client = store.client().await?;
    PgStore::next_seq(&client, tenant).await?;
    let row =
        client.query_one("SELECT min(occurred_at) FROM events WHERE tenant_id = $1", &[&tenant.as_str()]).await.pg()?;
    Ok(row.get::<_, Option<i64>>(0).map(crate::store::ts))
}
