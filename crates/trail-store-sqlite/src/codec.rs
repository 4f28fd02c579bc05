//! How event bodies are kept: JSON, compressed with zstd and a dictionary trained on this
//! store's own events.
//!
//! Audit events repeat themselves (the same keys, actions, user agents, URL shapes), but one
//! event is too small for a compressor to find much to reuse; a dictionary trained on a sample
//! of events gives it that context. Measured on the real Apache log of the test data, a 512-byte
//! stored event shrinks to about 75 bytes, in about a microsecond each way.
//!
//! The dictionary is trained once the store has seen [`TRAIN_AFTER`] events, on those events
//! whole. Events stored before a dictionary exists stay plain JSON. Every blob starts with a
//! format byte and names its dictionary, so all generations of a store decode.
//!
//! Literals (the bytes no match covers: names, addresses, remarks) are stored raw, not
//! Huffman-coded. Measured on 200,000 benchmark events: 207 bytes an event instead of 192, but
//! decompression takes 0.60 µs instead of 1.23 and compression 2.96 µs instead of 3.60; every
//! read of an event (`trail verify`, exports) decompresses it, and zstd's Huffman decoding was
//! a quarter of `trail verify`'s time. Frames written before this (with Huffman literals) decode
//! the same way: the decoder reads what each frame says.
//!
//! A dictionary is made of fragments of real events, personal data included. Measured on the
//! benchmark's events, training on events stripped of names, e-mails, addresses and remarks
//! doubles the compressed size (about 200 bytes an event instead of 100), because those fields
//! carry most of the repetition. The erasure of a person must therefore also look for
//! their values in the `dictionaries` table, retire any dictionary holding one, and compress
//! the events that used it again with a new dictionary.
//!
//! ```text
//! 0x00 JSON...                        plain
//! 0x02 dict id (u32 LE) zstd frame    compressed with dictionary `dict id`
//! ```
//!
//! A dictionary is stored (the `data` of its row in `dictionaries`) with a header: a magic, the
//! format's version and a checksum of the dictionary, because it is not derived data: it exists
//! nowhere else, and without it the events compressed with it cannot be read. A damaged one is
//! found when the store is opened (or verified), and refused with an error naming it, rather than
//! handed to zstd to decompress garbage.
//!
//! ```text
//! version 1   "TRLDIC"  version (u16 LE, 1)  xxh3-64 of the zstd dictionary (u64 LE)  zstd dictionary
//! version 0   the zstd dictionary alone (it starts with zstd's magic, 37 A4 30 EC): what releases
//!             before the header wrote. It still decodes; the schema's migration 9 gives every
//!             stored one the header ([`seal_old_dicts`]).
//! ```

use std::{
    cell::RefCell,
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex, RwLock},
};

use rusqlite::{Connection, params};

use trail_core::event::{EventBody, Fields};
use trail_store::{
    StoreError, StoreResult,
    unreadable::{Read, occurred_at_in},
};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

const PLAIN: u8 = 0;
const ZSTD_DICT: u8 = 2;
/// Events seen before a dictionary is trained.
pub(crate) const TRAIN_AFTER: usize = 5000;
const DICT_SIZE: usize = 64 * 1024;
const LEVEL: i32 = 3;
/// The largest record a frame may decompress to (an event is at most 64 KiB; its record adds
/// a header and the canonical form's escapes).
const MAX_RECORD: usize = 1024 * 1024;

/// A dictionary ready for use. Dictionaries live as long as the process (there are one or two
/// in a store's life), which lets every thread keep a compressor bound to one.
struct Dict {
    id: u32,
    enc: &'static EncoderDictionary<'static>,
    dec: &'static DecoderDictionary<'static>,
}

/// A thread's compressor, bound to one dictionary (`bound`, by address: dictionaries are leaked
/// and never freed, so an address names one for the process's life).
struct Compressor {
    cctx: zstd::zstd_safe::CCtx<'static>,
    bound: *const EncoderDictionary<'static>,
    frame: Vec<u8>,
}

thread_local! {
    static CCTX: RefCell<Option<Compressor>> = const { RefCell::new(None) };
    /// Decompressors by (codec serial, dictionary id): found without taking the codec's lock,
    /// which threads decompressing side by side would otherwise fight over.
    static DECOMPRESSOR: RefCell<HashMap<(u64, u32), zstd::bulk::Decompressor<'static>>> = RefCell::new(HashMap::new());
}

