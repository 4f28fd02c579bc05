//! Segment files: an immutable, memory-mapped index of a contiguous range of a tenant's seqs.
//!
//! ```text
//! header (144 bytes, little-endian)
//!   0 magic "TRLIDX02"   8 tid u64        16 first_seq u64   24 docs u32   28 terms u32
//!  32 actions u32       36 flags u32 (1: sorted by time)      40 min_occurred_at i64
//!  48 max_occurred_at i64   56 offset of times   64 of dictionary   72 of postings
//!  80 of actions        88 file length
//! times       docs x i64: occurred_at (microseconds) of each document, by offset
//! dictionary  terms x (hash u64, a u32, b u32), ascending by hash; b = 0: the one document,
//!             at position (seq - 1) a; otherwise a roaring bitmap of positions at postings + a,
//!             b bytes long
//! postings    serialized roaring bitmaps (the portable format)
//! actions     actions x (length u16, UTF-8)
//! keys        keys x (id key u64, offset u32), ascending: the client ids, for idempotency
//! bloom       a blocked Bloom filter of the id keys (16 bits a key, 8 bits in one 64-byte
//!             block), so checking an id that was never sent (the usual case) reads one cache
//!             line instead of searching the keys
//! ```
//!
//! order       for a segment not sorted by time: docs x u32, its offsets in time order
//!             (by occurred_at, then offset), so it can be walked newest first
//!
//! Header fields at 96: offset of keys, 104: key count (u32), 108: bloom words (u32), 112:
//! offset of bloom, 120: offset of order (0 when sorted), 128: checksum (u64), 136: zero.
//!
//! **Version and checksum.** The magic's last two characters are the format's version
//! ([`VERSION`]). The checksum is the xxh3-64 of the whole file except the checksum's own 8
//! bytes: a flipped bit anywhere (a bad disk, a torn copy) is found when the segment is opened,
//! before any search trusts an offset or a posting list. Opening reads the whole file once
//! (xxh3 runs at several GB/s, so a start reads a large index in about the time the disk takes).
//! Version 1 (`TRLIDX01`, 128-byte header, no checksum) is what releases before versions and
//! checksums wrote: it still opens, after the checks of its offsets it always had, and the
//! index's owner rewrites it at once as the current version ([`crate::TermIndex::open`]).
//!
//! A segment is written to a temporary file, fsynced and renamed into place, so a reader sees a
//! whole segment or none. Segments are derived data: if one is lost, the store indexes the
//! missing seqs again from the events themselves.

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

use memmap2::Mmap;
use roaring::RoaringBitmap;

use crate::source::Source;

/// The format version this release writes: 2 added the checksum.
pub const VERSION: u32 = 2;
/// The magic's first six bytes; the last two are the version, in ASCII digits.
const MAGIC_PREFIX: &[u8; 6] = b"TRLIDX";
const MAGIC: &[u8; 8] = b"TRLIDX02";
const HEADER: usize = 144;
/// Version 1's header: the fields up to the order's offset, no checksum.
const HEADER_V1: usize = 128;
/// Where the checksum is in the header.
const CHECKSUM_AT: usize = 128;
const FLAG_SORTED: u32 = 1;

/// The file name of a segment: tenant and seq range, so the set of live segments can be read
/// from the directory alone.
pub fn file_name(tid: u64, first: u64, last: u64) -> String {
    format!("t{tid:08}-{first:012}-{last:012}.seg")
}

/// Parses a segment file name into (tid, first, last).
pub fn parse_name(name: &str) -> Option<(u64, u64, u64)> {
    let rest = name.strip_prefix('t')?.strip_suffix(".seg")?;
    let mut parts = rest.split('-');
    let tid = parts.next()?.parse().ok()?;
    let first = parts.next()?.parse().ok()?;
    let last = parts.next()?.parse().ok()?;
    (parts.next().is_none() && first >= 1 && last >= first).then_some((tid, first, last))
}

