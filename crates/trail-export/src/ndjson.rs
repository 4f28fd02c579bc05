//! NDJSON: one JSON object a line: the whole stored event (as `GET events/{seq}` returns it), or
//! for report rows an object keyed by the columns' keys.

use std::io::{BufWriter, Write};

use serde_json::{Map, Value};
use trail_core::event::StoredEvent;

use crate::{Cell, Column, ExportError, RowWriter};

pub struct NdjsonWriter<W: Write> {
    out: BufWriter<W>,
    keys: Vec<&'static str>,
    line: Vec<u8>,
}

/// Appends the line of a stored event (which stands alone: see [`crate::RowRenderer`]).
pub(crate) fn event_line(event: &StoredEvent, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, event).expect("a stored event serialises to a vector");
    out.push(b'\n');
}

impl<W: Write> NdjsonWriter<W> {
    pub fn new(columns: &[Column], out: W) -> Self {
        NdjsonWriter {
            out: BufWriter::with_capacity(64 * 1024, out),
            keys: columns.iter().map(|c| c.key).collect(),
            line: Vec::with_capacity(1024),
        }
    }
}

impl<W: Write + Send> RowWriter for NdjsonWriter<W> {
    fn row(&mut self, cells: &[Cell<'_>], event: Option<&StoredEvent>) -> Result<(), ExportError> {
        match event {
            Some(e) => {
                self.line.clear();
                event_line(e, &mut self.line);
                return Ok(self.out.write_all(&self.line)?);
            }
            None => {
                let row: Map<String, Value> = self
                    .keys
                    .iter()
                    .zip(cells)
                    .map(|(k, c)| {
                        let v = match c {
                            Cell::Empty => Value::Null,
                            Cell::Int(n) => Value::from(*n),
                            Cell::Text(s) => Value::from(s.as_ref()),
                            Cell::Date(z) => Value::from(z.timestamp().to_string()),
                        };
                        (k.to_string(), v)
                    })
                    .collect();
                serde_json::to_writer(&mut self.out, &row).map_err(std::io::Error::from)?
            }
        }
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.out.flush()?;
        Ok(())
    }
}
