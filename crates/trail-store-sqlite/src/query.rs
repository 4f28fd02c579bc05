//! Queries: the term index proposes candidates newest first, each is read and checked against
//! the whole filter ([`Filter::matches`], the reference definition of a match), until the page
//! is full. The index never misses a matching event; the check removes what it cannot rule out
//! itself (phrases, address blocks between indexed lengths), so answers are exact.
//!
//! The index may lag the log when another process appended to the same data directory; every
//! query first indexes whatever the log holds beyond what the index covers ([`catch_up`]).

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension};
use trail_core::{
    TenantId,
    event::{Fields, StoredEvent},
    filter::{Filter, Page},
};
use trail_index::{Bounds, Plan, TermIndex};
use trail_store::{EventPage, RenderRow, RenderedPage, StoreError, StoreResult, cursor_after};

use crate::{SEQ_MASK, bulk::Blobs, codec::Codec, error::SqlResultExt, event_pos};

/// What queries need besides a connection.
pub(crate) struct Ctx<'a> {
    pub codec: &'a Arc<Codec>,
    pub index: &'a TermIndex,
}

/// Events indexed per step when catching up.
const CATCH_UP_CHUNK: u64 = 10_000;

pub(crate) fn next_seq(conn: &Connection, tenant: &TenantId, tid: i64) -> StoreResult<u64> {
    let next: i64 = conn
        .prepare_cached("SELECT next_seq FROM tenants WHERE tid = ?1")
        .sql()?
        .query_row([tid], |r| r.get(0))
        .optional()
        .sql()?
        .ok_or_else(|| StoreError::NotFound(format!("tenant {tenant}")))?;
    Ok(next as u64)
}

/// Indexes the tenant's events up to seq `upto` that the index does not cover yet.
pub(crate) fn catch_up(conn: &Connection, ctx: &Ctx<'_>, tid: i64, upto: u64) -> StoreResult<()> {
    catch_up_with(conn, ctx.codec, ctx.index, tid, upto)
}

/// [`catch_up`] with its parts.
pub(crate) fn catch_up_with(
    conn: &Connection,
    codec: &Arc<Codec>,
    index: &TermIndex,
    tid: i64,
    upto: u64,
) -> StoreResult<()> {
    let ctx = Ctx { codec, index };
    let ctx = &ctx;
    loop {
        let covered = ctx.index.covered(tid as u64);
        if covered >= upto {
            return Ok(());
        }
        let last = upto.min(covered + CATCH_UP_CHUNK);
        let mut stmt =
            conn.prepare_cached("SELECT pos, body FROM events WHERE pos > ?1 AND pos <= ?2 ORDER BY pos").sql()?;
        let mut rows = stmt.query([event_pos(tid, covered), event_pos(tid, last)]).sql()?;
        let mut docs = Vec::new();
        let mut expect = covered + 1;
        while let Some(row) = rows.next().sql()? {
            let seq = (row.get::<_, i64>(0).sql()? & SEQ_MASK) as u64;
            if seq != expect {
                // A purged event leaves no row; the index needs every seq, so the gap is filled
                // with a document that matches nothing.
                while expect < seq {
                    docs.push((i64::MIN, trail_index::Doc::default()));
                    expect += 1;
                }
            }
            let blob = row.get_ref(1).sql()?.as_blob().map_err(|e| StoreError::internal(rusqlite::Error::from(e)))?;
            // An event that does not decode is indexed as its placeholder (at the time its
            // text still holds), so that queries find and show it instead of failing here.
            let body = ctx.codec.read(blob, Fields::All, &format_args!("#{tid}"), seq, None).body;
            docs.push((body.occurred_at.as_microsecond(), trail_index::doc(&body)));
            expect += 1;
        }
        if docs.is_empty() {
            return Ok(());
        }
        if let Err(gap) = ctx.index.add(tid as u64, covered + 1, &docs) {
            return Err(StoreError::internal(std::io::Error::other(gap.to_string())));
        }
    }
}

/// Event `seq`, if it exists, and whether it could be read: an event that does not decode is
/// read as its placeholder (see `trail_store::unreadable`), at `occurred_at_us` when the
/// caller knows its time.
pub(crate) fn read(
    conn: &Connection,
    ctx: &Ctx<'_>,
    tenant: &TenantId,
    tid: i64,
    seq: u64,
    occurred_at_us: Option<i64>,
) -> StoreResult<Option<(StoredEvent, bool)>> {
    with_blob(conn, tid, seq, |blob| {
        let read = ctx.codec.read(blob, Fields::All, tenant, seq, occurred_at_us);
        Ok((StoredEvent { tenant: tenant.clone(), seq, body: read.body }, read.readable))
    })
}

