//! Formula neutralisation (docs/api.md, exports).
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula, and some treat a
//! leading tab, carriage return or line feed the same way once the file is re-saved (the
//! "CSV injection" of OWASP). An audit log is full of text that other people wrote (names,
//! remarks, user agents), so every such text cell is defused: CSV writes it with a leading `'`
//! (which spreadsheets show as text and do not display), XLSX writes it as a string cell with
//! Excel's "quote prefix" so editing it does not turn it into a formula either. Numbers and
//! dates are never text cells, so `-5` as a number stays a number.
//!
//! A spreadsheet opening a CSV splits rows at its locale's list separator: `,` in most, `;`
//! where the comma is the decimal mark (much of Europe). So the CSV writer quotes a cell holding
//! either (`csv.rs`). Quoting alone is not enough: a spreadsheet splitting a comma-separated
//! file at `;` honours a quote only at the start of what it takes for a field, so in
//! `1,"x;=1+cmd|..."` it sees `1,"x` and `=1+cmd|..."`, a formula. Hence the rule: every piece of
//! a text cell, split at `,` and `;`, that starts like a formula gets the `'` (the first piece's
//! is the cell's leading `'`), so `x;=1+cmd` is written `x;'=1+cmd` and every piece reads as text
//! whichever separator a reader splits at.

use std::borrow::Cow;

use trail_core::bytes::{bytes_equal, first, word};

/// Whether a cell starting with `b` is read as a formula.
fn starts_formula(b: u8) -> bool {
    matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n')
}

/// Whether a spreadsheet could take this text, or a piece of it after a `,` or `;`, for a
/// formula.
pub fn is_risky(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        None => false,
        Some(&c) if starts_formula(c) => true,
        _ => has_formula_after_separator(b),
    }
}

/// Whether some `,` or `;` in `b` is followed directly by a formula's first byte. Eight bytes
/// at a time: every text cell of an export is looked at, and most hold no separator at all.
fn has_formula_after_separator(b: &[u8]) -> bool {
    let risky_at = |i: usize| matches!(b[i], b',' | b';') && b.get(i + 1).is_some_and(|&c| starts_formula(c));
    let mut at = 0;
    while at + 8 <= b.len() {
        // A mask may flag a byte one off a separator above a real one; each flag is checked.
        let w = word(&b[at..at + 8]);
        let mut mask = bytes_equal(w, b',') | bytes_equal(w, b';');
        while mask != 0 {
            if risky_at(at + first(mask)) {
                return true;
            }
            mask &= mask - 1;
        }
        at += 8;
    }
    (at..b.len()).any(risky_at)
}

/// The text as CSV writes it: a `'` before each piece (the whole text, and what follows each
/// `,` or `;`) that starts like a formula; unchanged when none does.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if !is_risky(s) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 2);
    let mut from = 0;
    for i in 0..b.len() {
        // `i` is a character boundary here: the byte before it, if any, is an ASCII separator.
        if (i == 0 || matches!(b[i - 1], b',' | b';')) && starts_formula(b[i]) {
            out.push_str(&s[from..i]);
            out.push('\'');
            from = i;
        }
    }
    out.push_str(&s[from..]);
    Cow::Owned(out)
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
        for safe in ["", "Asha", " =1+1", "'quoted", "1+1", "é=", "#ref", "a, -b", "x; =1", "a,b;c", "a,", "a;"] {
            assert_eq!(neutralise(safe), safe);
        }
    }

    /// Regression: `x;=1+cmd|...` was written bare, a live formula in a spreadsheet whose list
    /// separator is `;`. A formula after either separator, at every place of cells up to 24
    /// bytes long (both sides of the eight-byte steps), among bytes one off a separator: the
    /// piece gets the `'`, and nothing else changes.
    #[test]
    fn a_formula_after_a_separator_is_defused() {
        for len in 3..=24 {
            for at in 1..len - 1 {
                for (sep, start) in
                    [b',', b';'].into_iter().flat_map(|s| [b'=', b'+', b'-', b'@', b'\t'].map(|f| (s, f)))
                {
                    for filler in [b'a', b'-', b':', b'+', b'<'] {
                        let mut cell = vec![filler; len];
                        cell[0] = b'x';
                        cell[at] = sep;
                        cell[at + 1] = start;
                        let cell = String::from_utf8(cell).unwrap();
                        let want = format!("{}'{}", &cell[..=at], &cell[at + 1..]);
                        assert_eq!(neutralise(&cell), want, "{cell:?}");
                        assert!(!is_risky(&want), "{want:?}");
                        // The separator's neighbour byte in its place is harmless.
                        let near = cell.replace(sep as char, if sep == b',' { "-" } else { ":" });
                        assert_eq!(neutralise(&near), near, "{near:?}");
                    }
                }
            }
        }
        assert_eq!(neutralise("x;=1+cmd|' /C calc'!A0"), "x;'=1+cmd|' /C calc'!A0");
        assert_eq!(neutralise("=a,+b;-c,d;@é"), "'=a,'+b;'-c,d;'@é");
        assert_eq!(neutralise("é;=1"), "é;'=1");
        assert_eq!(neutralise("Mozilla/5.0 (X11; Linux x86_64)"), "Mozilla/5.0 (X11; Linux x86_64)");
    }
}
