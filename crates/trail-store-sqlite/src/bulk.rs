//! Reading many events at once (a large page: exports ask for 1,000 at a time) on two threads.
//!
//! Decompressing and parsing an event costs about five times reading its blob, and a SQLite
//! connection is one thread's. So the calling thread reads the blobs, in chunks of [`CHUNK`],
//! and puts each chunk on a queue as soon as it is read; a helper thread decodes chunks from
//! the queue meanwhile, and once reading is done the calling thread decodes alongside it.
//! Neither waits for the other beyond the last chunk: when the other core is busy (an
//! export's writer formats the previous page), the calling thread decodes more chunks itself.
//!
//! The helper is one long-lived thread for the process, not a thread per page: a thread that
//! ends abandons its allocator heap, and the events it decoded are freed later by others,
//! which costs more than the decoding it saved.

use std::{
    collections::VecDeque,
    sync::{Arc, Condvar, Mutex, OnceLock, mpsc},
};

use rusqlite::Connection;
use trail_core::event::{EventBody, Fields};
use trail_store::{StoreError, StoreResult};

use crate::codec::Codec;

/// Events a chunk holds.
const CHUNK: usize = 32;

pub(crate) type Blobs = Vec<(u64, Vec<u8>)>;
type Decoded = Vec<(u64, EventBody)>;
type Done = StoreResult<Vec<(usize, Decoded)>>;

/// The chunks of one request.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

#[derive(Default)]
struct Queue {
    /// Chunks read and not yet taken, with their place.
    waiting: VecDeque<(usize, Blobs)>,
    /// Reading is over: no chunk will be added.
    closed: bool,
}

impl Shared {
    fn push(&self, place: usize, blobs: Blobs) {
        self.queue.lock().expect("queue lock").waiting.push_back((place, blobs));
        self.ready.notify_one();
    }

    fn close(&self) {
        self.queue.lock().expect("queue lock").closed = true;
        self.ready.notify_all();
    }

    /// Takes chunks until the queue is closed and empty; the decoded chunks with their places.
    fn work(&self, codec: &Codec, fields: Fields) -> Done {
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
            let decoded = blobs
                .into_iter()
                .map(|(seq, b)| Ok((seq, codec.decode_fields(&b, fields)?)))
                .collect::<StoreResult<_>>()?;
            done.push((place, decoded));
        }
    }
}

struct Job {
    codec: Arc<Codec>,
    fields: Fields,
    shared: Arc<Shared>,
    reply: mpsc::Sender<Done>,
}

/// The helper thread's inbox, started on first use.
fn helper() -> Option<mpsc::Sender<Job>> {
    static INBOX: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();
    let inbox = INBOX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("trail-decode".into())
            .spawn(move || {
                for job in rx {
                    let _ = job.reply.send(job.shared.work(&job.codec, job.fields));
                }
            })
            .ok()
            .map(|_| Mutex::new(tx))
    });
    inbox.as_ref().map(|m| m.lock().expect("inbox lock").clone())
}

/// Reads with `read` the blobs of `seqs`, [`CHUNK`] seqs at a time (`read` returns those it
/// found, in the order asked; a missing event is skipped), and decodes their `fields`; the events in
/// order, in chunks (not flattened into one list: an event is a few hundred bytes to move).
pub(crate) fn read_decoded(
    conn: &Connection,
    codec: &Arc<Codec>,
    fields: Fields,
    seqs: impl Iterator<Item = u64>,
    read: impl Fn(&Connection, &[u64]) -> StoreResult<Blobs>,
) -> StoreResult<Vec<Decoded>> {
    let shared = Arc::new(Shared::default());
    let (reply, replied) = mpsc::channel();
    // Without a helper (it could not be started), this thread decodes everything.
    let helped = helper()
        .map(|h| h.send(Job { codec: codec.clone(), fields, shared: shared.clone(), reply }).is_ok())
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
    let mine = shared.work(codec, fields);
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
