//! Candidates in the order pages show them: `occurred_at`, then seq, descending.
//!
//! Every source yields its matches in that order (a source whose documents arrived in time
//! order simply walks its bitmap backwards; any other sorts its matches), and a heap merges the
//! sources. A source is evaluated only when the newest document it could hold (its latest
//! `occurred_at` and last seq) would come next: the first page of a large log touches the newest
//! source or two and stops.

use std::{collections::BinaryHeap, sync::Arc};

use roaring::RoaringBitmap;

use crate::{source::Source, source::evaluate, terms::Plan};

/// Where candidates may come from: a time range (half-open, microseconds), a position to
/// continue after (exclusive), and the highest seq to consider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub before: Option<(i64, u64)>,
    pub snapshot: u64,
}

impl Bounds {
    pub(crate) fn admits(&self, occ: i64, seq: u64) -> bool {
        self.from.is_none_or(|f| occ >= f)
            && self.to.is_none_or(|t| occ < t)
            && self.before.is_none_or(|b| (occ, seq) < b)
            && seq <= self.snapshot
    }
}

/// The first offset in `lo..hi` for which `below` is false (`below` must be true, then false).
fn partition(mut lo: u32, mut hi: u32, below: impl Fn(u32) -> bool) -> u32 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}

/// The offset range of a time-sorted source that can hold admitted documents.
fn sorted_range(src: &dyn Source, b: &Bounds) -> std::ops::Range<u32> {
    let first = src.first_seq();
    let mut hi = src.len();
    if b.snapshot < first {
        return 0..0;
    }
    hi = hi.min((b.snapshot - first + 1).min(u32::MAX as u64) as u32);
    let lo = match b.from {
        Some(f) => partition(0, hi, |o| src.occurred_at(o) < f),
        None => 0,
    };
    if let Some(t) = b.to {
        hi = partition(lo, hi, |o| src.occurred_at(o) < t);
    }
    if let Some(before) = b.before {
        hi = partition(lo, hi, |o| (src.occurred_at(o), first + o as u64) < before);
    }
    lo..hi.max(lo)
}

type Matches = Box<dyn Iterator<Item = (i64, u64)> + Send>;

/// Matches in a source not sorted by time but keeping its time order beyond which sorting the
/// matches themselves costs more than walking that order.
static SORT_AT_MOST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(4096);