/// Numbers codecs, so a thread's decompressors are never shared between two stores in one
/// process (both number their dictionaries from 1).
static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Compressor {
    /// Parameters set once per thread: the content size in the frame (decompression sizes its
    /// buffer from it), no dictionary id (the blob's header names the dictionary: 4 bytes saved),
    /// raw literals (see the module's doc). The level and the rest come from the dictionary.
    fn new() -> Result<Self, usize> {
        use zstd::zstd_safe::{CParameter, ParamSwitch};
        let mut cctx = zstd::zstd_safe::CCtx::create();
        cctx.set_parameter(CParameter::ContentSizeFlag(true))?;
        cctx.set_parameter(CParameter::DictIdFlag(false))?;
        cctx.set_parameter(CParameter::LiteralCompressionMode(ParamSwitch::Disable))?;
        Ok(Compressor { cctx, bound: std::ptr::null(), frame: Vec::new() })
    }
}

#[derive(Default)]
pub(crate) struct Codec {
    serial: u64,
    current: RwLock<Option<Arc<Dict>>>,
    known: RwLock<HashMap<u32, Arc<Dict>>>,
    samples: Mutex<Option<Vec<Vec<u8>>>>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::internal(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("event body: {what}")))
}

impl Codec {
    pub(crate) fn new() -> Self {
        Codec {
            serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            samples: Mutex::new(Some(Vec::new())),
            ..Default::default()
        }
    }

    /// Makes a stored dictionary known; the newest becomes current.
    pub(crate) fn add_dict(&self, id: u32, data: &[u8]) {
        let dict = Arc::new(Dict {
            id,
            enc: Box::leak(Box::new(EncoderDictionary::copy(data, LEVEL))),
            dec: Box::leak(Box::new(DecoderDictionary::copy(data))),
        });
        self.known.write().expect("codec lock").insert(id, dict.clone());
        let mut current = self.current.write().expect("codec lock");
        if current.as_ref().is_none_or(|c| c.id < id) {
            *current = Some(dict);
        }
        *self.samples.lock().expect("codec lock") = None;
    }

    pub(crate) fn has_dict(&self) -> bool {
        self.current.read().expect("codec lock").is_some()
    }

    /// Compresses a record (see `record.rs`).
    pub(crate) fn encode(&self, json: &[u8]) -> Vec<u8> {
        let current = self.current.read().expect("codec lock").clone();
        let Some(dict) = current else {
            let mut out = Vec::with_capacity(json.len() + 1);
            out.push(PLAIN);
            out.extend_from_slice(json);
            return out;
        };
        CCTX.with(|c| {
            let mut c = c.borrow_mut();
            let c = match &mut *c {
                Some(c) => c,
                empty => empty.insert(Compressor::new().expect("zstd accepts these parameters")),
            };
            if !std::ptr::eq(c.bound, dict.enc) {
                c.cctx.ref_cdict(dict.enc.as_cdict()).expect("zstd binds a prepared dictionary");
                c.bound = dict.enc;
            }
            c.frame.clear();
            c.frame.reserve(zstd::zstd_safe::compress_bound(json.len()));
            c.cctx.compress2(&mut c.frame, json).expect("the bound always fits");
            let mut out = Vec::with_capacity(c.frame.len() + 5);
            out.push(ZSTD_DICT);
            out.extend_from_slice(&dict.id.to_le_bytes());
            out.extend_from_slice(&c.frame);
            out
        })
    }

    /// The record a blob holds (see `record.rs`), decompressed.
    pub(crate) fn decompress(&self, blob: &[u8]) -> StoreResult<Vec<u8>> {
        let mut out = Vec::new();
        self.decompress_into(blob, &mut out)?;
        Ok(out)
    }

