//! [`TermIndex`]: every tenant's sources, the in-memory buffer, flushing and merging.
//!
//! One process owns the index directory (an exclusive lock on `LOCK`): it flushes full buffers
//! to segment files and merges segments, on a background thread. Another process opening the
//! same directory (the CLI beside a running server) reads the segments and keeps what is newer
//! in memory only.
//!
//! Merging is tiered: when `merge_factor` adjacent segments have the same size class
//! (`flush_docs` x `merge_factor`^k documents), they become one, up to `max_segment_docs`. A
//! tenant with n events has O(merge_factor x log n) segments.

use roaring::RoaringBitmap;
use std::{
    collections::HashMap,
    fs::File,
    io,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, RwLock, mpsc},
};

use crate::{
    mem::Mem,
    search::{Bounds, Candidates, count_into},
    segment::{self, BLOCK_WORDS, Segment, bloom_probe},
    source::Source,
    terms::{Doc, Plan},
};

/// Tuning of flushes and merges.
#[derive(Debug, Clone, Copy)]
pub struct IndexConfig {
    /// Documents in memory per tenant before they are written to a segment.
    pub flush_docs: u32,
    /// Adjacent segments of one size class merged at once.
    pub merge_factor: usize,
    /// No merge makes a segment larger than this.
    pub max_segment_docs: u32,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig { flush_docs: 16_384, merge_factor: 8, max_segment_docs: 8 * 1024 * 1024 }
    }
}

/// The highest seq a tenant's index can hold (positions are u32).
pub const MAX_SEQ: u64 = u32::MAX as u64 + 1;

/// A seq arrived before the seqs it follows were indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("index gap: expected seq {expected}, got {got}")]
pub struct Gap {
    pub expected: u64,
    pub got: u64,
}

struct Tenant {
    /// Segments and buffers being written, in seq order.
    sources: Vec<Arc<dyn Source>>,
    /// The buffer documents are added to.
    mem: Mem,
    /// Every id key of the tenant, so a new id (the usual case) is known new from one cache line
    /// instead of one per segment. Built on first use.
    keys: Option<KeyFilter>,
    /// Positions of purged events: their documents stay in the segments (which are immutable)
    /// but no longer count. Searches need not skip them (the store finds no event to read).
    deleted: RoaringBitmap,
}

/// A blocked Bloom filter over all of a tenant's id keys, grown (rebuilt at twice the size)
/// when it fills.
struct KeyFilter {
    words: Vec<u64>,
    blocks: usize,
    count: usize,
    capacity: usize,
}

impl KeyFilter {
    fn new(capacity: usize) -> Self {
        let blocks = (capacity * 16).div_ceil(512).max(1);
        KeyFilter { words: vec![0; blocks * BLOCK_WORDS], blocks, count: 0, capacity }
    }

    /// A filter of every key of `sources` and `mem`.
    fn build(sources: &[Arc<dyn Source>], mem: &Mem) -> Self {
        let n: usize = sources.iter().map(|s| s.keys_len()).sum::<usize>() + mem.keys.len() + mem.more_keys.len();
        let mut f = KeyFilter::new((n * 2).max(1 << 16));
        for s in sources.iter().map(|s| &**s).chain(std::iter::once(mem as &dyn Source)) {
            for (k, _) in s.keys() {
                f.insert(k);
            }
        }
        f
    }

    fn insert(&mut self, key: u64) {
        for (w, m) in bloom_probe(key, self.blocks).1 {
            self.words[w] |= m;
        }
        self.count += 1;
    }

    fn may_contain(&self, key: u64) -> bool {
        bloom_probe(key, self.blocks).1.iter().all(|&(w, m)| self.words[w] & m != 0)
    }
}

enum Work {
    Flush(u64, Arc<Mem>),
    /// Answered once every earlier work is done.
    Barrier(mpsc::Sender<()>),
}

struct Shared {
    dir: PathBuf,
    config: IndexConfig,
    tenants: RwLock<HashMap<u64, Arc<RwLock<Tenant>>>>,
}

/// The term index of all tenants of one store.
pub struct TermIndex {
    shared: Arc<Shared>,
    worker: Option<Mutex<mpsc::Sender<Work>>>,
    _lock: Option<File>,
}