/// `f` of the stored blob of event `seq`, read in place, if the event exists.
fn with_blob<T>(
    conn: &Connection,
    tid: i64,
    seq: u64,
    f: impl FnOnce(&[u8]) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached("SELECT body FROM events WHERE pos = ?1").sql()?;
    let mut rows = stmt.query([event_pos(tid, seq)]).sql()?;
    match rows.next().sql()? {
        None => Ok(None),
        Some(row) => f(blob_of(row, 0)?).map(Some),
    }
}

/// The stored blobs of events `seqs` (each with its time) that exist, in the order of `seqs`. When the seqs lie
/// close together (a page of the log in time order mostly holds consecutive seqs), one range
/// scan reads them all: a lookup by key per event cost twice the scan (statement reset, bind
/// and a descent of the B-tree each).
fn read_blobs(conn: &Connection, tid: i64, seqs: &[(i64, u64)]) -> StoreResult<Blobs> {
    let mut out = Blobs::with_capacity(seqs.len());
    let (Some(lo), Some(hi)) = (seqs.iter().map(|s| s.1).min(), seqs.iter().map(|s| s.1).max()) else {
        return Ok(out);
    };
    if hi - lo >= 2 * seqs.len() as u64 {
        for &(occ, seq) in seqs {
            with_blob(conn, tid, seq, |blob| {
                out.push((occ, seq), blob);
                Ok(())
            })?;
        }
        return Ok(out);
    }
    let mut stmt = conn.prepare_cached("SELECT pos, body FROM events WHERE pos BETWEEN ?1 AND ?2").sql()?;
    let mut rows = stmt.query([event_pos(tid, lo), event_pos(tid, hi)]).sql()?;
    // Where each blob lies, by seq - lo; a seq not asked for is read and dropped.
    let mut slots: Vec<Option<std::ops::Range<usize>>> = vec![None; (hi - lo + 1) as usize];
    let mut asked = vec![false; slots.len()];
    seqs.iter().for_each(|&(_, s)| asked[(s - lo) as usize] = true);
    while let Some(row) = rows.next().sql()? {
        let seq = (row.get::<_, i64>(0).sql()? & SEQ_MASK) as u64;
        let i = (seq - lo) as usize;
        if asked[i] {
            slots[i] = Some(out.stash(blob_of(row, 1)?));
        }
    }
    for &(occ, s) in seqs {
        if let Some(range) = slots[(s - lo) as usize].take() {
            out.push_range((occ, s), range);
        }
    }
    Ok(out)
}

/// Column `i` of `row` as a blob.
fn blob_of<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> StoreResult<&'r [u8]> {
    row.get_ref(i).sql()?.as_blob().map_err(|e| StoreError::internal(rusqlite::Error::from(e)))
}

/// Pages at least this large (exports, which ask for 5,000 at a time) are read and decoded on
/// two threads (`bulk.rs`).
const PARALLEL_PAGE: usize = 256;

/// One event by seq.
pub(crate) fn event(
    conn: &Connection,
    ctx: &Ctx<'_>,
    tenant: &TenantId,
    tid: i64,
    seq: u64,
) -> StoreResult<Option<StoredEvent>> {
    Ok(read(conn, ctx, tenant, tid, seq, None)?.map(|(event, _)| event))
}

pub(crate) fn bounds(filter: &Filter, before: Option<(i64, u64)>, snapshot: u64) -> Bounds {
    Bounds {
        from: filter.time.from.map(|t| t.as_microsecond()),
        to: filter.time.to.map(|t| t.as_microsecond()),
        before,
        snapshot,
    }
}

/// One page of a query in one tenant: what [`run`] and [`run_rendered`] read.
#[derive(Clone, Copy)]
pub(crate) struct PageQuery<'a> {
    tenant: &'a TenantId,
    tid: i64,
    filter: &'a Filter,
    page: Page,
    /// The fields each event is read with: those asked for, or whole events when the filter
    /// looks at fields they leave out. (Pages under [`PARALLEL_PAGE`] are read whole anyway:
    /// only the large pages of exports gain.) Set by [`PageQuery::new`].
    fields: Fields,
}

