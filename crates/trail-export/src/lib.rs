//! Trail's exports (docs/api.md): any filtered view as CSV, XLSX, PDF, DOCX or NDJSON.
//!
//! The shape is ripgrep's printers: one [`RowWriter`] trait and one file per format. A view
//! ([`views::View`]) says which columns a file has and turns each event into a row of
//! [`Cell`]s; a writer puts rows into bytes. Writers take rows one at a time from a streaming
//! query, so memory stays flat however many rows there are:
//!
//! - CSV and NDJSON write each row through as it comes;
//! - XLSX uses `rust_xlsxwriter`'s constant-memory mode (rows go to a temporary file per sheet,
//!   zipped at the end) and starts a new sheet every [`XLSX_SHEET_ROWS`] rows;
//! - PDF and DOCX lay out the whole document, so they refuse more than [`PAGED_ROW_LIMIT`]
//!   rows ([`ExportError::TooManyRows`]).
//!
//! Every text cell a spreadsheet could take for a formula is neutralised ([`safety`]).

pub mod cell;
mod csv;
mod docx;
mod ndjson;
mod pdf;
pub mod safety;
pub mod views;
mod xlsx;

use std::io::Write;

pub use cell::{Cell, Column};
use trail_core::event::{Activity, StoredEvent};

/// Rows per XLSX sheet; the next rows go to a new sheet (Excel's limit is 1,048,576).
pub const XLSX_SHEET_ROWS: u64 = 1_000_000;

/// The most rows a PDF or DOCX export holds.
pub const PAGED_ROW_LIMIT: u64 = 100_000;

/// The export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Xlsx,
    Pdf,
    Docx,
    Ndjson,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Csv, Format::Xlsx, Format::Pdf, Format::Docx, Format::Ndjson];

    pub fn parse(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.extension() == s.to_ascii_lowercase())
            .ok_or_else(|| format!("format {s:?} is unknown: use csv, xlsx, pdf, docx or ndjson"))
    }

    /// The file name extension, also the format's name in `format=`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Ndjson => "ndjson",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pdf => "application/pdf",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    /// The most rows a file of this format holds, if it is limited.
    pub fn row_limit(self) -> Option<u64> {
        match self {
            Format::Pdf | Format::Docx => Some(PAGED_ROW_LIMIT),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

/// What a file says about itself: PDF and DOCX print it above the table, XLSX keeps it in the
/// document properties, CSV and NDJSON hold rows only.
#[derive(Debug, Clone)]
pub struct Meta {
    /// "Activity log", "API log", ...
    pub title: String,
    /// The tenant, as `Name (id)`.
    pub tenant: String,
    /// The filters used, one `name: value` each; empty when none.
    pub filters: Vec<String>,
    /// When the file was made, in the tenant's time zone.
    pub generated_at: jiff::Zoned,
}

impl Meta {
    /// The lines printed under the title.
    pub fn lines(&self) -> Vec<String> {
        let filters = if self.filters.is_empty() { "none".to_string() } else { self.filters.join("; ") };
        vec![
            format!("Tenant: {}", self.tenant),
            format!("Filters: {filters}"),
            format!("Generated: {}", cell::format_date(&self.generated_at)),
        ]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "a {format} export holds at most {limit} rows and this view has more: narrow the filters (a shorter date range), or export CSV or XLSX, which have no limit"
    )]
    TooManyRows { format: Format, limit: u64 },
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("building the {format} file: {message}")]
    Format { format: Format, message: String },
}