    /// Calls `f` with the decompressed `blob`, decompressed into a buffer this thread reuses:
    /// for scans of every event (`trail verify`), where an allocation per event shows.
    pub(crate) fn with_decompressed<R>(&self, blob: &[u8], f: impl FnOnce(&[u8]) -> R) -> StoreResult<R> {
        thread_local! {
            static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        if blob.first() == Some(&PLAIN) {
            return Ok(f(&blob[1..]));
        }
        BUFFER.with(|b| {
            let mut b = b.borrow_mut();
            self.decompress_into(blob, &mut b)?;
            Ok(f(&b))
        })
    }

    /// Decompresses `blob` into `out` (cleared first), allocating exactly what the frame says
    /// it holds.
    fn decompress_into(&self, blob: &[u8], out: &mut Vec<u8>) -> StoreResult<()> {
        out.clear();
        match blob.first() {
            Some(&PLAIN) => {
                out.extend_from_slice(&blob[1..]);
                Ok(())
            }
            Some(&ZSTD_DICT) if blob.len() >= 5 => {
                let id = u32::from_le_bytes(blob[1..5].try_into().expect("4 bytes"));
                let frame = &blob[5..];
                // Frames are written with their content size; a record is at most a few
                // hundred KiB, so a larger claim is corruption, not a reason to allocate.
                let size = match zstd::zstd_safe::get_frame_content_size(frame) {
                    Ok(Some(n)) if n <= MAX_RECORD as u64 => n as usize,
                    _ => return Err(corrupt("no plausible content size in the zstd frame")),
                };
                out.reserve(size);
                DECOMPRESSOR.with(|d| {
                    let mut d = d.borrow_mut();
                    let dec = match d.entry((self.serial, id)) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(v) => {
                            let dict = self.known.read().expect("codec lock").get(&id).map(|d| d.dec);
                            let dict = dict.ok_or_else(|| corrupt("unknown dictionary"))?;
                            v.insert(
                                zstd::bulk::Decompressor::with_prepared_dictionary(dict)
                                    .map_err(StoreError::internal)?,
                            )
                        }
                    };
                    dec.decompress_to_buffer(frame, out).map_err(StoreError::internal)?;
                    Ok(())
                })
            }
            _ => Err(corrupt("unknown format")),
        }
    }

    pub(crate) fn decode(&self, blob: &[u8]) -> StoreResult<EventBody> {
        self.decode_fields(blob, Fields::All)
    }

    /// The event a blob holds, with `fields` (see [`Fields`]).
    pub(crate) fn decode_fields(&self, blob: &[u8], fields: Fields) -> StoreResult<EventBody> {
        self.with_decompressed(blob, |b| trail_store::record::body_with(b, fields))?.map_err(|e| corrupt(&e))
    }

    /// The event blob `seq` of `tenant` holds, with `fields`; or, when it does not decode, its
    /// placeholder (logged), at `occurred_at_us` when the caller knows the event's time.
    pub(crate) fn read(
        &self,
        blob: &[u8],
        fields: Fields,
        tenant: &dyn std::fmt::Display,
        seq: u64,
        occurred_at_us: Option<i64>,
    ) -> Read {
        trail_store::unreadable::or_placeholder(self.decode_fields(blob, fields), tenant, seq, occurred_at_us, || {
            self.with_decompressed(blob, occurred_at_in).ok().flatten()
        })
    }

    /// Offers a record for dictionary training; returns the samples once there are enough.
    pub(crate) fn sample(&self, record: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut guard = self.samples.lock().expect("codec lock");
        let samples = guard.as_mut()?;
        samples.push(record.to_vec());
        if samples.len() >= TRAIN_AFTER { guard.take() } else { None }
    }
}

/// The stored dictionary's magic; the version follows it.
const DICT_MAGIC: &[u8; 6] = b"TRLDIC";
/// The dictionary format this release writes.
pub(crate) const DICT_VERSION: u16 = 1;
const DICT_HEADER: usize = 16;
/// How a zstd dictionary starts (`ZSTD_MAGIC_DICTIONARY`, little-endian).
const ZSTD_DICT_MAGIC: [u8; 4] = 0xEC30_A437u32.to_le_bytes();

/// A zstd dictionary as it is stored: with its header (version and checksum).
pub(crate) fn seal_dict(dict: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(DICT_HEADER + dict.len());
    out.extend_from_slice(DICT_MAGIC);
    out.extend_from_slice(&DICT_VERSION.to_le_bytes());
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(dict).to_le_bytes());
    out.extend_from_slice(dict);
    out
}