impl<'a> PageQuery<'a> {
    pub(crate) fn new(tenant: &'a TenantId, tid: i64, filter: &'a Filter, page: Page, fields: Fields) -> Self {
        let fields = if fields.serves(filter) { fields } else { Fields::All };
        PageQuery { tenant, tid, filter, page, fields }
    }
}

/// Where a page's walk starts, inside its read transaction `tx`: the snapshot (the newest seq
/// the walk sees, kept across pages by the cursor) and the index's candidates after the cursor,
/// newest first. The index first takes in whatever the log holds beyond it.
fn walk(tx: &Connection, ctx: &Ctx<'_>, q: &PageQuery<'_>) -> StoreResult<(u64, trail_index::Candidates)> {
    let PageQuery { tenant, tid, filter, page, .. } = *q;
    let newest = next_seq(tx, tenant, tid)? - 1;
    let snapshot = page.cursor.map(|c| c.snapshot).unwrap_or(newest);
    catch_up(tx, ctx, tid, newest)?;
    let before = page.cursor.map(|c| (c.occurred_at_us, c.seq));
    Ok((snapshot, ctx.index.search(tid as u64, &Plan::of(filter), bounds(filter, before, snapshot))))
}

/// Runs one page of a query in a single read transaction (one consistent snapshot).
pub(crate) fn run(conn: &mut Connection, ctx: &Ctx<'_>, q: &PageQuery<'_>) -> StoreResult<EventPage> {
    let PageQuery { tenant, tid, filter, page, fields } = *q;
    let tx = conn.transaction().sql()?;
    let (snapshot, mut candidates) = walk(&tx, ctx, q)?;
    let mut events = Vec::with_capacity(page.limit.min(1000));
    let mut more = false;
    if page.limit >= PARALLEL_PAGE {
        // Read as many candidates as the page still needs (plus one, to know whether there is
        // more), decode them together, and go on while matches are missing.
        'page: loop {
            let want = page.limit + 1 - events.len();
            let mut seen = 0;
            let seqs = candidates.by_ref().take(want).inspect(|_| seen += 1);
            let decoded =
                crate::bulk::read_decoded(&tx, ctx.codec, tenant, fields, seqs, |c, seqs| read_blobs(c, tid, seqs))?;
            if seen == 0 {
                break;
            }
            for (seq, read) in decoded.into_iter().flatten() {
                // A placeholder is shown wherever the index (made from the event) proposes it.
                if read.readable && !filter.matches(&read.body) {
                    continue;
                }
                let body = read.body;
                if events.len() == page.limit {
                    more = true;
                    break 'page;
                }
                events.push(StoredEvent { tenant: tenant.clone(), seq, body });
            }
        }
    } else {
        for (occ, seq) in candidates {
            let Some((event, readable)) = read(&tx, ctx, tenant, tid, seq, Some(occ))? else { continue };
            if readable && !filter.matches(&event.body) {
                continue;
            }
            if events.len() == page.limit {
                more = true;
                break;
            }
            events.push(event);
        }
    }
    Ok(EventPage::new(events, more, snapshot, filter.time))
}

