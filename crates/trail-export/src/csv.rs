//! CSV: RFC 4180 quoting, a header row, risky text defused with a leading `'`.
//!
//! A field is quoted when it holds a comma, a semicolon, a quote, CR or LF. The semicolon is
//! not special to RFC 4180, but spreadsheets in locales whose decimal mark is the comma split
//! rows at `;`, so a bare `x;=1+cmd` would become two cells there, the second a formula. Quoted,
//! it stays one cell whatever the separator (and [`crate::safety`] defuses the formula too).
//!
//! A CSV row depends on nothing but its cells, so rows can be encoded anywhere, in any order,
//! and joined ([`crate::RowRenderer`]): an export encodes each row on the thread that decoded
//! its event.

use std::io::{BufWriter, Write};

use trail_core::{
    bytes::{bytes_equal, word},
    event::StoredEvent,
};

use crate::{Cell, Column, ExportError, RowWriter, cell::DateText, safety::neutralise};

pub struct CsvWriter<W: Write> {
    out: BufWriter<W>,
    row: Vec<u8>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(columns: &[Column], out: W) -> Result<Self, ExportError> {
        let mut out = BufWriter::with_capacity(64 * 1024, out);
        out.write_all(&header(columns))?;
        Ok(CsvWriter { out, row: Vec::with_capacity(1024) })
    }
}

/// The header row of `columns`.
pub(crate) fn header(columns: &[Column]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut record = Record::new(&mut out);
    columns.iter().for_each(|c| record.field(c.title.as_bytes()));
    record.end();
    out
}

/// Appends the record of `cells` to `out`.
pub(crate) fn row(cells: &[Cell<'_>], out: &mut Vec<u8>) {
    let mut record = Record::new(out);
    for cell in cells {
        // Numbers and dates are written from the stack: an allocation a cell showed.
        match cell {
            Cell::Text(s) => record.field(neutralise(s).as_bytes()),
            Cell::Empty => record.field(b""),
            Cell::Int(n) => record.field(itoa::Buffer::new().format(*n).as_bytes()),
            Cell::Date(z) => record.field(DateText::of(z).as_str().as_bytes()),
        }
    }
    record.end();
}

/// One record being appended to a byte vector, encoded as the `csv` crate's writer encodes it
/// (a test holds the two to the same bytes): fields separated by commas, a field quoted when it
/// holds a comma, a semicolon, a quote, CR or LF (the crate quotes a semicolon only when it is
/// the delimiter: the test asks it both ways), a quote inside doubled, and each record ended by
/// LF. Written here rather than through `csv_core`, whose byte-at-a-time
/// state machine was a tenth of a whole export's time.
struct Record<'o> {
    out: &'o mut Vec<u8>,
    fields: usize,
    empty: bool,
}

/// Whether a field holds a comma, a semicolon, a quote, CR or LF. Sixteen bytes at a time, each looked at
/// without an early exit, so the compiler compares them together (a byte-at-a-time loop was
/// half of encoding a row); what is left, up to fifteen bytes (most fields are that short), in
/// two overlapping eight-byte words when it is at least eight bytes long.
fn needs_quotes(bytes: &[u8]) -> bool {
    let special = |b: u8| (b == b',') | (b == b';') | (b == b'"') | (b == b'\n') | (b == b'\r');
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |any, &b| any | special(b)) {
            return true;
        }
    }
    let rest = chunks.remainder();
    if rest.len() < 8 {
        return rest.iter().any(|&b| special(b));
    }
    has_special(word(&rest[..8])) || has_special(word(&rest[rest.len() - 8..]))
}

/// Whether any byte of `w` is a comma, a semicolon, a quote, CR or LF.
fn has_special(w: u64) -> bool {
    (bytes_equal(w, b',') | bytes_equal(w, b';') | bytes_equal(w, b'"') | bytes_equal(w, b'\n') | bytes_equal(w, b'\r'))
        != 0
}

impl<'o> Record<'o> {
    fn new(out: &'o mut Vec<u8>) -> Self {
        Record { out, fields: 0, empty: true }
    }

