//! Reading many events at once (a large page: exports ask for 1,000 at a time) on two threads.
//!
//! Decompressing and parsing an event costs about five times reading its blob, and a SQLite
//! connection is one thread's. So the calling thread reads the blobs, in chunks of [`CHUNK`],
//! and puts each chunk on a queue as soon as it is read; a helper thread decodes chunks from
//! the queue meanwhile, and once reading is done the calling thread decodes alongside it.
//! Neither waits for the other beyond the last chunk: when the other core is busy (an
//! export's writer formats the previous page), the calling thread decodes more chunks itself.
//!
//! What is done with a chunk is the caller's [`Step`]: decode its events ([`read_decoded`]), or
//! decode, match and render them into an export's rows (`query::run_rendered`), so the rows
//! are formatted on both threads too and each event is freed where it was decoded.
//!
//! The helper is one long-lived thread for the process, not a thread per page: a thread that
//! ends abandons its allocator heap, and the events it decoded are freed later by others,
//! which costs more than the decoding it saved.

use std::{
    collections::VecDeque,
    ops::Range,
    sync::{Arc, Condvar, Mutex, OnceLock, mpsc},
};

use rusqlite::Connection;
use trail_core::{TenantId, event::Fields};
use trail_store::{StoreError, StoreResult, unreadable::Read};

use crate::codec::Codec;

/// Events a chunk holds.
const CHUNK: usize = 32;

/// The stored blobs of a chunk of events, in one buffer (one allocation a chunk, freed by the
/// thread that decodes it, rather than one an event).
#[derive(Default)]
pub(crate) struct Blobs {
    data: Vec<u8>,
    /// Each event's seq, its time as the index knows it (microseconds: the time of its
    /// placeholder should it not decode), and where its blob lies.
    events: Vec<(u64, i64, Range<usize>)>,
}

impl Blobs {
    pub(crate) fn with_capacity(events: usize) -> Blobs {
        Blobs { data: Vec::with_capacity(events * 256), events: Vec::with_capacity(events) }
    }

    /// Adds the blob of event `seq`, which occurred at `occurred_at_us`.
    pub(crate) fn push(&mut self, (occurred_at_us, seq): (i64, u64), blob: &[u8]) {
        let range = self.stash(blob);
        self.push_range((occurred_at_us, seq), range);
    }

    /// Keeps the blob at `range` (already in [`Blobs::data`]) as event `seq`'s.
    pub(crate) fn push_range(&mut self, (occurred_at_us, seq): (i64, u64), range: Range<usize>) {
        self.events.push((seq, occurred_at_us, range));
    }

    /// Appends bytes to the buffer without naming an event yet; returns where they lie.
    pub(crate) fn stash(&mut self, blob: &[u8]) -> Range<usize> {
        let start = self.data.len();
        self.data.extend_from_slice(blob);
        start..self.data.len()
    }

    /// The events' seqs, times and blobs, in the order they were pushed.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, i64, &[u8])> {
        self.events.iter().map(|(seq, occurred_at_us, r)| (*seq, *occurred_at_us, &self.data[r.clone()]))
    }
}

/// A chunk's events, each read or its placeholder.
type Decoded = Vec<(u64, Read)>;

/// What is done with each chunk once read: run on whichever thread takes the chunk.
pub(crate) type Step<T> = Arc<dyn Fn(&Blobs) -> StoreResult<T> + Send + Sync>;

type Done<T> = StoreResult<Vec<(usize, T)>>;

/// The chunks of one request.
struct Shared<T> {
    queue: Mutex<Queue>,
    ready: Condvar,
    step: Step<T>,
}

#[derive(Default)]
struct Queue {
    /// Chunks read and not yet taken, with their place.
    waiting: VecDeque<(usize, Blobs)>,
    /// Reading is over: no chunk will be added.
    closed: bool,
}

impl<T> Shared<T> {
    fn push(&self, place: usize, blobs: Blobs) {
        self.queue.lock().expect("queue lock").waiting.push_back((place, blobs));
        self.ready.notify_one();
    }

    fn close(&self) {
        self.queue.lock().expect("queue lock").closed = true;
        self.ready.notify_all();
    }