/// The rows of one page of a query, each matching event rendered by `render` on the thread
/// that decoded it (see `trail_store::RenderedPage`): the events, order and cursor of [`run`].
pub(crate) fn run_rendered(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    q: &PageQuery<'_>,
    render: Arc<dyn RenderRow>,
) -> StoreResult<RenderedPage> {
    if q.page.limit < PARALLEL_PAGE {
        return Ok(RenderedPage::of_events(run(conn, ctx, q)?, &*render));
    }
    let PageQuery { tenant, tid, filter, page, fields } = *q;
    let tx = conn.transaction().sql()?;
    let (snapshot, mut candidates) = walk(&tx, ctx, q)?;

    // Every candidate matches when the filter is a time range alone (the index applies it
    // exactly), so a renderer that can is handed each record without the typed event.
    let by_record = render.renders_records() && Plan::of(filter).selects_all();

    /// A chunk's rows: their bytes, and each row's (occurred_at, seq, end in the bytes).
    type Rows = (Vec<u8>, Vec<(i64, u64, usize)>);
    let step: crate::bulk::Step<Rows> = {
        let (codec, filter, tenant) = (ctx.codec.clone(), filter.clone(), tenant.clone());
        Arc::new(move |blobs: &Blobs| {
            let (mut bytes, mut rows) = (Vec::with_capacity(32 * 256), Vec::with_capacity(32));
            // One event for the chunk, its seq and body replaced for each row: the tenant is
            // cloned once a chunk, not once a row (both threads counting references to one id
            // cost as much as a column).
            let mut event: Option<StoredEvent> = None;
            for (seq, occ, blob) in blobs.iter() {
                if by_record
                    && let Ok(Some(occurred_at)) =
                        codec.with_decompressed(blob, |r| render.render_record(seq, r, &mut bytes))
                {
                    rows.push((occurred_at.as_microsecond(), seq, bytes.len()));
                    continue;
                }
                // A record that does not decode is rendered as its placeholder.
                let read = codec.read(blob, fields, &tenant, seq, Some(occ));
                if read.readable && !filter.matches(&read.body) {
                    continue;
                }
                let body = read.body;
                let occurred_at = body.occurred_at.as_microsecond();
                let event = match &mut event {
                    Some(e) => {
                        (e.seq, e.body) = (seq, body);
                        e
                    }
                    None => event.insert(StoredEvent { tenant: tenant.clone(), seq, body }),
                };
                render.render(event, &mut bytes);
                rows.push((occurred_at, seq, bytes.len()));
            }
            Ok((bytes, rows))
        })
    };
    let mut out = RenderedPage::default();
    // Rows kept so far (the pieces' counts, summed as they come).
    let mut rows_kept = 0usize;
    let mut last = None;
    let mut more = false;
    // As `run` does: read as many candidates as the page still needs, plus one.
    'page: loop {
        let want = page.limit + 1 - rows_kept;
        let mut seen = 0;
        let seqs = candidates.by_ref().take(want).inspect(|_| seen += 1);
        let chunks = crate::bulk::read_chunks(&tx, seqs, |c, seqs| read_blobs(c, tid, seqs), step.clone())?;
        if seen == 0 {
            break;
        }
        for (mut bytes, rows) in chunks {
            let room = page.limit - rows_kept;
            let kept = rows.len().min(room);
            if kept > 0 {
                let (occurred_at, seq, end) = rows[kept - 1];
                bytes.truncate(end);
                out.pieces.push((bytes, kept as u64));
                rows_kept += kept;
                last = Some((occurred_at, seq));
            }
            if rows.len() > room {
                more = true;
                break 'page;
            }
        }
    }
    out.next_cursor = cursor_after(more, last, snapshot, filter.time);
    Ok(out)
}

/// Counts matching events per interval: from the index alone when its plan is exact, else by
/// checking every candidate.
pub(crate) fn count_buckets(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    tenant: &TenantId,
    tid: i64,
    filter: &Filter,
    boundaries: &[jiff::Timestamp],
) -> StoreResult<Vec<u64>> {
    let mut counts = vec![0u64; boundaries.len().saturating_sub(1)];
    if counts.is_empty() {
        return Ok(counts);
    }
    let tx = conn.transaction().sql()?;
    let newest = next_seq(&tx, tenant, tid)? - 1;
    catch_up(&tx, ctx, tid, newest)?;
    crate::purge::refresh(&tx, ctx.index, tid)?;
    let (f, edges) = trail_store::bucket_bounds(filter, boundaries);
    let plan = Plan::of(&f);
    if plan.exact {
        ctx.index.count(tid as u64, &plan, &edges, &mut counts);
        return Ok(counts);
    }
    for (occ, seq) in ctx.index.search(tid as u64, &plan, bounds(&f, None, newest)) {
        let Some((event, readable)) = read(&tx, ctx, tenant, tid, seq, Some(occ))? else { continue };
        if !readable || f.matches(&event.body) {
            let i = edges.partition_point(|&b| b <= occ);
            if (1..edges.len()).contains(&i) {
                counts[i - 1] += 1;
            }
        }
    }
    Ok(counts)
}

/// The canonical leaf data of event `seq`.
pub(crate) fn leaf_data(
    conn: &Connection,
    ctx: &Ctx<'_>,
    tenant: &TenantId,
    tid: i64,
    seq: u64,
) -> StoreResult<Option<Vec<u8>>> {
    let mut stmt = conn.prepare_cached("SELECT body FROM events WHERE pos = ?1").sql()?;
    let mut rows = stmt.query([event_pos(tid, seq)]).sql()?;
    let Some(row) = rows.next().sql()? else { return Ok(None) };
    let blob = row.get_ref(0).sql()?.as_blob().map_err(|e| StoreError::internal(rusqlite::Error::from(e)))?;
    let bytes = ctx.codec.decompress(blob)?;
    trail_store::record::leaf_data(&bytes, tenant.as_str(), seq)
        .map(Some)
        .map_err(|e| StoreError::internal(std::io::Error::other(e)))
}