/// Writes the documents of `sources` (consecutive seq ranges, in order) as one segment file in
/// `dir`, and returns its path.
pub fn write(dir: &Path, tid: u64, sources: &[&dyn Source]) -> io::Result<PathBuf> {
    let first = sources.first().map(|s| s.first_seq()).ok_or_else(|| io::Error::other("no sources"))?;
    let mut next = first;
    for s in sources {
        if s.first_seq() != next || s.is_empty() {
            return Err(io::Error::other("segment sources must be non-empty and consecutive"));
        }
        next += s.len() as u64;
    }
    let docs = (next - first) as u32;
    let last = next - 1;
    let mut sorted = true;
    let mut prev = i64::MIN;
    let (mut min, mut max) = (i64::MAX, i64::MIN);
    let mut times = Vec::with_capacity(docs as usize * 8);
    for s in sources {
        sorted &= s.sorted();
        for o in 0..s.len() {
            let t = s.occurred_at(o);
            sorted &= t >= prev;
            prev = t;
            min = min.min(t);
            max = max.max(t);
            times.extend_from_slice(&t.to_le_bytes());
        }
    }
    let mut terms: Vec<u64> = sources.iter().flat_map(|s| s.terms()).collect();
    terms.sort_unstable();
    terms.dedup();
    let mut dict = Vec::with_capacity(terms.len() * 16);
    let mut postings = Vec::new();
    let mut buf = Vec::new();
    for &t in &terms {
        // Positions are the same in every source, so a merge is a union.
        let mut merged = RoaringBitmap::new();
        for s in sources {
            merged |= s.postings(t);
        }
        dict.extend_from_slice(&t.to_le_bytes());
        if merged.len() == 1 {
            dict.extend_from_slice(&merged.min().unwrap_or(0).to_le_bytes());
            dict.extend_from_slice(&0u32.to_le_bytes());
        } else {
            buf.clear();
            merged.serialize_into(&mut buf)?;
            dict.extend_from_slice(&(postings.len() as u32).to_le_bytes());
            dict.extend_from_slice(&(buf.len() as u32).to_le_bytes());
            postings.extend_from_slice(&buf);
        }
    }
    let mut actions: Vec<String> = sources.iter().flat_map(|s| s.actions()).collect();
    actions.sort();
    actions.dedup();
    let mut action_bytes = Vec::new();
    for a in &actions {
        action_bytes.extend_from_slice(&(a.len() as u16).to_le_bytes());
        action_bytes.extend_from_slice(a.as_bytes());
    }
    let mut keys: Vec<(u64, u32)> = sources
        .iter()
        .flat_map(|s| {
            let shift = (s.first_seq() - first) as u32;
            s.keys().into_iter().map(move |(k, o)| (k, o + shift))
        })
        .collect();
    keys.sort_unstable();
    let mut key_bytes = Vec::with_capacity(keys.len() * 12);
    for (k, o) in &keys {
        key_bytes.extend_from_slice(&k.to_le_bytes());
        key_bytes.extend_from_slice(&o.to_le_bytes());
    }
    let bloom = Bloom::build(keys.iter().map(|(k, _)| *k), keys.len());
    let mut order_bytes = Vec::new();
    if !sorted {
        let occ = |o: u32| i64::from_le_bytes(times[o as usize * 8..o as usize * 8 + 8].try_into().expect("8 bytes"));
        let mut order: Vec<u32> = (0..docs).collect();
        order.sort_unstable_by_key(|&o| (occ(o), o));
        order_bytes = order.iter().flat_map(|o| o.to_le_bytes()).collect();
    }
    let times_off = HEADER as u64;
    let dict_off = times_off + times.len() as u64;
    let post_off = dict_off + dict.len() as u64;
    let actions_off = post_off + postings.len() as u64;
    let keys_off = actions_off + action_bytes.len() as u64;
    let bloom_off = keys_off + key_bytes.len() as u64;
    let order_off = bloom_off + bloom.words.len() as u64 * 8;
    let end = order_off + order_bytes.len() as u64;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&tid.to_le_bytes());
    header.extend_from_slice(&first.to_le_bytes());
    header.extend_from_slice(&docs.to_le_bytes());
    header.extend_from_slice(&(terms.len() as u32).to_le_bytes());
    header.extend_from_slice(&(actions.len() as u32).to_le_bytes());
    header.extend_from_slice(&(if sorted { FLAG_SORTED } else { 0 }).to_le_bytes());
    header.extend_from_slice(&min.to_le_bytes());
    header.extend_from_slice(&max.to_le_bytes());
    for off in [times_off, dict_off, post_off, actions_off, end, keys_off] {
        header.extend_from_slice(&off.to_le_bytes());
    }
    header.extend_from_slice(&(keys.len() as u32).to_le_bytes());
    header.extend_from_slice(&(bloom.words.len() as u32).to_le_bytes());
    header.extend_from_slice(&bloom_off.to_le_bytes());
    header.extend_from_slice(&(if sorted { 0 } else { order_off }).to_le_bytes());
    header.resize(HEADER, 0);
    let bloom_bytes: Vec<u8> = bloom.words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let parts = [&header, &times, &dict, &postings, &action_bytes, &key_bytes, &bloom_bytes, &order_bytes];
    let sum = checksum(parts.iter().map(|p| p.as_slice()));
    header[CHECKSUM_AT..CHECKSUM_AT + 8].copy_from_slice(&sum.to_le_bytes());

    let path = dir.join(file_name(tid, first, last));
    let tmp = dir.join(format!("{}.tmp", file_name(tid, first, last)));
    {
        let mut options = File::options();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
        let mut w = BufWriter::with_capacity(1 << 20, options.open(&tmp)?);
        for part in [&header, &times, &dict, &postings, &action_bytes, &key_bytes, &bloom_bytes, &order_bytes] {
            w.write_all(part)?;
        }
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    File::open(dir)?.sync_all()?;
    Ok(path)
}

