//! CSV: RFC 4180 quoting (the `csv` crate), a header row, risky text defused with a leading `'`.

use std::io::Write;

use trail_core::event::StoredEvent;

use crate::{Cell, Column, ExportError, RowWriter, safety::neutralise};

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
            match cell {
                Cell::Text(s) => self.out.write_field(neutralise(s).as_bytes()),
                other => self.out.write_field(other.display().as_bytes()),
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
