//! Time as Trail stores and prints it, and the `range` presets.
//!
//! Trail keeps instants with microsecond precision (the precision PostgreSQL's `timestamptz` has, so
//! both backends return exactly the same values) and prints them in UTC as RFC 3339: with three
//! fractional digits when the instant falls on a millisecond, six otherwise.

use jiff::{Timestamp, Zoned, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

/// Truncates an instant to Trail's precision (microseconds).
pub fn truncate_us(ts: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(ts.as_microsecond()).expect("a truncated timestamp stays in range")
}

/// Formats an instant the way Trail returns it: `2026-11-22T10:15:30.120Z`.
pub fn format_rfc3339(ts: Timestamp) -> String {
    let us = ts.as_microsecond();
    let precision = if us.rem_euclid(1000) == 0 { 3 } else { 6 };
    format!("{ts:.precision$}")
}

/// The instant of `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z`, the form Trail writes, without a general
/// parser: every stored event holds two such times, and reading millions of events (exports,
/// verify) parses them all. `None` for anything else (the general parser decides).
fn parse_canonical(b: &[u8]) -> Option<Timestamp> {
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        b.get(r)?.iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    let frac_len = match b.len() {
        20 => 0,
        24 => 3,
        27 => 6,
        _ => return None,
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[b.len() - 1] != b'Z' {
        return None;
    }
    if frac_len > 0 && b[19] != b'.' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hh, mm, ss) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let frac = if frac_len == 0 { 0 } else { digits(20..20 + frac_len)? * if frac_len == 3 { 1000 } else { 1 } };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Days from 1970-01-01 (H. Hinnant's days_from_civil).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    Timestamp::from_microsecond(secs * 1_000_000 + frac).ok()
}

/// Parses an RFC 3339 instant (with `Z` or an offset).
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, String> {
    if let Some(ts) = parse_canonical(s.as_bytes()) {
        return Ok(ts);
    }
    // jiff accepts a few extensions to RFC 3339 (such as a bracketed time zone); insist on the
    // plain form so that what we accept is what the spec promises.
    let b = s.as_bytes();
    let plausible = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        && !s.contains('[');
    if !plausible {
        return Err(format!(
            "{s:?} is not an RFC 3339 time: use a form like 2026-11-22T10:15:30Z or 2026-11-22T10:15:30.120+05:30"
        ));
    }
    check_offset(s)?;
    s.parse::<Timestamp>().map(truncate_us).map_err(|e| {
        format!(
            "{s:?} is not an RFC 3339 time ({e}): use a form like 2026-11-22T10:15:30Z or 2026-11-22T10:15:30.120+05:30"
        )
    })
}

/// Holds the zone suffix to RFC 3339's grammar: `Z` or `+HH:MM` / `-HH:MM` with hours 00-23 and
/// minutes 00-59. jiff also accepts offsets up to 25:59:59 (and seconds in them), which would let
/// `+25:00` through; such a time is a client's bug, not an instant it meant.
fn check_offset(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    if matches!(b.last(), Some(b'Z' | b'z')) {
        return Ok(());
    }
    // The offset's sign comes after the seconds (index 19), so a date's `-` is never taken for it.
    let Some(sign) = b.iter().skip(19).rposition(|&c| c == b'+' || c == b'-').map(|i| i + 19) else {
        return Ok(()); // no zone at all: the general parser names that
    };
    let zone = &s[sign..];
    let z = zone.as_bytes();
    let two = |i: usize| -> Option<u32> {
        let (a, b) = (*z.get(i)?, *z.get(i + 1)?);
        (a.is_ascii_digit() && b.is_ascii_digit()).then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    };
    let valid = z.len() == 6 && z[3] == b':' && matches!((two(1), two(4)), (Some(h), Some(m)) if h <= 23 && m <= 59);
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{s:?} has the UTC offset {zone:?}, which RFC 3339 does not allow: an offset is +HH:MM or -HH:MM \
             with hours 00-23 and minutes 00-59 (or Z for UTC), for example 2026-11-22T10:15:30+05:30"
        ))
    }
}

/// Serde adapter for instants in Trail's printed form.
pub mod serde_rfc3339 {
    use super::*;

    pub fn serialize<S: serde::Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(*ts))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for optional instants.
pub mod serde_rfc3339_opt {
    use super::*;

    pub fn serialize<S: serde::Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => s.serialize_str(&format_rfc3339(*ts)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        s.map(|s| parse_rfc3339(&s).map_err(serde::de::Error::custom)).transpose()
    }
}