/// The checksum of a segment whose bytes are the concatenation of `parts` (the header first):
/// the xxh3-64 of every byte but the checksum's own, which count as zero.
fn checksum<'a>(parts: impl Iterator<Item = &'a [u8]>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut at = 0;
    for part in parts {
        let (start, end) = (at, at + part.len());
        if start <= CHECKSUM_AT && CHECKSUM_AT + 8 <= end {
            let i = CHECKSUM_AT - start;
            h.update(&part[..i]);
            h.update(&[0; 8]);
            h.update(&part[i + 8..]);
        } else {
            h.update(part);
        }
        at = end;
    }
    h.digest()
}

/// [`checksum`] of a whole segment file, read through a small buffer rather than through its
/// map: hashing the map would make every page of every segment resident in each process that
/// opens the index, for as long as it runs (50 MB at 1.2 million events: a `trail erase` or
/// `trail export` of one person's events would hold the whole index).
fn checksum_of_file(file: &File) -> io::Result<u64> {
    use std::io::Read;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    let (mut reader, mut at) = (file, 0usize);
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            return Ok(h.digest());
        }
        let part = &mut buf[..n];
        for i in (CHECKSUM_AT..CHECKSUM_AT + 8).filter(|i| (at..at + n).contains(i)) {
            part[i - at] = 0;
        }
        h.update(part);
        at += n;
    }
}

/// The mode of the index's files: the index holds every tenant's words and values, so only the
/// user Trail runs as may read it, whatever the umask (as the database beside it).
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates the index directory (and missing parents) readable only by its owner (`0700`).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// An open segment file.
pub struct Segment {
    path: PathBuf,
    map: Mmap,
    version: u32,
    tid: u64,
    first_seq: u64,
    docs: u32,
    terms: u32,
    actions: u32,
    sorted: bool,
    min: i64,
    max: i64,
    times_off: usize,
    dict_off: usize,
    post_off: usize,
    actions_off: usize,
    keys_off: usize,
    keys: u32,
    bloom_off: usize,
    bloom_words: u32,
    order_off: usize,
}

/// A blocked Bloom filter of id keys: each key sets 8 bits within one 512-bit block (one cache
/// line), so a lookup touches one line per segment. 16 bits a key: about 0.2% false positives.
pub(crate) struct Bloom {
    words: Vec<u64>,
}

pub(crate) const BLOCK_WORDS: usize = 8;