impl TermIndex {
    /// Opens (creating if needed) the index in `dir`. The first process to open a directory owns
    /// it; the segments found are checked and the consecutive ones from seq 1 of each tenant kept.
    pub fn open(dir: &Path, config: IndexConfig) -> io::Result<TermIndex> {
        crate::segment::create_private_dir(dir)?;
        let mut lock = File::options();
        lock.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut lock, crate::segment::FILE_MODE);
        let lock = lock.open(dir.join("LOCK"))?;
        let owner = lock.try_lock().is_ok();
        let mut by_tenant: HashMap<u64, Vec<(u64, u64, PathBuf)>> = HashMap::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if name.ends_with(".tmp") && owner {
                let _ = std::fs::remove_file(&path);
            } else if let Some((tid, first, last)) = segment::parse_name(&name) {
                by_tenant.entry(tid).or_default().push((first, last, path));
            }
        }
        let mut tenants = HashMap::new();
        for (tid, mut files) in by_tenant {
            // The cover: from seq 1, at each step the segment reaching furthest.
            files.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            let mut next = 1;
            let mut sources: Vec<Arc<dyn Source>> = Vec::new();
            for (first, last, path) in files {
                let keep = first == next
                    && match open_found(&path, tid, first, last, owner) {
                        Ok(seg) => {
                            sources.push(Arc::new(seg));
                            true
                        }
                        Err(e) => {
                            // Derived data: the store indexes the events again from the log.
                            tracing::warn!(
                                segment = %path.display(),
                                reason = %e,
                                "unusable index segment; it is deleted and its events are indexed again"
                            );
                            false
                        }
                    };
                if keep {
                    next = last + 1;
                } else if owner {
                    let _ = std::fs::remove_file(&path);
                }
            }
            tenants.insert(
                tid,
                Arc::new(RwLock::new(Tenant {
                    sources,
                    mem: Mem::new(next),
                    keys: None,
                    deleted: RoaringBitmap::new(),
                })),
            );
        }
        let shared = Arc::new(Shared { dir: dir.to_owned(), config, tenants: RwLock::new(tenants) });
        let worker = if owner {
            let (tx, rx) = mpsc::channel();
            let s = shared.clone();
            std::thread::Builder::new().name("trail-index".into()).spawn(move || work(s, rx))?;
            Some(Mutex::new(tx))
        } else {
            None
        };
        Ok(TermIndex { shared, worker, _lock: owner.then_some(lock) })
    }

    /// Whether this process writes segments.
    pub fn is_owner(&self) -> bool {
        self.worker.is_some()
    }

    fn tenant(&self, tid: u64) -> Arc<RwLock<Tenant>> {
        if let Some(t) = self.shared.tenants.read().expect("index lock").get(&tid) {
            return t.clone();
        }
        let mut all = self.shared.tenants.write().expect("index lock");
        all.entry(tid)
            .or_insert_with(|| {
                Arc::new(RwLock::new(Tenant {
                    sources: Vec::new(),
                    mem: Mem::new(1),
                    keys: None,
                    deleted: RoaringBitmap::new(),
                }))
            })
            .clone()
    }

    /// The highest seq up to which every event of the tenant is indexed.
    pub fn covered(&self, tid: u64) -> u64 {
        self.tenant(tid).read().expect("index lock").mem.next_seq() - 1
    }

    /// Adds documents with consecutive seqs from `first_seq`. Seqs already indexed are skipped;
    /// a batch starting beyond the next expected seq is a [`Gap`] and adds nothing.
    pub fn add(&self, tid: u64, first_seq: u64, docs: &[(i64, Doc)]) -> Result<(), Gap> {
        let tenant = self.tenant(tid);
        let mut t = tenant.write().expect("index lock");
        let next = t.mem.next_seq();
        if first_seq > next {
            return Err(Gap { expected: next, got: first_seq });
        }
        if first_seq + docs.len() as u64 > MAX_SEQ + 1 {
            // Positions are u32 (see `source`): beyond, the tenant is searched by catch-up scans.
            tracing::error!(tenant = tid, "the tenant's index is full (2^32 events); newer events are not indexed");
            return Err(Gap { expected: next, got: first_seq });
        }
        let skip = (next - first_seq) as usize;
        for (occ, doc) in docs.iter().skip(skip) {
            t.mem.push(*occ, doc);
            if let Some(key) = doc.key
                && let Some(filter) = &mut t.keys
            {
                filter.insert(key);
                if filter.count > filter.capacity {
                    t.keys = None; // rebuilt, larger, at the next lookup
                }
            }
            if t.mem.len() >= self.shared.config.flush_docs
                && let Some(worker) = &self.worker
            {
                let next = t.mem.next_seq();
                let full = Arc::new(std::mem::replace(&mut t.mem, Mem::new(next)));
                t.sources.push(full.clone());
                let _ = worker.lock().expect("worker lock").send(Work::Flush(tid, full));
            }
        }
        Ok(())
    }

    /// The seqs of the tenant's indexed events whose client id has key `key` (usually none;
    /// more than one only for different ids sharing a key, which the caller tells apart).
    pub fn seqs_with_key(&self, tid: u64, key: u64) -> Vec<u64> {
        let tenant = self.tenant(tid);
        let mut t = tenant.write().expect("index lock");
        if t.keys.is_none() {
            let filter = KeyFilter::build(&t.sources, &t.mem);
            t.keys = Some(filter);
        }
        if !t.keys.as_ref().is_some_and(|f| f.may_contain(key)) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for s in t.sources.iter().map(|s| &**s).chain(std::iter::once(&t.mem as &dyn Source)) {
            let first = s.first_seq();
            out.extend(s.key_offsets(key).into_iter().map(|o| first + o as u64));
        }
        out
    }

    /// The tenant's candidates for `plan` within `bounds`, newest first.
    pub fn search(&self, tid: u64, plan: &Plan, bounds: Bounds) -> Candidates {
        let tenant = self.tenant(tid);
        let t = tenant.read().expect("index lock");
        // The buffer changes under the lock, so its matches are taken now; the rest lazily.
        let ready: Vec<(i64, u64)> = if t.mem.is_empty() { Vec::new() } else { matches_now(&t.mem, plan, &bounds) };
        Candidates::new(plan.clone(), bounds, t.sources.clone(), ready)
    }

    /// Adds to `counts` the tenant's matches of `plan` per interval of `boundaries`.
    pub fn count(&self, tid: u64, plan: &Plan, boundaries: &[i64], counts: &mut [u64]) {
        let tenant = self.tenant(tid);
        let t = tenant.read().expect("index lock");
        for s in &t.sources {
            count_into(&**s, plan, boundaries, counts, &t.deleted);
        }
        count_into(&t.mem, plan, boundaries, counts, &t.deleted);
    }

    /// Marks documents (by position, `seq - 1`) as purged: counts leave them out from now on.
    pub fn forget(&self, tid: u64, positions: &RoaringBitmap) {
        let tenant = self.tenant(tid);
        tenant.write().expect("index lock").deleted |= positions;
    }

    /// How many documents of the tenant are marked purged.
    pub fn forgotten(&self, tid: u64) -> u64 {
        self.tenant(tid).read().expect("index lock").deleted.len()
    }

    /// The earliest `occurred_at` indexed for the tenant.
    pub fn first_occurred_at(&self, tid: u64) -> Option<i64> {
        let tenant = self.tenant(tid);
        let t = tenant.read().expect("index lock");
        t.sources.iter().map(|s| s.min_occurred_at()).chain((!t.mem.is_empty()).then(|| t.mem.min_occurred_at())).min()
    }

    /// Writes every buffer to a segment and waits until all flushes and merges are done (before
    /// measuring sizes, or for a quick restart). Does nothing in a process that does not own
    /// the index.
    pub fn flush_all(&self) {
        let Some(worker) = &self.worker else { return };
        let tenants: Vec<(u64, Arc<RwLock<Tenant>>)> =
            self.shared.tenants.read().expect("index lock").iter().map(|(k, v)| (*k, v.clone())).collect();
        let worker = worker.lock().expect("worker lock");
        for (tid, tenant) in tenants {
            let mut t = tenant.write().expect("index lock");
            if !t.mem.is_empty() {
                let next = t.mem.next_seq();
                let full = Arc::new(std::mem::replace(&mut t.mem, Mem::new(next)));
                t.sources.push(full.clone());
                let _ = worker.send(Work::Flush(tid, full));
            }
        }
        let (tx, rx) = mpsc::channel();
        if worker.send(Work::Barrier(tx)).is_ok() {
            drop(worker);
            let _ = rx.recv();
        }
    }

    /// Segment files and documents, for diagnostics and tests: (segments, buffered documents).
    pub fn shape(&self, tid: u64) -> (usize, u32) {
        let tenant = self.tenant(tid);
        let t = tenant.read().expect("index lock");
        (t.sources.len(), t.mem.len())
    }
}

