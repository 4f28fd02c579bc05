//! The in-memory buffer of recently indexed documents, before they are written to a segment.

use std::collections::{BTreeSet, HashMap};

use roaring::RoaringBitmap;

use crate::{source::Source, terms::Doc};

/// Documents with consecutive seqs from `first_seq`, their terms' postings and times.
#[derive(Debug, Clone)]
pub struct Mem {
    pub(crate) first_seq: u64,
    pub(crate) occurred: Vec<i64>,
    pub(crate) postings: HashMap<u64, Vec<u32>>,
    pub(crate) actions: BTreeSet<String>,
    pub(crate) sorted: bool,
    pub(crate) min: i64,
    pub(crate) max: i64,
}

impl Mem {
    pub fn new(first_seq: u64) -> Self {
        Mem {
            first_seq,
            occurred: Vec::new(),
            postings: HashMap::new(),
            actions: BTreeSet::new(),
            sorted: true,
            min: i64::MAX,
            max: i64::MIN,
        }
    }

    /// The seq the next document must have.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.occurred.len() as u64
    }

    /// Adds the document with seq [`Mem::next_seq`].
    pub fn push(&mut self, occurred_at: i64, doc: &Doc) {
        let offset = self.occurred.len() as u32;
        if let Some(&last) = self.occurred.last()
            && occurred_at < last
        {
            self.sorted = false;
        }
        self.occurred.push(occurred_at);
        self.min = self.min.min(occurred_at);
        self.max = self.max.max(occurred_at);
        for &t in &doc.terms {
            self.postings.entry(t).or_default().push(offset);
        }
        if !self.actions.contains(&doc.action) {
            self.actions.insert(doc.action.clone());
        }
    }
}

impl Source for Mem {
    fn first_seq(&self) -> u64 {
        self.first_seq
    }

    fn len(&self) -> u32 {
        self.occurred.len() as u32
    }

    fn occurred_at(&self, offset: u32) -> i64 {
        self.occurred[offset as usize]
    }

    fn sorted(&self) -> bool {
        self.sorted
    }

    fn min_occurred_at(&self) -> i64 {
        self.min
    }

    fn max_occurred_at(&self) -> i64 {
        self.max
    }

    fn terms(&self) -> Vec<u64> {
        let mut t: Vec<u64> = self.postings.keys().copied().collect();
        t.sort_unstable();
        t
    }

    fn postings(&self, term: u64) -> RoaringBitmap {
        match self.postings.get(&term) {
            Some(list) => RoaringBitmap::from_sorted_iter(list.iter().copied()).expect("offsets are pushed in order"),
            None => RoaringBitmap::new(),
        }
    }

    fn actions(&self) -> Vec<String> {
        self.actions.iter().cloned().collect()
    }
}