/// The block of `key` and its 8 bits within the block (as word index, bit mask).
pub(crate) fn bloom_probe(key: u64, blocks: usize) -> (usize, [(usize, u64); 8]) {
    let block = ((key >> 32).wrapping_mul(blocks as u64) >> 32) as usize;
    let mut bits = [(0, 0); 8];
    let mut h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for slot in &mut bits {
        let bit = (h >> 55) as usize; // 0..512
        *slot = (block * BLOCK_WORDS + bit / 64, 1u64 << (bit % 64));
        h = h.rotate_left(9).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    }
    (block, bits)
}

impl Bloom {
    fn build(keys: impl Iterator<Item = u64>, n: usize) -> Bloom {
        let blocks = if n == 0 { 0 } else { (n * 16).div_ceil(512).max(1) };
        let mut b = Bloom { words: vec![0; blocks * BLOCK_WORDS] };
        if blocks > 0 {
            for k in keys {
                for (w, m) in bloom_probe(k, blocks).1 {
                    b.words[w] |= m;
                }
            }
        }
        b
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The first index in `0..n` for which `below` is false.
fn partition_by(n: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if below(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}

fn bad(path: &Path, what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("segment {}: {what}", path.display()))
}

impl Segment {
    pub fn open(path: &Path) -> io::Result<Segment> {
        let file = File::open(path)?;
        // SAFETY: segment files are written once (to a temporary name, then renamed) and never
        // modified afterwards; Trail only deletes them, which leaves existing maps valid. A file
        // changed behind Trail's back is outside what this map can guard against.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file)? };
        let b = &map[..];
        if b.len() < HEADER_V1 || &b[..6] != MAGIC_PREFIX {
            return Err(bad(path, "not a Trail index segment"));
        }
        let version = match &b[6..8] {
            b"01" => 1,
            b"02" => 2,
            v => {
                return Err(bad(
                    path,
                    &format!(
                        "format version {} is unknown to this release (written by a newer Trail?)",
                        String::from_utf8_lossy(v)
                    ),
                ));
            }
        };
        if version == VERSION {
            if b.len() < HEADER {
                return Err(bad(path, "truncated or inconsistent"));
            }
            let stored = u64_at(b, CHECKSUM_AT);
            let actual = checksum_of_file(&file)?;
            if stored != actual {
                return Err(bad(
                    path,
                    &format!("checksum mismatch (stored {stored:016x}, computed {actual:016x}): the file is damaged"),
                ));
            }
        }
        let seg = Segment {
            path: path.to_owned(),
            version,
            tid: u64_at(b, 8),
            first_seq: u64_at(b, 16),
            docs: u32_at(b, 24),
            terms: u32_at(b, 28),
            actions: u32_at(b, 32),
            sorted: u32_at(b, 36) & FLAG_SORTED != 0,
            min: u64_at(b, 40) as i64,
            max: u64_at(b, 48) as i64,
            times_off: u64_at(b, 56) as usize,
            dict_off: u64_at(b, 64) as usize,
            post_off: u64_at(b, 72) as usize,
            actions_off: u64_at(b, 80) as usize,
            keys_off: u64_at(b, 96) as usize,
            keys: u32_at(b, 104),
            bloom_words: u32_at(b, 108),
            bloom_off: u64_at(b, 112) as usize,
            order_off: u64_at(b, 120) as usize,
            map,
        };
        let end = u64_at(&seg.map, 88) as usize;
        let header = if version == 1 { HEADER_V1 } else { HEADER };
        let consistent = end == seg.map.len()
            && seg.times_off == header
            && seg.times_off + seg.docs as usize * 8 == seg.dict_off
            && seg.dict_off + seg.terms as usize * 16 == seg.post_off
            && seg.post_off <= seg.actions_off
            && seg.actions_off <= seg.keys_off
            && seg.keys_off + seg.keys as usize * 12 == seg.bloom_off
            && seg.bloom_off + seg.bloom_words as usize * 8 <= end
            && (seg.sorted && seg.bloom_off + seg.bloom_words as usize * 8 == end
                || !seg.sorted
                    && seg.order_off == seg.bloom_off + seg.bloom_words as usize * 8
                    && seg.order_off + seg.docs as usize * 4 == end)
            && seg.docs > 0;
        if !consistent {
            return Err(bad(path, "truncated or inconsistent"));
        }
        Ok(seg)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format version the file was written in ([`VERSION`] unless an older release wrote it).
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn tid(&self) -> u64 {
        self.tid
    }

    fn key_entry(&self, i: usize) -> (u64, u32) {
        let at = self.keys_off + i * 12;
        (u64_at(&self.map, at), u32_at(&self.map, at + 8))
    }

    fn entry(&self, i: usize) -> (u64, u32, u32) {
        let at = self.dict_off + i * 16;
        (u64_at(&self.map, at), u32_at(&self.map, at + 8), u32_at(&self.map, at + 12))
    }
}

impl Source for Segment {
    fn first_seq(&self) -> u64 {
        self.first_seq
    }

    fn len(&self) -> u32 {
        self.docs
    }

    fn occurred_at(&self, offset: u32) -> i64 {
        u64_at(&self.map, self.times_off + offset as usize * 8) as i64
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

    fn postings_cost(&self, term: u64) -> u64 {
        let (mut lo, mut hi) = (0usize, self.terms as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (h, _, b) = self.entry(mid);
            match h.cmp(&term) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                // A single posting is kept inline (b == 0); otherwise the serialised bytes.
                std::cmp::Ordering::Equal => return u64::from(b).max(1),
            }
        }
        0
    }

    fn postings(&self, term: u64) -> RoaringBitmap {
        let (mut lo, mut hi) = (0usize, self.terms as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (h, a, b) = self.entry(mid);
            match h.cmp(&term) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    if b == 0 {
                        let mut one = RoaringBitmap::new();
                        one.insert(a);
                        return one;
                    }
                    let start = self.post_off + a as usize;
                    return RoaringBitmap::deserialize_unchecked_from(&self.map[start..start + b as usize])
                        .unwrap_or_else(|e| {
                            tracing::error!(segment = %self.path.display(), error = %e, "unreadable postings");
                            RoaringBitmap::new()
                        });
                }
            }
        }
        RoaringBitmap::new()
    }

    fn actions(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.actions as usize);
        let mut at = self.actions_off;
        for _ in 0..self.actions {
            let len = u16::from_le_bytes([self.map[at], self.map[at + 1]]) as usize;
            out.push(String::from_utf8_lossy(&self.map[at + 2..at + 2 + len]).into_owned());
            at += 2 + len;
        }
        out
    }

