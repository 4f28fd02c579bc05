//! Finding a hidden value where else an event writes it: a masked phone number in the
//! description, a withheld visitor e-mail in a target name or the metadata.
//!
//! Hiding a field is not enough when the same value is written elsewhere in the event (`"SMS to
//! +447700900123 failed"`), so each value hidden from a reader is also looked for in every other
//! text of the event, and each occurrence is hidden the same way. What counts as an occurrence
//! is kept narrow enough to be sound (it never hides text that is not the value) and wide enough
//! to catch how people write the value:
//!
//! - a phone number: the same digits in the same order, not part of a longer run of digits,
//!   written as stored or with up to two of ` -.()/` between any two digits (`+44 7700 900123`,
//!   `447700900123`, `+44 (7700) 900-123`); each occurrence is masked as the field is, every
//!   digit but the last four. A national form with other digits (`07700 900123`) is not the
//!   same digits and is not found.
//! - a withheld value (an e-mail, a name, an address): the value as stored, ASCII letters in
//!   any case, not inside a longer word; it becomes [`WITHHELD`].

use super::mask_phone;

/// What an occurrence of a withheld value reads.
pub const WITHHELD: &str = "[withheld]";

/// Characters a phone number may be written with between its digits.
const SEPARATORS: &[u8] = b" -.()/";

/// At most this many separators between two digits of one phone number.
const MAX_SEPARATORS: usize = 2;

/// Withheld values shorter than this (a two-letter country code) are not looked for elsewhere:
/// they are ordinary words of other text far more often than the value.
const MIN_WITHHELD_CHARS: usize = 3;

/// A value hidden from a reader, as it is looked for in the event's other texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hidden {
    /// A phone number shown masked: its text as stored and its ASCII digits.
    Phone { text: String, digits: Vec<u8> },
    /// A value withheld whole.
    Withheld(String),
}

impl Hidden {
    /// A phone number, or `None` when masking it would hide nothing (four digits or fewer).
    pub fn phone(text: &str) -> Option<Hidden> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
        (digits.len() > 4).then(|| Hidden::Phone { text: text.to_owned(), digits })
    }

    /// A withheld value, or `None` when it is too short to be told from other words.
    pub fn withheld(text: &str) -> Option<Hidden> {
        (text.trim().chars().count() >= MIN_WITHHELD_CHARS).then(|| Hidden::Withheld(text.trim().to_owned()))
    }
}

/// `s` with every occurrence of every value of `hidden` hidden, or `None` when it holds none.
pub fn hide(s: &str, hidden: &[Hidden]) -> Option<String> {
    let mut changed: Option<String> = None;
    for h in hidden {
        let current = changed.as_deref().unwrap_or(s);
        let next = match h {
            Hidden::Phone { text, digits } => {
                let exact = replace_bounded(current, text, false, &mask_phone);
                let current = exact.as_deref().unwrap_or(current);
                phone_digits(current, digits).or(exact)
            }
            Hidden::Withheld(value) => replace_bounded(current, value, true, &|_| WITHHELD.to_owned()),
        };
        if next.is_some() {
            changed = next;
        }
    }
    changed
}