    /// Takes chunks until the queue is closed and empty; the chunks' results with their places.
    fn work(&self) -> Done<T> {
        let mut done = Vec::new();
        loop {
            let job = {
                let mut q = self.queue.lock().expect("queue lock");
                loop {
                    if let Some(job) = q.waiting.pop_front() {
                        break Some(job);
                    }
                    if q.closed {
                        break None;
                    }
                    q = self.ready.wait(q).expect("queue lock");
                }
            };
            let Some((place, blobs)) = job else { return Ok(done) };
            done.push((place, (self.step)(&blobs)?));
        }
    }
}

/// The helper thread's inbox, started on first use: it runs each job it is sent.
fn helper() -> Option<mpsc::Sender<Box<dyn FnOnce() + Send>>> {
    type Inbox = Mutex<mpsc::Sender<Box<dyn FnOnce() + Send>>>;
    static INBOX: OnceLock<Option<Inbox>> = OnceLock::new();
    let inbox = INBOX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        std::thread::Builder::new()
            .name("trail-decode".into())
            .spawn(move || {
                for job in rx {
                    // A job that panics (a renderer's bug) fails its own request, whose reply
                    // is dropped unsent; the helper goes on serving the next ones.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .ok()
            .map(|_| Mutex::new(tx))
    });
    inbox.as_ref().map(|m| m.lock().expect("inbox lock").clone())
}

/// Reads with `read` the blobs of `seqs` (each with its time, as the index gives candidates),
/// [`CHUNK`] seqs at a time (`read` returns those it
/// found, in the order asked; a missing event is skipped), and runs `step` on each chunk; the
/// chunks' results in order (not flattened into one list: an event is a few hundred bytes to
/// move).
pub(crate) fn read_chunks<T: Send + 'static>(
    conn: &Connection,
    seqs: impl Iterator<Item = (i64, u64)>,
    read: impl Fn(&Connection, &[(i64, u64)]) -> StoreResult<Blobs>,
    step: Step<T>,
) -> StoreResult<Vec<T>> {
    let shared = Arc::new(Shared { queue: Mutex::default(), ready: Condvar::new(), step });
    let (reply, replied) = mpsc::channel();
    // Without a helper (it could not be started), this thread does everything.
    let helped = helper()
        .map(|h| {
            let shared = shared.clone();
            h.send(Box::new(move || {
                let _ = reply.send(shared.work());
            }))
            .is_ok()
        })
        .unwrap_or(false);
    let read_result = (|| {
        let mut wanted = Vec::with_capacity(CHUNK);
        let mut seqs = seqs.peekable();
        let mut place = 0;
        while seqs.peek().is_some() {
            wanted.clear();
            wanted.extend(seqs.by_ref().take(CHUNK));
            shared.push(place, read(conn, &wanted)?);
            place += 1;
        }
        Ok::<_, StoreError>(())
    })();
    shared.close();
    let mine = shared.work();
    let theirs = if helped {
        replied.recv().map_err(|_| StoreError::Internal("the decoding thread stopped".into()))?
    } else {
        Ok(Vec::new())
    };
    read_result?;
    let mut parts = mine?;
    parts.extend(theirs?);
    parts.sort_unstable_by_key(|(place, _)| *place);
    Ok(parts.into_iter().map(|(_, d)| d).collect())
}

/// [`read_chunks`] that decodes each event's `fields` (or reads it as its placeholder, see
/// `trail_store::unreadable`): the events in order, in chunks.
pub(crate) fn read_decoded(
    conn: &Connection,
    codec: &Arc<Codec>,
    tenant: &TenantId,
    fields: Fields,
    seqs: impl Iterator<Item = (i64, u64)>,
    read: impl Fn(&Connection, &[(i64, u64)]) -> StoreResult<Blobs>,
) -> StoreResult<Vec<Decoded>> {
    let (codec, tenant) = (codec.clone(), tenant.clone());
    let step: Step<Decoded> = Arc::new(move |blobs: &Blobs| {
        Ok(blobs.iter().map(|(seq, occ, b)| (seq, codec.read(b, fields, &tenant, seq, Some(occ)))).collect())
    });
    read_chunks(conn, seqs, read, step)
}
