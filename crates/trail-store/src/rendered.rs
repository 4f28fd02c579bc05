//! Pages of rows already rendered: what an export of a format whose rows stand alone (CSV,
//! NDJSON) asks the store for instead of events.
//!
//! An export spends most of its time decoding events and formatting rows. Asked for events, a
//! backend decodes them on its own threads and hands them over, and one more thread formats
//! them: the formatting is not shared between cores, and every string of every event is freed
//! by a thread other than the one that allocated it (a slow path in any allocator). Asked for
//! rendered rows, the backend formats each event where it decoded it ([`RenderRow`]), and the
//! exporting thread only writes bytes.

use jiff::Timestamp;
use trail_core::{event::StoredEvent, filter::Cursor, time::TimeBounds};

/// Turns one event into its row's bytes. The store calls it on whichever thread decoded the
/// event, in no particular order; the rows of a page come back in the page's order.
pub trait RenderRow: Send + Sync {
    /// Appends `event`'s row to `out`. The renderer may change the event's body first
    /// (redaction) and nothing else: a store may hand it the same event for several rows,
    /// setting only the seq and the body for each.
    fn render(&self, event: &mut StoredEvent, out: &mut Vec<u8>);

    /// Whether [`RenderRow::render_record`] can render rows: a store then offers it each
    /// event's stored record before decoding the event.
    fn renders_records(&self) -> bool {
        false
    }

    /// Appends the row of event `seq` straight from its stored record (see [`crate::record`]),
    /// without the typed event, and returns the event's time; or returns `None`, having
    /// appended nothing, when this row needs the typed event (the store then decodes it and
    /// calls [`RenderRow::render`]). A store calls it only for events it knows match the
    /// query without looking at them (a filter of a time range alone).
    fn render_record(&self, _seq: u64, _record: &[u8], _out: &mut Vec<u8>) -> Option<Timestamp> {
        None
    }
}

/// Rows a piece holds at most when a page is rendered where it is asked for (a progress count
/// advances a piece at a time, so a download cut short is recorded to within this many rows).
pub const PIECE_ROWS: usize = 32;

/// One page of rendered rows.
#[derive(Debug, Default)]
pub struct RenderedPage {
    /// The rows' bytes, in order, in pieces of whole rows, each with how many rows it holds.
    pub pieces: Vec<(Vec<u8>, u64)>,
    /// Where the next page starts, or `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

impl RenderedPage {
    /// How many rows the pieces hold.
    pub fn rows(&self) -> u64 {
        self.pieces.iter().map(|(_, n)| n).sum()
    }

    /// Renders a page of events on the calling thread, [`PIECE_ROWS`] to a piece (what a
    /// backend without its own way does).
    pub fn of_events(page: crate::EventPage, render: &dyn RenderRow) -> RenderedPage {
        let mut pieces = Vec::with_capacity(page.events.len().div_ceil(PIECE_ROWS));
        let mut events = page.events.into_iter().peekable();
        while events.peek().is_some() {
            let (mut bytes, mut n) = (Vec::with_capacity(PIECE_ROWS * 256), 0);
            for mut event in events.by_ref().take(PIECE_ROWS) {
                render.render(&mut event, &mut bytes);
                n += 1;
            }
            pieces.push((bytes, n));
        }
        RenderedPage { pieces, next_cursor: page.next_cursor }
    }
}

/// The cursor after a page whose last row is the event at (`occurred_at_us`, `seq`), when
/// `more` events match (see [`crate::EventPage::new`]).
pub fn cursor_after(more: bool, last: Option<(i64, u64)>, snapshot: u64, time: TimeBounds) -> Option<Cursor> {
    match (more, last) {
        (true, Some((occurred_at_us, seq))) => Some(Cursor { occurred_at_us, seq, snapshot, time }),
        _ => None,
    }
}