/// Looks up an IANA time zone name (`Europe/Paris`, `Asia/Kolkata`, `UTC`).
///
/// The time zone database is compiled into the binary, so this answers the same on every machine.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name)
        .map_err(|_| format!("unknown time zone {name:?}: use an IANA name such as UTC, Europe/Paris or Asia/Kolkata"))
}

/// The `range` presets (docs/api.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RangePreset {
    Today,
    Yesterday,
    Last7Days,
    #[default]
    Last30Days,
    Last90Days,
    All,
}

impl RangePreset {
    pub const ALL: [RangePreset; 6] = [
        RangePreset::Today,
        RangePreset::Yesterday,
        RangePreset::Last7Days,
        RangePreset::Last30Days,
        RangePreset::Last90Days,
        RangePreset::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RangePreset::Today => "today",
            RangePreset::Yesterday => "yesterday",
            RangePreset::Last7Days => "last_7_days",
            RangePreset::Last30Days => "last_30_days",
            RangePreset::Last90Days => "last_90_days",
            RangePreset::All => "all",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            format!(
                "unknown range {s:?}: use today, yesterday, last_7_days, last_30_days, last_90_days or all, or give from/to"
            )
        })
    }

    /// The half-open interval `[from, to)` this preset means at `now` in `tz`.
    ///
    /// "Last N days" is N calendar days ending with today, as a person reading a log means it:
    /// `last_7_days` on a Wednesday starts at the beginning of the previous Thursday. Open ends
    /// are `None` (events may be dated up to five minutes ahead, so "today" has no upper bound).
    pub fn bounds(self, now: Timestamp, tz: &TimeZone) -> TimeBounds {
        let today = now.to_zoned(tz.clone()).date();
        let days_back = |n: i32| start_of_day(today.checked_sub(jiff::Span::new().days(n)).ok(), tz);
        match self {
            RangePreset::Today => TimeBounds { from: start_of_day(Some(today), tz), to: None },
            RangePreset::Yesterday => TimeBounds { from: days_back(1), to: start_of_day(Some(today), tz) },
            RangePreset::Last7Days => TimeBounds { from: days_back(6), to: None },
            RangePreset::Last30Days => TimeBounds { from: days_back(29), to: None },
            RangePreset::Last90Days => TimeBounds { from: days_back(89), to: None },
            RangePreset::All => TimeBounds::default(),
        }
    }
}

/// The first instant of `date` in `tz` (which is not always midnight: some zones skip it).
pub fn start_of_day(date: Option<Date>, tz: &TimeZone) -> Option<Timestamp> {
    let date = date?;
    date.to_zoned(tz.clone()).ok().and_then(|z: Zoned| z.start_of_day().ok()).map(|z| z.timestamp())
}

/// A half-open time interval `[from, to)` over `occurred_at`; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimeBounds {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl TimeBounds {
    pub fn contains(&self, ts: Timestamp) -> bool {
        self.from.is_none_or(|f| ts >= f) && self.to.is_none_or(|t| ts < t)
    }
}