    fn field(&mut self, bytes: &[u8]) {
        if self.fields > 0 {
            self.out.push(b',');
        }
        self.fields += 1;
        self.empty &= bytes.is_empty();
        if !needs_quotes(bytes) {
            self.out.extend_from_slice(bytes);
            return;
        }
        self.out.push(b'"');
        let mut rest = bytes;
        while let Some(i) = rest.iter().position(|&b| b == b'"') {
            self.out.extend_from_slice(&rest[..=i]);
            self.out.push(b'"');
            rest = &rest[i + 1..];
        }
        self.out.extend_from_slice(rest);
        self.out.push(b'"');
    }

    fn end(self) {
        // A record of one empty field (or none) would be an empty line, which readers skip.
        if self.fields <= 1 && self.empty {
            self.out.extend_from_slice(b"\"\"");
        }
        self.out.push(b'\n');
    }
}

impl<W: Write + Send> RowWriter for CsvWriter<W> {
    fn row(&mut self, cells: &[Cell<'_>], _event: Option<&StoredEvent>) -> Result<(), ExportError> {
        self.row.clear();
        row(cells, &mut self.row);
        self.out.write_all(&self.row)?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the csv crate writes for the record `[field, "x"]`: quoted as it would quote the
    /// field with either `,` or `;` as the delimiter (always, when either would), so a
    /// semicolon is quoted as the writer quotes it; separated by commas.
    fn csv_crate_record(field: &[u8]) -> Vec<u8> {
        if field.is_empty() {
            return b",x\n".to_vec(); // a record of one empty field is a special case below
        }
        let quoted_with = |delimiter: u8| {
            let mut w = ::csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new());
            w.write_record([field, b"x"]).unwrap();
            w.into_inner().unwrap().first() == Some(&b'"')
        };
        let style = if quoted_with(b',') || quoted_with(b';') {
            ::csv::QuoteStyle::Always
        } else {
            ::csv::QuoteStyle::Necessary
        };
        let mut w = ::csv::WriterBuilder::new().quote_style(style).from_writer(Vec::new());
        // A record of the field alone (a lone field's closing quote is written only when the
        // record ends), its line end replaced by the second field.
        w.write_record([field]).unwrap();
        let mut out = w.into_inner().unwrap();
        out.pop();
        out.extend_from_slice(b",x\n");
        out
    }

    /// Each special byte at each place of fields up to 40 bytes long (both sides of the
    /// sixteen- and eight-byte steps), among ordinary bytes and among their neighbours (a byte
    /// one off a special one, the high bit set), beside what the csv crate writes.
    /// The semicolon was added for spreadsheets whose list separator it is: `x;=1+cmd` was
    /// written bare, and opened as two cells there.
    #[test]
    fn fields_are_quoted_as_the_csv_crate_quotes_them() {
        for (len, filler) in (0..=40).flat_map(|len| [b'a', b'-', b'#', b':', 0x0b, 0x0e, 0xac, 0xff].map(|f| (len, f)))
        {
            for at in 0..=len {
                for special in [None, Some(b','), Some(b';'), Some(b'"'), Some(b'\n'), Some(b'\r')] {
                    let mut field = vec![filler; len];
                    if let (Some(b), true) = (special, at < len) {
                        field[at] = b;
                    }
                    let mut ours = Vec::new();
                    let mut record = Record::new(&mut ours);
                    record.field(&field);
                    record.field(b"x");
                    record.end();
                    assert_eq!(ours, csv_crate_record(&field), "{:?}", String::from_utf8_lossy(&field));
                }
            }
        }
    }

    /// A record of no fields, of one empty field and of two empty fields.
    #[test]
    fn empty_records_are_written_as_the_csv_crate_writes_them() {
        for fields in [vec![], vec![&b""[..]], vec![&b""[..], &b""[..]]] {
            let mut ours = Vec::new();
            let mut record = Record::new(&mut ours);
            fields.iter().for_each(|f| record.field(f));
            record.end();
            let mut theirs = ::csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            theirs.write_record(&fields).unwrap();
            assert_eq!(ours, theirs.into_inner().unwrap(), "{} fields", fields.len());
        }
    }
}