/// Opens a segment found in the directory, named for tenant `tid` and seqs `first..=last`. A
/// segment of an older format version is rewritten in the current one by the index's owner: a
/// copy of what it holds, far cheaper than indexing its events again, after which every segment
/// carries a checksum. Should the rewrite fail, the old file is used as it is.
fn open_found(path: &Path, tid: u64, first: u64, last: u64, owner: bool) -> io::Result<Segment> {
    let seg = Segment::open(path)?;
    if seg.tid() != tid || seg.first_seq() != first || seg.last_seq() != last {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "its header does not match its file name"));
    }
    if seg.version() == segment::VERSION || !owner {
        return Ok(seg);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    match segment::write(dir, tid, &[&seg]).and_then(|p| Segment::open(&p)) {
        Ok(upgraded) => {
            tracing::info!(
                segment = %path.display(),
                from = seg.version(),
                to = segment::VERSION,
                "rewrote an index segment in the current format"
            );
            Ok(upgraded)
        }
        Err(e) => {
            tracing::warn!(segment = %path.display(), error = %e, "cannot rewrite an index segment in the current format; using it as it is");
            Ok(seg)
        }
    }
}

/// The buffer's matches, newest first (computed while its lock is held).
fn matches_now(mem: &Mem, plan: &Plan, bounds: &Bounds) -> Vec<(i64, u64)> {
    let base = mem.base();
    let mut v: Vec<(i64, u64)> = crate::source::evaluate(mem, plan, 0..mem.len())
        .iter()
        .map(|p| (mem.occurred_at(p - base), p as u64 + 1))
        .filter(|&(occ, seq)| bounds.admits(occ, seq))
        .collect();
    if mem.sorted() {
        v.reverse();
    } else {
        v.sort_unstable_by(|a, b| b.cmp(a));
    }
    v
}