/// The zstd dictionary a stored one holds, and its format version; or why it cannot be used.
pub(crate) fn unseal_dict(stored: &[u8]) -> Result<(&[u8], u16), String> {
    if stored.starts_with(&ZSTD_DICT_MAGIC) {
        return Ok((stored, 0));
    }
    if stored.len() < DICT_HEADER || &stored[..6] != DICT_MAGIC {
        return Err("it is neither a Trail dictionary nor a zstd one".into());
    }
    let version = u16::from_le_bytes([stored[6], stored[7]]);
    if version != DICT_VERSION {
        return Err(format!(
            "its format version {version} is unknown to this release (written by a newer Trail?); \
             run the release that wrote it"
        ));
    }
    let sum = u64::from_le_bytes(stored[8..16].try_into().expect("8 bytes"));
    let dict = &stored[DICT_HEADER..];
    let actual = xxhash_rust::xxh3::xxh3_64(dict);
    if sum != actual {
        return Err(format!("checksum mismatch (stored {sum:016x}, computed {actual:016x})"));
    }
    Ok((dict, version))
}

/// The error for dictionary `id` of the database at `db`, which cannot be used because of `why`.
fn damaged_dict(id: i64, db: &Path, why: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "compression dictionary {id} in {} cannot be used: {why}. The events compressed with it \
         cannot be read, and it cannot be made again from them: restore the data directory from a \
         backup (stop Trail, replace the directory with the backup's copy, start again)",
        db.display()
    ))
}

/// Makes every dictionary of the database at `db` (open as `conn`) known to `codec`, after
/// checking each: a damaged one is an error naming it and saying what to do.
pub(crate) fn load_dicts(conn: &Connection, codec: &Codec, db: &Path) -> StoreResult<()> {
    use crate::error::SqlResultExt;
    let mut stmt = conn.prepare("SELECT id, data FROM dictionaries ORDER BY id").sql()?;
    let mut rows = stmt.query([]).sql()?;
    while let Some(row) = rows.next().sql()? {
        let id: i64 = row.get(0).sql()?;
        let stored = row.get_ref(1).sql()?.as_blob().unwrap_or_default();
        let (dict, _) = unseal_dict(stored).map_err(|why| damaged_dict(id, db, &why))?;
        codec.add_dict(id as u32, dict);
    }
    Ok(())
}

/// Gives every dictionary stored without a header (format version 0, written by releases
/// before it) the current one, so that from now on a damaged copy is found. Run once, by the
/// schema's migration 9 (`schema.rs`), in its transaction.
pub(crate) fn seal_old_dicts(conn: &Connection) -> StoreResult<()> {
    use crate::error::SqlResultExt;
    let old: Vec<(i64, Vec<u8>)> = conn
        .prepare("SELECT id, data FROM dictionaries ORDER BY id")
        .sql()?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .sql()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .sql()?
        .into_iter()
        .filter(|(_, data): &(i64, Vec<u8>)| data.starts_with(&ZSTD_DICT_MAGIC))
        .collect();
    for (id, data) in old {
        conn.execute("UPDATE dictionaries SET data = ?1 WHERE id = ?2", params![seal_dict(&data), id]).sql()?;
        tracing::info!(dictionary = id, "added a version and a checksum to a compression dictionary");
    }
    Ok(())
}

