//! PDF: A4 landscape, the title, tenant, filters and generation time on the first page, a table
//! whose header row repeats on every page, wrapped cells, `Page N of M`, and DejaVu Sans
//! embedded (subset) so Latin, Greek and Cyrillic (and Hebrew and Arabic) show on any reader.
//!
//! `krilla` writes the PDF; `table` lays rows out as they come (kept compactly as wrapped lines,
//! so 100,000 rows hold ~36 MB before drawing) and draws every page at the end, when the page
//! count is known.

mod shaper;
mod table;
mod text;

use std::io::Write;

use trail_core::event::StoredEvent;

use crate::{Cell, Column, ExportError, Meta, RowWriter};

pub use table::PdfTable;

pub struct PdfWriter<W: Write> {
    table: PdfTable,
    out: W,
    cells: Vec<String>,
}

impl<W: Write> PdfWriter<W> {
    pub fn new(meta: &Meta, columns: &[Column], out: W) -> Self {
        let headers: Vec<&str> = columns.iter().map(|c| c.title).collect();
        let widths: Vec<f32> = columns.iter().map(|c| c.width).collect();
        PdfWriter { table: PdfTable::new(&meta.title, &meta.lines(), &headers, &widths), out, cells: Vec::new() }
    }
}

impl<W: Write + Send> RowWriter for PdfWriter<W> {
    fn row(&mut self, cells: &[Cell<'_>], _event: Option<&StoredEvent>) -> Result<(), ExportError> {
        self.cells.clear();
        self.cells.extend(cells.iter().map(|c| c.display().into_owned()));
        let refs: Vec<&str> = self.cells.iter().map(String::as_str).collect();
        self.table.row(&refs);
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        let bytes =
            self.table.finish().map_err(|message| ExportError::Format { format: crate::Format::Pdf, message })?;
        self.out.write_all(&bytes)?;
        self.out.flush()?;
        Ok(())
    }
}