/// Writes rows into a file of one format. Rows come in the order they are to appear.
pub trait RowWriter: Send {
    /// One row: its cells in the view's column order, and the event it was made from (NDJSON
    /// writes the whole stored event; report rows have none).
    fn row(&mut self, cells: &[Cell<'_>], event: Option<&StoredEvent>) -> Result<(), ExportError>;

    /// Ends the file and writes whatever is still held.
    fn finish(self: Box<Self>) -> Result<(), ExportError>;
}

/// A writer of `format` into `out`, for a table with `columns`.
pub fn writer<W: Write + Send + 'static>(
    format: Format,
    meta: &Meta,
    columns: &[Column],
    out: W,
) -> Result<Box<dyn RowWriter>, ExportError> {
    Ok(match format {
        Format::Csv => Box::new(csv::CsvWriter::new(columns, out)?),
        Format::Ndjson => Box::new(ndjson::NdjsonWriter::new(columns, out)),
        Format::Xlsx => Box::new(xlsx::XlsxWriter::new(meta, columns, out)?),
        Format::Pdf => Box::new(pdf::PdfWriter::new(meta, columns, out)),
        Format::Docx => Box::new(docx::DocxWriter::new(meta, columns, out)?),
    })
}

/// What a file's rows are made from: stored events (the activity log and the catalogue's
/// views), or report rows (the reports' JSON rows: logins, usage, users).
pub trait Rowable {
    /// Its cells, in the view's column order, appended to `out`.
    fn cells<'a>(&'a self, view: &views::View, out: &mut Vec<Cell<'a>>);
    /// The event it is, for NDJSON's whole stored event.
    fn event(&self) -> Option<&StoredEvent>;
}

impl Rowable for StoredEvent {
    fn cells<'a>(&'a self, view: &views::View, out: &mut Vec<Cell<'a>>) {
        view.cells(self, out)
    }
    fn event(&self) -> Option<&StoredEvent> {
        Some(self)
    }
}

impl Rowable for serde_json::Map<String, serde_json::Value> {
    fn cells<'a>(&'a self, view: &views::View, out: &mut Vec<Cell<'a>>) {
        out.extend(view.report_cells(self))
    }
    fn event(&self) -> Option<&StoredEvent> {
        None
    }
}

/// Exports events (or report rows) through `view` into `out`: the one loop every caller (the HTTP route, `trail
/// export`, the benchmark) runs. `progress` is called after each row with the count so far.
/// Returns the number of rows written. A PDF or DOCX export stops with
/// [`ExportError::TooManyRows`] at the first row past the limit, before anything is written to `out`.
pub fn export<W, I, R, E>(
    format: Format,
    view: &views::View,
    meta: &Meta,
    events: I,
    out: W,
    progress: impl FnMut(u64),
) -> Result<u64, E>
where
    W: Write + Send + 'static,
    I: IntoIterator<Item = Result<R, E>>,
    R: Rowable,
    E: From<ExportError>,
{
    export_pages(format, view, meta, events.into_iter().map(|r| r.map(|row| vec![row])), out, progress)
}

/// [`export`] fed whole pages of rows, which it reads in place: a stored event is a few hundred
/// bytes, and moving each one through an iterator's layers costs more than formatting it.
pub fn export_pages<W, I, R, E>(
    format: Format,
    view: &views::View,
    meta: &Meta,
    pages: I,
    out: W,
    mut progress: impl FnMut(u64),
) -> Result<u64, E>
where
    W: Write + Send + 'static,
    I: IntoIterator<Item = Result<Vec<R>, E>>,
    R: Rowable,
    E: From<ExportError>,
{
    let mut w = writer(format, meta, &view.columns(), out)?;
    let limit = format.row_limit();
    let mut rows = 0u64;
    for page in pages {
        let page = page?;
        // Cells borrow from the page's events, so they live as long as the page.
        let mut cells = Vec::with_capacity(view.kind.columns().len());
        for event in &page {
            rows += 1;
            if limit.is_some_and(|l| rows > l) {
                return Err(ExportError::TooManyRows { format, limit: limit.unwrap_or_default() }.into());
            }
            cells.clear();
            event.cells(view, &mut cells);
            w.row(&cells, event.event())?;
            progress(rows);
        }
    }
    w.finish()?;
    Ok(rows)
}

/// The rows of a format whose rows stand alone (CSV, NDJSON), rendered one event at a time on
/// any thread: [`RowRenderer::header`] and then the rows in order make the file [`writer`]
/// makes. An export hands it to the store, which renders each event where it decoded it.
#[derive(Debug, Clone)]
pub struct RowRenderer {
    format: Format,
    view: views::View,
}

