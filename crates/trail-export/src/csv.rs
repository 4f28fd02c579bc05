//! CSV: RFC 4180 quoting (the `csv` crate), a header row, risky text defused with a leading `'`.

use std::io::Write;

use trail_core::event::StoredEvent;

use crate::{Cell, Column, ExportError, RowWriter, cell::DateText, safety::neutralise};

pub struct CsvWriter<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(columns: &[Column], out: W) -> Result<Self, ExportError> {
        let mut out = csv::WriterBuilder::new().buffer_capacity(64 * 1024).from_writer(out);
        out.write_record(columns.iter().map(|c| c.title)).map_err(io)?;
        Ok(CsvWriter { out })
    }
}

fn io(e: csv::Error) -> ExportError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => ExportError::Io(e),
        other => ExportError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

impl<W: Write + Send> RowWriter for CsvWriter<W> {
    fn row(&mut self, cells: &[Cell<'_>], _event: Option<&StoredEvent>) -> Result<(), ExportError> {
        for cell in cells {
            // Numbers and dates are written from the stack: an allocation a cell showed.
            match cell {
                Cell::Text(s) => self.out.write_field(neutralise(s).as_bytes()),
                Cell::Empty => self.out.write_field(b""),
                Cell::Int(n) => self.out.write_field(itoa::Buffer::new().format(*n).as_bytes()),
                Cell::Date(z) => self.out.write_field(DateText::of(z).as_str().as_bytes()),
            }
            .map_err(io)?;
        }
        self.out.write_record(None::<&[u8]>).map_err(io)
    }

    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        let mut out = self.out.into_inner().map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))?;
        out.flush()?;
        Ok(())
    }
}
