//! Formula neutralisation (docs/api.md, exports).
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula, and some treat a
//! leading tab, carriage return or line feed the same way once the file is re-saved (the
//! "CSV injection" of OWASP). An audit log is full of text that other people wrote (names,
//! remarks, user agents), so every such text cell is defused: CSV writes it with a leading `'`
//! (which spreadsheets show as text and do not display), XLSX writes it as a string cell with
//! Excel's "quote prefix" so editing it does not turn it into a formula either. Numbers and
//! dates are never text cells, so `-5` as a number stays a number.

use std::borrow::Cow;

/// Whether a spreadsheet could take this text for a formula.
pub fn is_risky(s: &str) -> bool {
    matches!(s.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n'))
}

/// The text as CSV writes it: with a leading `'` when it is risky, unchanged otherwise.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if is_risky(s) { Cow::Owned(format!("'{s}")) } else { Cow::Borrowed(s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_start_is_defused_and_nothing_else_changes() {
        for start in ["=", "+", "-", "@", "\t", "\r", "\n"] {
            let s = format!("{start}HYPERLINK(\"http://evil.example\")");
            assert_eq!(neutralise(&s), format!("'{s}"));
        }
        for safe in ["", "Asha", " =1+1", "'quoted", "1+1", "é=", "#ref"] {
            assert_eq!(neutralise(safe), safe);
        }
    }
}