fn work(shared: Arc<Shared>, rx: mpsc::Receiver<Work>) {
    while let Ok(job) = rx.recv() {
        let (tid, mem) = match job {
            Work::Flush(tid, mem) => (tid, mem),
            Work::Barrier(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let written = segment::write(&shared.dir, tid, &[&*mem]).and_then(|p| Segment::open(&p));
        let tenant = match shared.tenants.read().expect("index lock").get(&tid) {
            Some(t) => t.clone(),
            None => continue,
        };
        match written {
            Ok(seg) => {
                let seg: Arc<dyn Source> = Arc::new(seg);
                let mut t = tenant.write().expect("index lock");
                let frozen: Arc<dyn Source> = mem.clone();
                if let Some(slot) = t.sources.iter_mut().find(|s| Arc::ptr_eq(s, &frozen)) {
                    *slot = seg;
                }
            }
            Err(e) => {
                // The buffer stays in memory and is searched there; a restart indexes it again.
                tracing::error!(tenant = tid, error = %e, "cannot write an index segment");
                continue;
            }
        }
        if let Err(e) = merge(&shared, tid, &tenant) {
            tracing::error!(tenant = tid, error = %e, "cannot merge index segments");
        }
    }
}

fn size_class(docs: u32, config: &IndexConfig) -> u32 {
    let mut class = 0;
    let mut size = config.flush_docs as u64 * config.merge_factor as u64;
    while docs as u64 >= size {
        class += 1;
        size *= config.merge_factor as u64;
    }
    class
}

/// Merges runs of `merge_factor` adjacent segments of one size class, repeatedly.
fn merge(shared: &Shared, tid: u64, tenant: &RwLock<Tenant>) -> io::Result<()> {
    let config = &shared.config;
    loop {
        let sources = tenant.read().expect("index lock").sources.clone();
        // Only written segments merge (a buffer still being flushed has no file yet).
        let on_disk: Vec<bool> = sources.iter().map(|s| s.file_path().is_some()).collect();
        let mut run: Option<std::ops::Range<usize>> = None;
        let mut i = 0;
        while i + config.merge_factor <= sources.len() {
            let window = i..i + config.merge_factor;
            let class = size_class(sources[i].len(), config);
            let total: u64 = sources[window.clone()].iter().map(|s| s.len() as u64).sum();
            let same = window.clone().all(|j| on_disk[j] && size_class(sources[j].len(), config) == class);
            if same && total <= config.max_segment_docs as u64 {
                run = Some(window);
                break;
            }
            i += 1;
        }
        let Some(run) = run else { return Ok(()) };
        let inputs: Vec<&dyn Source> = sources[run.clone()].iter().map(|s| &**s).collect();
        let path = segment::write(&shared.dir, tid, &inputs)?;
        let merged: Arc<dyn Source> = Arc::new(Segment::open(&path)?);
        let old_paths: Vec<PathBuf> = sources[run.clone()].iter().filter_map(|s| s.file_path()).collect();
        {
            let mut t = tenant.write().expect("index lock");
            let start = t.sources.iter().position(|s| Arc::ptr_eq(s, &sources[run.start]));
            match start {
                Some(start) if (0..run.len()).all(|k| Arc::ptr_eq(&t.sources[start + k], &sources[run.start + k])) => {
                    t.sources.splice(start..start + run.len(), [merged]);
                }
                _ => continue,
            }
        }
        for p in old_paths {
            let _ = std::fs::remove_file(p);
        }
        tracing::debug!(tenant = tid, segments = run.len(), "merged index segments");
    }
}