impl RowRenderer {
    /// A renderer of `view`'s rows in `format`; `None` for a format whose file is more than its
    /// rows (XLSX, PDF, DOCX) or a report view (its rows are not events).
    pub fn new(format: Format, view: &views::View) -> Option<RowRenderer> {
        let stands_alone = matches!(format, Format::Csv | Format::Ndjson) && !view.kind.is_report();
        stands_alone.then(|| RowRenderer { format, view: view.clone() })
    }

    /// Whether [`RowRenderer::render_activity`] renders this file's rows: a CSV of the activity
    /// view, whose row is made of the event's activity fields alone.
    pub fn renders_activity(&self) -> bool {
        self.format == Format::Csv && self.view.kind == views::ViewKind::Activity
    }

    /// Appends the row of event `seq` from its activity fields (read straight from its stored
    /// text, say), the row [`RowRenderer::render`] makes of the whole event. Returns `false`,
    /// appending nothing, when [`RowRenderer::renders_activity`] is not so.
    pub fn render_activity(&self, seq: u64, a: Activity<'_>, out: &mut Vec<u8>) -> bool {
        if !self.renders_activity() {
            return false;
        }
        let mut cells = Vec::with_capacity(self.view.kind.columns().len());
        self.view.activity_cells(seq, a, &mut cells);
        csv::row(&cells, out);
        true
    }

    /// What comes before the first row: CSV's header row.
    pub fn header(&self) -> Vec<u8> {
        match self.format {
            Format::Csv => csv::header(&self.view.columns()),
            _ => Vec::new(),
        }
    }

    /// Appends `event`'s row.
    pub fn render(&self, event: &StoredEvent, out: &mut Vec<u8>) {
        match self.format {
            Format::Csv => {
                let mut cells = Vec::with_capacity(self.view.kind.columns().len());
                self.view.cells(event, &mut cells);
                csv::row(&cells, out);
            }
            _ => ndjson::event_line(event, out),
        }
    }
}

/// Writes a file of rows rendered by `renderer` (its header first): each page is pieces of
/// whole rows, in order, each with how many rows it holds. `progress` is called after each
/// piece with the count so far (a download cut short records about how far it got). Returns
/// the number of rows written.
pub fn export_rendered<W, I, E>(
    renderer: &RowRenderer,
    pages: I,
    out: W,
    mut progress: impl FnMut(u64),
) -> Result<u64, E>
where
    W: Write,
    I: IntoIterator<Item = Result<Vec<(Vec<u8>, u64)>, E>>,
    E: From<ExportError>,
{
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let io = |e: std::io::Error| E::from(ExportError::Io(e));
    out.write_all(&renderer.header()).map_err(io)?;
    let mut rows = 0u64;
    for page in pages {
        for (piece, n) in page? {
            out.write_all(&piece).map_err(io)?;
            rows += n;
            progress(rows);
        }
    }
    out.flush().map_err(io)?;
    Ok(rows)
}

/// An export's file name: `trail-{tenant}-{view}-{from}-{to}.{ext}`, the days of the range in
/// the tenant's time zone: `from` is `start` when the range is open at its start, and `to` is
/// the last day included (the bound itself is exclusive), or today when the range is open.
pub fn file_name(
    tenant: &str,
    view: &str,
    bounds: &trail_core::time::TimeBounds,
    tz: &jiff::tz::TimeZone,
    now: jiff::Timestamp,
    format: Format,
) -> String {
    let day = |t: jiff::Timestamp| t.to_zoned(tz.clone()).strftime("%Y-%m-%d").to_string();
    let from = bounds.from.map(day).unwrap_or_else(|| "start".into());
    let last = bounds.to.map(|t| t - jiff::SignedDuration::from_micros(1)).unwrap_or(now);
    format!("trail-{tenant}-{view}-{from}-{}.{}", day(last), format.extension())
}