/// Replaces each occurrence of `value` in `s` that does not continue a run of digits (or, with
/// `words`, of letters and digits) on either side, by `with(occurrence)`. `words` matches ASCII
/// letters in any case.
fn replace_bounded(s: &str, value: &str, words: bool, with: &dyn Fn(&str) -> String) -> Option<String> {
    if value.is_empty() || value.len() > s.len() {
        return None;
    }
    let continues = |c: char| if words { c.is_alphanumeric() } else { c.is_ascii_digit() };
    // ASCII lower-casing keeps every byte where it was, so positions in `hay` are positions in `s`.
    let (hay, needle) =
        if words { (s.to_ascii_lowercase(), value.to_ascii_lowercase()) } else { (s.to_owned(), value.to_owned()) };
    let (first, last) = (value.chars().next()?, value.chars().next_back()?);
    let mut out = String::new();
    let (mut copied, mut from) = (0, 0);
    while let Some(found) = hay[from..].find(&needle) {
        let at = from + found;
        let end = at + needle.len();
        let bounded_before = !continues(first) || s[..at].chars().next_back().is_none_or(|c| !continues(c));
        let bounded_after = !continues(last) || s[end..].chars().next().is_none_or(|c| !continues(c));
        if bounded_before && bounded_after {
            out.push_str(&s[copied..at]);
            out.push_str(&with(&s[at..end]));
            copied = end;
            from = end;
        } else {
            from = at + s[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
}

/// `s` with every run of `digits` (with separators, see the module) masked, or `None`.
fn phone_digits(s: &str, digits: &[u8]) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::new();
    let (mut copied, mut i) = (0, 0);
    while i < b.len() {
        let starts = b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit());
        if let Some(end) = starts.then(|| phone_at(b, i, digits)).flatten() {
            // Digits and separators are ASCII, so `i` and `end` are character boundaries.
            out.push_str(&s[copied..i]);
            out.push_str(&mask_phone(&s[i..end]));
            copied = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
}

/// Where the phone number of `digits` that starts at `start` ends, if one does.
fn phone_at(b: &[u8], start: usize, digits: &[u8]) -> Option<usize> {
    let mut i = start;
    for (k, &d) in digits.iter().enumerate() {
        if k > 0 {
            let mut seps = 0;
            while seps < MAX_SEPARATORS && b.get(i).is_some_and(|c| SEPARATORS.contains(c)) {
                i += 1;
                seps += 1;
            }
        }
        if b.get(i) != Some(&d) {
            return None;
        }
        i += 1;
    }
    (!b.get(i).is_some_and(u8::is_ascii_digit)).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(p: &str) -> Vec<Hidden> {
        vec![Hidden::phone(p).unwrap()]
    }

    #[test]
    fn a_phone_is_found_as_stored_and_with_other_separators() {
        let h = phone("+447700900123");
        assert_eq!(hide("SMS to +447700900123 failed", &h).unwrap(), "SMS to +********0123 failed");
        assert_eq!(hide("to 447700900123.", &h).unwrap(), "to ********0123.");
        assert_eq!(hide("+44 7700 900123", &h).unwrap(), "+** **** **0123");
        assert_eq!(hide("+44 (7700) 900-123", &h).unwrap(), "+** (****) **0-123");
        assert_eq!(hide("a 447700900123 and b 44-7700-900-123", &h).unwrap(), "a ********0123 and b **-****-**0-123");
        let spaced = phone("+44 7700 900123");
        assert_eq!(hide("sent to 447700900123", &spaced).unwrap(), "sent to ********0123");
    }

    #[test]
    fn a_phone_is_not_found_in_other_numbers() {
        let h = phone("+447700900123");
        for other in [
            "4477009001234",
            "94477009001235",
            "07700 900123",
            "7700900123",
            "44 7700   900123",
            "order 447700900124",
            "no digits",
        ] {
            assert_eq!(hide(other, &h), None, "{other}");
        }
        assert_eq!(Hidden::phone("+1 234"), None, "four digits or fewer: masking hides nothing");
        assert!(Hidden::phone("12345").is_some());
    }

    #[test]
    fn a_phone_with_other_characters_is_found_as_stored() {
        let h = phone("+44_7700_900123");
        assert_eq!(hide("to +44_7700_900123!", &h).unwrap(), "to +**_****_**0123!");
    }

    #[test]
    fn withheld_values_are_found_as_whole_words_in_any_case() {
        let h = vec![
            Hidden::withheld("visitor@client.example").unwrap(),
            Hidden::withheld("203.0.113.7").unwrap(),
            Hidden::withheld("Vera").unwrap(),
        ];
        assert_eq!(
            hide("Visitor@Client.Example (203.0.113.7) viewed it; vera too", &h).unwrap(),
            "[withheld] ([withheld]) viewed it; [withheld] too"
        );
        assert_eq!(hide("203.0.113.77 and Veranda and xvisitor@client.example", &h), None);
        assert_eq!(Hidden::withheld("GB"), None);
        // A value that ends in punctuation is found before a letter.
        let ua = vec![Hidden::withheld("Agent/1.0 (X11)").unwrap()];
        assert_eq!(hide("by Agent/1.0 (X11)Gecko", &ua).unwrap(), "by [withheld]Gecko");
    }

    #[test]
    fn non_ascii_text_around_a_value_is_kept() {
        let h = vec![Hidden::withheld("Zoë Ünal").unwrap(), Hidden::phone("+972 50 123 4567").unwrap()];
        assert_eq!(hide("😀 zoë Ünal → 972501234567 עברית", &h).unwrap(), "😀 [withheld] → ********4567 עברית");
    }
}