/// Changes the threshold between sorting matches and walking a source's time order (tests use
/// a tiny one so both paths run on small data).
#[doc(hidden)]
pub fn set_sort_at_most(n: u64) {
    SORT_AT_MOST.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// The positions in time order of `src` that can hold admitted documents.
fn ordered_range(src: &dyn Source, b: &Bounds) -> Option<std::ops::Range<u32>> {
    let first = src.first_seq();
    let at = |i: u32| src.in_time_order(i).map(|o| (src.occurred_at(o), first + o as u64));
    at(0)?;
    let n = src.len();
    let key = |i: u32| at(i).expect("the source keeps its time order");
    let lo = match b.from {
        Some(f) => partition(0, n, |i| key(i).0 < f),
        None => 0,
    };
    let mut hi = n;
    if let Some(t) = b.to {
        hi = partition(lo, hi, |i| key(i).0 < t);
    }
    if let Some(before) = b.before {
        hi = partition(lo, hi, |i| key(i) < before);
    }
    Some(lo..hi.max(lo))
}

/// The matches of `plan` in `src` within `b`, newest first.
pub fn source_matches(src: Arc<dyn Source>, plan: &Plan, b: &Bounds) -> Matches {
    let first = src.first_seq();
    if src.sorted() {
        let range = sorted_range(&*src, b);
        let acc = evaluate(&*src, plan, range);
        let base = src.base();
        Box::new(acc.into_iter().rev().map(move |v| (src.occurred_at(v - base), v as u64 + 1)))
    } else if let Some(positions) = ordered_range(&*src, b)
        && !positions.is_empty()
    {
        let hi =
            if b.snapshot < first { 0 } else { src.len().min((b.snapshot - first + 1).min(u32::MAX as u64) as u32) };
        let acc = evaluate(&*src, plan, 0..hi);
        let base = src.base();
        if acc.len() <= SORT_AT_MOST.load(std::sync::atomic::Ordering::Relaxed) {
            let b = *b;
            let mut v: Vec<(i64, u64)> = acc
                .iter()
                .map(|v| (src.occurred_at(v - base), v as u64 + 1))
                .filter(|&(occ, seq)| b.admits(occ, seq))
                .collect();
            v.sort_unstable_by(|a, b| b.cmp(a));
            return Box::new(v.into_iter());
        }
        Box::new(positions.rev().filter_map(move |i| {
            let o = src.in_time_order(i).expect("the source keeps its time order");
            acc.contains(base + o).then(|| (src.occurred_at(o), first + o as u64))
        }))
    } else {
        let hi =
            if b.snapshot < first { 0 } else { src.len().min((b.snapshot - first + 1).min(u32::MAX as u64) as u32) };
        let acc = evaluate(&*src, plan, 0..hi);
        let base = src.base();
        let mut v: Vec<(i64, u64)> = acc
            .iter()
            .map(|v| (src.occurred_at(v - base), v as u64 + 1))
            .filter(|&(occ, seq)| b.admits(occ, seq))
            .collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        Box::new(v.into_iter())
    }
}

enum State {
    Pending(Arc<dyn Source>),
    Ready(Matches),
}

/// Candidates from several sources, merged newest first. Lazily evaluated.
pub struct Candidates {
    plan: Plan,
    bounds: Bounds,
    states: Vec<State>,
    /// (key, is_bound, source): a bound is the newest a pending source could yield.
    heap: BinaryHeap<((i64, u64), bool, usize)>,
}

impl Candidates {
    /// `sources` are searched lazily; `ready` are matches already computed (newest first).
    pub fn new(plan: Plan, bounds: Bounds, sources: Vec<Arc<dyn Source>>, ready: Vec<(i64, u64)>) -> Self {
        let mut c = Candidates { plan, bounds, states: Vec::new(), heap: BinaryHeap::new() };
        for s in sources {
            let overlaps = !s.is_empty()
                && s.first_seq() <= bounds.snapshot
                && bounds.from.is_none_or(|f| s.max_occurred_at() >= f)
                && bounds.to.is_none_or(|t| s.min_occurred_at() < t)
                && bounds.before.is_none_or(|b| (s.min_occurred_at(), s.first_seq()) < b);
            if overlaps {
                let key = (s.max_occurred_at(), s.last_seq().min(bounds.snapshot));
                c.heap.push((key, true, c.states.len()));
                c.states.push(State::Pending(s));
            }
        }
        let mut ready = ready.into_iter();
        if let Some(first) = ready.next() {
            c.heap.push((first, false, c.states.len()));
            c.states.push(State::Ready(Box::new(ready)));
        }
        c
    }
}

impl Iterator for Candidates {
    type Item = (i64, u64);

    fn next(&mut self) -> Option<(i64, u64)> {
        loop {
            let (key, is_bound, i) = self.heap.pop()?;
            if is_bound {
                let State::Pending(src) = &self.states[i] else { unreachable!("a bound belongs to a pending source") };
                let mut m = source_matches(src.clone(), &self.plan, &self.bounds);
                if let Some(first) = m.next() {
                    self.heap.push((first, false, i));
                }
                self.states[i] = State::Ready(m);
                continue;
            }
            if let State::Ready(m) = &mut self.states[i]
                && let Some(next) = m.next()
            {
                self.heap.push((next, false, i));
            }
            return Some(key);
        }
    }
}

/// Counts the matches of `plan` in `src` per interval `[bounds[i], bounds[i+1])`, adding to
/// `counts`.
/// Purged documents (`deleted`, by position) are not counted.
pub fn count_into(src: &dyn Source, plan: &Plan, boundaries: &[i64], counts: &mut [u64], deleted: &RoaringBitmap) {
    let (Some(&lo_t), Some(&hi_t)) = (boundaries.first(), boundaries.last()) else { return };
    if src.is_empty() || src.max_occurred_at() < lo_t || src.min_occurred_at() >= hi_t {
        return;
    }
    if src.sorted() {
        let edges: Vec<u32> = boundaries.iter().map(|&t| partition(0, src.len(), |o| src.occurred_at(o) < t)).collect();
        let range = edges[0]..edges[edges.len() - 1];
        if plan.clauses.is_empty() {
            let base = src.base();
            for (i, w) in edges.windows(2).enumerate() {
                counts[i] += (w[1] - w[0]) as u64 - deleted.range_cardinality(base + w[0]..base + w[1]);
            }
        } else {
            let mut acc = evaluate(src, plan, range);
            acc -= deleted;
            for (i, w) in edges.windows(2).enumerate() {
                counts[i] += acc.range_cardinality(src.base() + w[0]..src.base() + w[1]);
            }
        }
    } else if src.in_time_order(0).is_some() && plan.clauses.is_empty() && deleted.is_empty() {
        let edges: Vec<u32> = boundaries
            .iter()
            .map(|&t| partition(0, src.len(), |i| src.occurred_at(src.in_time_order(i).expect("ordered")) < t))
            .collect();
        for (i, w) in edges.windows(2).enumerate() {
            counts[i] += (w[1] - w[0]) as u64;
        }
    } else {
        let mut acc = evaluate(src, plan, 0..src.len());
        acc -= deleted;
        for v in acc.iter() {
            let t = src.occurred_at(v - src.base());
            let i = boundaries.partition_point(|&b| b <= t);
            if (1..boundaries.len()).contains(&i) {
                counts[i - 1] += 1;
            }
        }
    }
}