/// Parses a `from` or `to` parameter: an RFC 3339 instant or a `YYYY-MM-DD` date in `tz`.
/// A date `from` is the start of that day; a date `to` includes the whole day (so it becomes the
/// start of the next day, the interval being half-open).
pub fn parse_bound(s: &str, is_to: bool, tz: &TimeZone) -> Result<Timestamp, String> {
    if s.len() == 10 {
        let date: Date = s.parse().map_err(|_| format!("{s:?} is not a date: use YYYY-MM-DD or an RFC 3339 time"))?;
        let day = if is_to { date.tomorrow().map_err(|e| e.to_string())? } else { date };
        return start_of_day(Some(day), tz).ok_or_else(|| format!("{s:?} is out of range"));
    }
    parse_rfc3339(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    proptest! {
        /// The fast path agrees with jiff on every instant Trail can write, and on near misses.
        #[test]
        fn the_canonical_fast_path_agrees_with_jiff(us in -62_135_596_800_000_000i64..=253_402_207_200_000_000i64, cut in 0usize..30) {
            let t = Timestamp::from_microsecond(us).unwrap();
            for text in [format_rfc3339(t), format!("{t:.0}"), format!("{t:.6}")] {
                let fast = parse_canonical(text.as_bytes());
                prop_assert_eq!(fast, Some(text.parse::<Timestamp>().unwrap()), "{}", text);
                // Any prefix or changed byte either parses to what jiff says or falls through.
                let short = &text[..cut.min(text.len())];
                if let Some(f) = parse_canonical(short.as_bytes()) {
                    prop_assert_eq!(Some(f), short.parse::<Timestamp>().ok());
                }
            }
        }
    }

    #[test]
    fn the_fast_path_refuses_what_is_not_a_valid_date() {
        for bad in [
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:60:00Z",
            "2026-11-22T10:15:60Z",
            "2026-11-22 10:15:30Z",
            "2026-11-22T10:15:30.12Z",
            "+026-11-22T10:15:30Z",
        ] {
            assert_eq!(parse_canonical(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(parse_canonical(b"2024-02-29T23:59:59.999999Z"), Some(ts("2024-02-29T23:59:59.999999Z")));
        assert_eq!(parse_canonical(b"1969-12-31T23:59:59.000001Z"), Some(ts("1969-12-31T23:59:59.000001Z")));
    }

    #[test]
    fn prints_millis_or_micros() {
        assert_eq!(format_rfc3339(ts("2026-11-22T10:15:30Z")), "2026-11-22T10:15:30.000Z");
        assert_eq!(format_rfc3339(ts("2026-11-22T10:15:30.12Z")), "2026-11-22T10:15:30.120Z");
        assert_eq!(format_rfc3339(ts("2026-11-22T10:15:30.123456Z")), "2026-11-22T10:15:30.123456Z");
        assert_eq!(
            format_rfc3339(parse_rfc3339("2026-11-22T15:45:30.1234567+05:30").unwrap()),
            "2026-11-22T10:15:30.123456Z"
        );
    }

    #[test]
    fn rejects_non_rfc3339() {
        for bad in
            ["2026-11-22", "2026-11-22T10:15:30", "yesterday", "2026-11-22T10:15:30Z[Europe/Paris]", "1700000000"]
        {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    /// Regression: `+25:00` was accepted because jiff allows offsets up to 25:59:59; RFC 3339's
    /// hours are 00-23 and its offsets carry no seconds.
    #[test]
    fn rejects_offsets_outside_rfc3339() {
        for bad in [
            "2026-11-22T10:15:30+25:00",
            "2026-01-01T10:00:00+25:00",
            "2026-11-22T10:15:30-24:00",
            "2026-11-22T10:15:30.120+24:00",
            "2026-11-22T10:15:30+05:60",
            "2026-11-22T10:15:30+05:30:15",
            "2026-11-22T10:15:30+0530",
        ] {
            let err = parse_rfc3339(bad).unwrap_err();
            assert!(err.contains("offset"), "{bad}: {err}");
        }
        for good in ["2026-11-22T10:15:30+23:59", "2026-11-22T10:15:30-23:59", "2026-11-22T10:15:30.5-00:00"] {
            assert!(parse_rfc3339(good).is_ok(), "{good}");
        }
        assert_eq!(ts("2026-11-22T10:15:30+23:59"), ts("2026-11-21T10:16:30Z"));
    }

    #[test]
    fn presets_follow_the_tenant_day() {
        let kolkata = time_zone("Asia/Kolkata").unwrap();
        // 2026-11-22 01:00 in Kolkata is 2026-11-21 19:30 UTC.
        let now = ts("2026-11-21T19:30:00Z");
        let today = RangePreset::Today.bounds(now, &kolkata);
        assert_eq!(today.from, Some(ts("2026-11-21T18:30:00Z")));
        assert_eq!(today.to, None);
        let y = RangePreset::Yesterday.bounds(now, &kolkata);
        assert_eq!(y.from, Some(ts("2026-11-20T18:30:00Z")));
        assert_eq!(y.to, Some(ts("2026-11-21T18:30:00Z")));
        let w = RangePreset::Last7Days.bounds(now, &kolkata);
        assert_eq!(w.from, Some(ts("2026-11-15T18:30:00Z")));
        assert_eq!(RangePreset::All.bounds(now, &kolkata), TimeBounds::default());
        let utc = time_zone("UTC").unwrap();
        assert_eq!(RangePreset::Today.bounds(now, &utc).from, Some(ts("2026-11-21T00:00:00Z")));
    }

    #[test]
    fn date_bounds() {
        let paris = time_zone("Europe/Paris").unwrap();
        assert_eq!(parse_bound("2026-11-22", false, &paris).unwrap(), ts("2026-11-21T23:00:00Z"));
        assert_eq!(parse_bound("2026-11-22", true, &paris).unwrap(), ts("2026-11-22T23:00:00Z"));
        assert!(parse_bound("2026-13-01", false, &paris).is_err());
    }
}