    fn terms(&self) -> Vec<u64> {
        (0..self.terms as usize).map(|i| self.entry(i).0).collect()
    }

    fn keys(&self) -> Vec<(u64, u32)> {
        (0..self.keys as usize).map(|i| self.key_entry(i)).collect()
    }

    fn keys_len(&self) -> usize {
        self.keys as usize
    }

    fn key_offsets(&self, key: u64) -> Vec<u32> {
        if self.bloom_words == 0 {
            return Vec::new();
        }
        let blocks = self.bloom_words as usize / BLOCK_WORDS;
        let present =
            bloom_probe(key, blocks).1.iter().all(|&(w, m)| u64_at(&self.map, self.bloom_off + w * 8) & m != 0);
        if !present {
            return Vec::new();
        }
        let n = self.keys as usize;
        let start = partition_by(n, |i| self.key_entry(i).0 < key);
        (start..n).map(|i| self.key_entry(i)).take_while(|(k, _)| *k == key).map(|(_, o)| o).collect()
    }

    fn in_time_order(&self, i: u32) -> Option<u32> {
        (!self.sorted).then(|| u32_at(&self.map, self.order_off + i as usize * 4))
    }

    fn file_path(&self) -> Option<PathBuf> {
        Some(self.path.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bloom_filter_finds_every_key_and_few_others() {
        let keys: Vec<u64> = (0..10_000u64).map(|i| xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())).collect();
        let bloom = Bloom::build(keys.iter().copied(), keys.len());
        let blocks = bloom.words.len() / BLOCK_WORDS;
        let has = |k: u64| bloom_probe(k, blocks).1.iter().all(|&(w, m)| bloom.words[w] & m != 0);
        assert!(keys.iter().all(|&k| has(k)));
        let false_positives =
            (10_000..110_000u64).filter(|i| has(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()))).count();
        assert!(false_positives < 500, "{false_positives} false positives in 100,000");
    }
}
