//! A source of indexed documents (a segment file or an in-memory buffer) and how a [`Plan`] is
//! evaluated on one.
//!
//! Documents of a source are numbered by offset: the document at offset `o` is the event with
//! seq `first_seq + o`. Posting lists are roaring bitmaps of *positions*, `seq - 1`, the same in
//! every source of a tenant, so merging segments is a plain union of bitmaps (roaring unions whole
//! containers at a time) instead of rewriting every entry. A tenant's index therefore holds at
//! most 2^32 events.

use roaring::RoaringBitmap;

use crate::terms::{Alt, Clause, Plan};

/// What a search needs from a source.
pub trait Source: Send + Sync {
    fn first_seq(&self) -> u64;

    /// The position (`seq - 1`) of the document at offset 0.
    fn base(&self) -> u32 {
        (self.first_seq() - 1) as u32
    }
    fn len(&self) -> u32;
    fn occurred_at(&self, offset: u32) -> i64;
    /// Whether `occurred_at` never decreases with the offset (events arrived in time order).
    fn sorted(&self) -> bool;
    fn min_occurred_at(&self) -> i64;
    fn max_occurred_at(&self) -> i64;
    /// The positions (`seq - 1`) of the documents holding `term`.
    fn postings(&self, term: u64) -> RoaringBitmap;
    /// What reading `term`'s postings costs, in any unit that grows with their size (0 when
    /// the source does not hold the term): plans read their cheapest clause first.
    fn postings_cost(&self, term: u64) -> u64 {
        self.postings(term).len()
    }
    /// The distinct actions of the source's documents.
    fn actions(&self) -> Vec<String>;
    /// Every term of the source, ascending.
    fn terms(&self) -> Vec<u64>;
    /// Every (id key, offset) of the source, ascending.
    fn keys(&self) -> Vec<(u64, u32)>;
    /// How many id keys the source holds.
    fn keys_len(&self) -> usize {
        self.keys().len()
    }
    /// The offsets of the documents with id key `key`.
    fn key_offsets(&self, key: u64) -> Vec<u32>;
    /// For a source not sorted by time, the offset of its `i`-th document in time order (by
    /// `occurred_at`, then offset), if the source keeps that order.
    fn in_time_order(&self, _i: u32) -> Option<u32> {
        None
    }

    /// The file holding the source, if it is a written segment.
    fn file_path(&self) -> Option<std::path::PathBuf> {
        None
    }

    fn last_seq(&self) -> u64 {
        self.first_seq() + self.len() as u64 - 1
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn alt_postings(src: &dyn Source, alt: &Alt, actions: &mut Option<Vec<String>>) -> RoaringBitmap {
    match alt {
        Alt::Term(t) => src.postings(*t),
        Alt::ActionPrefix(p) => {
            let list = actions.get_or_insert_with(|| src.actions());
            let mut out = RoaringBitmap::new();
            for a in list.iter().filter(|a| a.starts_with(p.as_str())) {
                out |= src.postings(crate::terms::action(a));
            }
            out
        }
    }
}

/// The positions (`seq - 1`) of the documents of `src` that satisfy `plan`, limited to the
/// documents at `offsets` (a half-open range).
pub fn evaluate(src: &dyn Source, plan: &Plan, offsets: std::ops::Range<u32>) -> RoaringBitmap {
    let mut acc = RoaringBitmap::new();
    if offsets.is_empty() {
        return acc;
    }
    let mut actions = None;
    // The cheapest clause first: one person's postings before an action that half the log
    // holds, so a clause that leaves nothing ends the evaluation before the big lists are read.
    let mut order: Vec<(u64, &Clause)> = plan
        .clauses
        .iter()
        .map(|c| match c {
            Clause::AnyOf(alts) => (alts.iter().map(|a| alt_cost(src, a, &mut actions)).sum(), c),
            Clause::NoneOf(_) => (u64::MAX, c),
        })
        .collect();
    order.sort_by_key(|(cost, _)| *cost);
    if order.first().is_some_and(|(cost, c)| *cost == 0 && matches!(c, Clause::AnyOf(_))) {
        return acc;
    }
    let base = src.base();
    acc.insert_range(base + offsets.start..base + offsets.end);
    for (_, clause) in order {
        if acc.is_empty() {
            break;
        }
        match clause {
            Clause::AnyOf(alts) => {
                let mut any = RoaringBitmap::new();
                for a in alts {
                    any |= alt_postings(src, a, &mut actions);
                }
                acc &= any;
            }
            Clause::NoneOf(alts) => {
                for a in alts {
                    acc -= alt_postings(src, a, &mut actions);
                }
            }
        }
    }
    acc
}

fn alt_cost(src: &dyn Source, alt: &Alt, actions: &mut Option<Vec<String>>) -> u64 {
    match alt {
        Alt::Term(t) => src.postings_cost(*t),
        Alt::ActionPrefix(p) => {
            let list = actions.get_or_insert_with(|| src.actions());
            list.iter().filter(|a| a.starts_with(p.as_str())).map(|a| src.postings_cost(crate::terms::action(a))).sum()
        }
    }
}
