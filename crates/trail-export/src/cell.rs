//! A table's columns and cells, the same for every format.

use std::borrow::Cow;

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

/// One value of a row. Text borrows from the event it was read from where it can: an export
/// makes a dozen cells a row, and copying each into a string of its own cost more than writing it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(Cow<'a, str>),
    Int(i64),
    /// An instant in the tenant's time zone: a real date cell in XLSX, text with its offset
    /// elsewhere (`2025-12-15 16:54:07 +05:30`).
    Date(Zoned),
}

impl<'a> Cell<'a> {
    /// Text, or empty when there is none.
    pub fn text(s: Option<&'a str>) -> Cell<'a> {
        match s {
            Some(s) if !s.is_empty() => Cell::Text(Cow::Borrowed(s)),
            _ => Cell::Empty,
        }
    }

    /// The cell with its text owned, to outlive the event it was read from.
    pub fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Empty => Cell::Empty,
            Cell::Text(s) => Cell::Text(Cow::Owned(s.into_owned())),
            Cell::Int(n) => Cell::Int(n),
            Cell::Date(z) => Cell::Date(z),
        }
    }

    /// Text made for this row.
    pub fn owned(s: String) -> Cell<'a> {
        if s.is_empty() { Cell::Empty } else { Cell::Text(Cow::Owned(s)) }
    }

    /// The cell as text, the way CSV, PDF and DOCX show it (before formula neutralisation).
    pub fn display(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Cell::Empty => "".into(),
            Cell::Text(s) => s.as_ref().into(),
            Cell::Int(n) => n.to_string().into(),
            Cell::Date(z) => format_date(z).into(),
        }
    }
}

/// A date as exports write it: local time with the offset, to the second.
pub fn format_date(z: &Zoned) -> String {
    z.strftime("%Y-%m-%d %H:%M:%S %:z").to_string()
}