/// Trains a dictionary from samples.
pub(crate) fn train(samples: &[Vec<u8>]) -> std::io::Result<Vec<u8>> {
    zstd::dict::from_samples(samples, DICT_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trail_core::event::NewEvent;

    fn body(i: usize) -> EventBody {
        let now = trail_core::time::truncate_us(jiff::Timestamp::now());
        let json = format!(
            r#"{{"action":"api.request","actor":{{"id":"u{}","name":"Secret Name","email":"secret@example.com"}},"description":"GET /items/{i} by Secret Name","context":{{"ip":"203.0.113.{}","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0","url":"/items/{i}","method":"GET","status":200}}}}"#,
            i % 50,
            i % 250
        );
        NewEvent::from_json(&json, now).unwrap().into_body(now)
    }

    #[test]
    fn round_trips_plain_and_compressed() {
        let codec = Codec::new();
        let b = body(1);
        let record = |b: &EventBody| {
            let (canon, layout) = trail_core::canonical::write(b);
            trail_store::record::encode(&[5; 16], &layout, &canon)
        };
        let json = record(&b);
        let plain = codec.encode(&json);
        assert_eq!(plain[0], PLAIN);
        assert_eq!(codec.decode(&plain).unwrap(), b);
        let mut samples = None;
        for i in 0..TRAIN_AFTER {
            samples = codec.sample(&record(&body(i)));
        }
        let samples = samples.expect("enough samples");
        let dict = train(&samples).unwrap();
        codec.add_dict(1, &dict);
        assert!(codec.sample(b"{}").is_none(), "no more samples once a dictionary exists");
        let packed = codec.encode(&json);
        assert_eq!(packed[0], ZSTD_DICT);
        assert!(packed.len() * 3 < json.len(), "{} -> {}", json.len(), packed.len());
        assert_eq!(codec.decode(&packed).unwrap(), b);
        assert_eq!(codec.decode(&plain).unwrap(), b, "older plain bodies still decode");
        assert_eq!(zstd::zstd_safe::get_dict_id_from_frame(&packed[5..]), None, "the blob names the dictionary");
        // Frames written before literals were stored raw (Huffman-coded, with a dictionary id)
        // still decode.
        let dict_of = codec.current.read().unwrap().clone().unwrap();
        let older = zstd::bulk::Compressor::with_prepared_dictionary(dict_of.enc).unwrap().compress(&json).unwrap();
        assert!(zstd::zstd_safe::get_dict_id_from_frame(&older).is_some());
        let older_blob = [&[ZSTD_DICT][..], &1u32.to_le_bytes(), &older].concat();
        assert_eq!(codec.decode(&older_blob).unwrap(), b, "older compressed bodies still decode");
        assert!(codec.decode(&[9, 1, 2]).is_err());
    }

    fn trained() -> Vec<u8> {
        let samples: Vec<Vec<u8>> = (0..1000)
            .map(|i| {
                let (canon, layout) = trail_core::canonical::write(&body(i));
                trail_store::record::encode(&[5; 16], &layout, &canon)
            })
            .collect();
        train(&samples).unwrap()
    }

    #[test]
    fn a_stored_dictionary_carries_its_version_and_a_checksum_of_every_byte() {
        let dict = trained();
        let sealed = seal_dict(&dict);
        assert_eq!(&sealed[..6], b"TRLDIC");
        assert_eq!(unseal_dict(&sealed).unwrap(), (&dict[..], DICT_VERSION));
        for at in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[at] ^= 0x04;
            assert!(unseal_dict(&bad).is_err(), "a flipped byte at {at} went unnoticed");
        }
        let mut newer = sealed.clone();
        newer[6] = 9;
        assert!(unseal_dict(&newer).unwrap_err().contains("format version 9 is unknown"));
        // Version 0: a zstd dictionary stored alone, as releases before the header wrote them.
        assert_eq!(unseal_dict(&dict).unwrap(), (&dict[..], 0));
    }

    fn store_with_dictionary(data: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        drop(crate::SqliteStore::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(crate::DB_FILE)).unwrap();
        conn.execute("INSERT INTO dictionaries (created_at, data) VALUES (0, ?1)", [data]).unwrap();
        dir
    }

    /// Regression: a damaged dictionary was handed to zstd as it was; every event compressed
    /// with it then failed to decode, one by one, with no word about the cause or the remedy.
    #[test]
    fn a_damaged_dictionary_stops_the_store_from_opening_with_what_to_do() {
        let mut data = seal_dict(&trained());
        let at = data.len() / 2;
        data[at] ^= 1;
        let dir = store_with_dictionary(&data);
        let e = crate::SqliteStore::open(dir.path()).err().expect("a damaged dictionary is refused").to_string();
        assert!(e.contains("compression dictionary 1 in "), "{e}");
        assert!(e.contains("checksum mismatch"), "{e}");
        assert!(e.contains("restore the data directory from a backup"), "{e}");
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let e = crate::verify::verify(dir.path(), None, &key, &Default::default(), 1, &|_| {})
            .expect_err("verify refuses it too")
            .to_string();
        assert!(e.contains("compression dictionary 1 in "), "{e}");
    }

    #[test]
    fn a_dictionary_without_a_header_gets_one_from_migration_9() {
        let dict = trained();
        let dir = store_with_dictionary(&dict);
        // As a database of the release before: schema version 8, the dictionary stored alone.
        let conn = Connection::open(dir.path().join(crate::DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 8).unwrap();
        drop(conn);
        drop(crate::SqliteStore::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(crate::DB_FILE)).unwrap();
        let stored: Vec<u8> = conn.query_row("SELECT data FROM dictionaries WHERE id = 1", [], |r| r.get(0)).unwrap();
        assert_eq!(unseal_dict(&stored).unwrap(), (&dict[..], DICT_VERSION));
    }
}
