//! XLSX through `rust_xlsxwriter` in constant-memory mode: each sheet's rows go to a temporary
//! file as they come and the workbook is zipped at the end, into another temporary file that is
//! then copied to the output (a zip needs seeking; the HTTP body does not). Dates are real date
//! cells in the tenant's local time, the header is bold and frozen, an autofilter covers the
//! table, columns have sensible widths, and a new sheet starts every [`XLSX_SHEET_ROWS`] rows.

use std::io::{Seek, SeekFrom, Write};

use rust_xlsxwriter::{DocProperties, Format, Workbook, XlsxError};
use trail_core::event::StoredEvent;

use crate::{Cell, Column, ExportError, Meta, RowWriter, XLSX_SHEET_ROWS, safety::is_risky};

pub struct XlsxWriter<W: Write> {
    book: Workbook,
    columns: Vec<Column>,
    out: W,
    /// The sheet being written (its index) and the next row in it (0 is the header).
    sheet: usize,
    row: u32,
    /// Data rows per sheet ([`XLSX_SHEET_ROWS`]; smaller in tests).
    sheet_rows: u64,
    header: Format,
    date: Format,
    /// Risky text: written as text with Excel's quote prefix, so editing it keeps it text.
    quoted: Format,
}

fn err(e: XlsxError) -> ExportError {
    ExportError::Format { format: crate::Format::Xlsx, message: e.to_string() }
}

impl<W: Write> XlsxWriter<W> {
    pub fn new(meta: &Meta, columns: &[Column], out: W) -> Result<Self, ExportError> {
        let mut book = Workbook::new();
        book.set_properties(
            &DocProperties::new()
                .set_title(&meta.title)
                .set_subject(&meta.tenant)
                .set_comment(meta.lines().join("\n"))
                .set_author("Trail"),
        );
        let mut w = XlsxWriter {
            book,
            columns: columns.to_vec(),
            out,
            sheet: 0,
            row: 0,
            sheet_rows: XLSX_SHEET_ROWS,
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            quoted: Format::new().set_quote_prefix(),
        };
        w.add_sheet()?;
        Ok(w)
    }

    /// Starts a sheet: widths, the header row, frozen.
    fn add_sheet(&mut self) -> Result<(), ExportError> {
        let number = self.book.worksheets().len() + 1;
        let sheet = self.book.add_worksheet_with_constant_memory();
        sheet.set_name(format!("Events {number}")).map_err(err)?;
        for (i, c) in self.columns.iter().enumerate() {
            sheet.set_column_width(i as u16, c.width).map_err(err)?;
            sheet.write_string_with_format(0, i as u16, c.title, &self.header).map_err(err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        self.sheet = number - 1;
        self.row = 1;
        Ok(())
    }

    /// The autofilter over the finished sheet's table.
    fn close_sheet(&mut self) -> Result<(), ExportError> {
        let last_col = self.columns.len().saturating_sub(1) as u16;
        let last_row = self.row.saturating_sub(1);
        self.book.worksheet_from_index(self.sheet).map_err(err)?.autofilter(0, 0, last_row, last_col).map_err(err)?;
        Ok(())
    }
}

impl<W: Write + Send> RowWriter for XlsxWriter<W> {
    fn row(&mut self, cells: &[Cell<'_>], _event: Option<&StoredEvent>) -> Result<(), ExportError> {
        if u64::from(self.row) > self.sheet_rows {
            self.close_sheet()?;
            self.add_sheet()?;
        }
        let (row, date, quoted) = (self.row, &self.date, &self.quoted);
        let sheet = self.book.worksheet_from_index(self.sheet).map_err(err)?;
        for (i, cell) in cells.iter().enumerate() {
            let col = i as u16;
            match cell {
                Cell::Empty => continue,
                Cell::Text(s) if is_risky(s) => sheet.write_string_with_format(row, col, s.as_ref(), quoted),
                Cell::Text(s) => sheet.write_string(row, col, s.as_ref()),
                Cell::Int(n) => sheet.write_number(row, col, *n as f64),
                Cell::Date(z) => sheet.write_datetime_with_format(row, col, z.datetime(), date),
            }
            .map_err(err)?;
        }
        self.row += 1;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.close_sheet()?;
        let mut file = tempfile::tempfile()?;
        self.book.save_to_writer(&mut file).map_err(err)?;
        file.seek(SeekFrom::Start(0))?;
        std::io::copy(&mut file, &mut self.out)?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::cell::Column;

    #[test]
    fn a_new_sheet_starts_when_one_is_full_each_with_its_header() {
        let meta = Meta {
            title: "t".into(),
            tenant: "x".into(),
            filters: vec![],
            generated_at: jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC),
        };
        let columns = [Column::new("N", "n", 5.0)];
        let mut out = Vec::new();
        let mut w = XlsxWriter::new(&meta, &columns, &mut out).unwrap();
        w.sheet_rows = 3;
        for n in 1..=7 {
            w.row(&[Cell::Int(n)], None).unwrap();
        }
        Box::new(w).finish().unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(out)).unwrap();
        assert_eq!(book.sheet_names(), ["Events 1", "Events 2", "Events 3"]);
        let mut seen = vec![];
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).unwrap();
            let mut rows = range.rows();
            assert_eq!(rows.next().unwrap()[0], Data::String("N".into()));
            seen.extend(rows.map(|r| r[0].clone()));
        }
        assert_eq!(seen, (1..=7).map(|n| Data::Float(n as f64)).collect::<Vec<_>>());
    }
}
