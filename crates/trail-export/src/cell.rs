//! A table's columns and cells, the same for every format.

use std::borrow::Cow;

use jiff::Zoned;
use trail_core::event::activity::ip_text;

pub use trail_core::vocabulary::views::Column;

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

    /// Text that may be borrowed or owned, or empty when there is none.
    pub fn cow(s: Option<Cow<'a, str>>) -> Cell<'a> {
        match s {
            Some(s) if !s.is_empty() => Cell::Text(s),
            _ => Cell::Empty,
        }
    }

    /// An address as text (IPv4 formatted by hand: see [`ip_text`]).
    pub fn ip(ip: std::net::IpAddr) -> Cell<'a> {
        Cell::Text(Cow::Owned(ip_text(ip)))
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
    DateText::of(z).as_str().to_owned()
}

/// A date as exports write it (`2025-12-15 16:54:07 +05:30`), formatted on the stack.
///
/// Every row of an export has one, and `strftime` (which reads its format string on every call
/// and writes through `fmt`) cost about a tenth of a CSV export's writer thread. Years outside
/// 0000-9999 and offsets with seconds (local mean time before 1900) take `strftime`, which
/// this matches for every other date (tested below against it).
pub struct DateText {
    buf: [u8; 32],
    len: usize,
}

impl DateText {
    pub fn of(z: &Zoned) -> DateText {
        let dt = z.datetime();
        let offset = z.offset().seconds();
        let mut buf = [0u8; 32];
        if !(0..=9999).contains(&dt.year()) || offset % 60 != 0 {
            let s = z.strftime("%Y-%m-%d %H:%M:%S %:z").to_string();
            let len = s.len().min(buf.len());
            buf[..len].copy_from_slice(&s.as_bytes()[..len]);
            return DateText { buf, len };
        }
        let mut put = |at: usize, n: u32, width: usize| {
            let mut n = n;
            for i in (0..width).rev() {
                buf[at + i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        let minutes = offset.unsigned_abs() / 60;
        put(0, dt.year() as u32, 4);
        put(5, dt.month() as u32, 2);
        put(8, dt.day() as u32, 2);
        put(11, dt.hour() as u32, 2);
        put(14, dt.minute() as u32, 2);
        put(17, dt.second() as u32, 2);
        put(21, minutes / 60, 2);
        put(24, minutes % 60, 2);
        for (at, b) in [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':'), (19, b' '), (23, b':')] {
            buf[at] = b;
        }
        buf[20] = if offset < 0 { b'-' } else { b'+' };
        DateText { buf, len: 26 }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("digits and punctuation, or strftime's text")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_display_writes_them() {
        for a in [0u8, 1, 9, 10, 99, 100, 199, 200, 255] {
            for b in [0u8, 7, 42, 255] {
                let ip = std::net::IpAddr::from([a, b, 255 - a, a ^ b]);
                assert_eq!(Cell::ip(ip).display(), ip.to_string());
            }
        }
        let v6: std::net::IpAddr = "2001:db8::7".parse().unwrap();
        assert_eq!(Cell::ip(v6).display(), "2001:db8::7");
    }

    #[test]
    fn dates_on_the_stack_match_strftime() {
        let zones = [
            "UTC",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "America/New_York",
            "Australia/Lord_Howe",
            "Africa/Monrovia",
            "Europe/Amsterdam",
        ];
        for name in zones {
            let tz = jiff::tz::TimeZone::get(name).unwrap();
            // From 1850 (local mean time offsets with seconds) to 2200, on an odd stride so
            // every hour, minute and second value comes up.
            let mut t = -3_786_825_600i64;
            while t < 7_258_118_400 {
                let z = jiff::Timestamp::from_second(t).unwrap().to_zoned(tz.clone());
                assert_eq!(DateText::of(&z).as_str(), z.strftime("%Y-%m-%d %H:%M:%S %:z").to_string(), "{name} {t}");
                t += 86_400 * 3 + 3_607;
            }
        }
        let far = jiff::Timestamp::MAX.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(DateText::of(&far).as_str(), far.strftime("%Y-%m-%d %H:%M:%S %:z").to_string());
        let early = jiff::Timestamp::MIN.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(DateText::of(&early).as_str(), early.strftime("%Y-%m-%d %H:%M:%S %:z").to_string());
    }
}
