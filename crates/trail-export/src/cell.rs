//! A table's columns and cells, the same for every format.

use jiff::Zoned;

/// One column of an export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// The heading, as SPEC 6 names it (`Report Type`, or `linkSessionId` for the link access log).
    pub title: &'static str,
    /// The key of this value in NDJSON rows that are not events (report rows).
    pub key: &'static str,
    /// A sensible width, in characters: XLSX column widths and PDF/DOCX proportions.
    pub width: f32,
}

impl Column {
    pub const fn new(title: &'static str, key: &'static str, width: f32) -> Column {
        Column { title, key, width }
    }
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// An instant in the tenant's time zone: a real date cell in XLSX, text with its offset
    /// elsewhere (`2025-12-15 16:54:07 +05:30`).
    Date(Zoned),
}

impl Cell {
    /// Text, or empty when there is none.
    pub fn text(s: Option<&str>) -> Cell {
        match s {
            Some(s) if !s.is_empty() => Cell::Text(s.to_string()),
            _ => Cell::Empty,
        }
    }

    /// The cell as text, the way CSV, PDF and DOCX show it (before formula neutralisation).
    pub fn display(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Cell::Empty => "".into(),
            Cell::Text(s) => s.as_str().into(),
            Cell::Int(n) => n.to_string().into(),
            Cell::Date(z) => format_date(z).into(),
        }
    }
}

/// A date as exports write it: local time with the offset, to the second.
pub fn format_date(z: &Zoned) -> String {
    z.strftime("%Y-%m-%d %H:%M:%S %:z").to_string()
}
