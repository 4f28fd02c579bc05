//! The in-memory buffer of recently indexed documents, before they are written to a segment.

use std::{
    collections::{BTreeSet, HashMap},
    hash::{BuildHasherDefault, Hasher},
};

use roaring::RoaringBitmap;
use smallvec::SmallVec;

use crate::{source::Source, terms::Doc};

/// Term hashes are already uniformly distributed: hashing them again would only cost time.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type TermMap<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// Documents with consecutive seqs from `first_seq`, their terms' postings and times.
#[derive(Debug, Clone)]
pub struct Mem {
    pub(crate) first_seq: u64,
    pub(crate) occurred: Vec<i64>,
    /// Most terms of a buffer hold one or two documents: those need no allocation.
    pub(crate) postings: TermMap<SmallVec<[u32; 2]>>,
    /// Id key to offset; `more_keys` holds the (practically nonexistent) repeats of a key.
    pub(crate) keys: TermMap<u32>,
    pub(crate) more_keys: Vec<(u64, u32)>,
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
            // Grown as needed: a server may hold buffers for thousands of small tenants.
            postings: TermMap::default(),
            keys: TermMap::default(),
            more_keys: Vec::new(),
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
        if let Some(key) = doc.key
            && self.keys.insert(key, offset).is_some_and(|prev| {
                self.more_keys.push((key, prev));
                true
            })
        {
            // `keys` keeps the newest offset, `more_keys` the earlier ones.
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

    fn keys(&self) -> Vec<(u64, u32)> {
        let mut k: Vec<(u64, u32)> =
            self.keys.iter().map(|(&k, &o)| (k, o)).chain(self.more_keys.iter().copied()).collect();
        k.sort_unstable();
        k
    }

    fn key_offsets(&self, key: u64) -> Vec<u32> {
        let mut out: Vec<u32> = self.keys.get(&key).copied().into_iter().collect();
        out.extend(self.more_keys.iter().filter(|(k, _)| *k == key).map(|(_, o)| *o));
        out
    }

    fn terms(&self) -> Vec<u64> {
        let mut t: Vec<u64> = self.postings.keys().copied().collect();
        t.sort_unstable();
        t
    }

    fn postings_cost(&self, term: u64) -> u64 {
        self.postings.get(&term).map_or(0, |list| list.len() as u64)
    }

    fn postings(&self, term: u64) -> RoaringBitmap {
        match self.postings.get(&term) {
            Some(list) => {
                let base = self.base();
                RoaringBitmap::from_sorted_iter(list.iter().map(|o| base + o)).expect("offsets are pushed in order")
            }
            None => RoaringBitmap::new(),
        }
    }

    fn actions(&self) -> Vec<String> {
        self.actions.iter().cloned().collect()
    }
}
