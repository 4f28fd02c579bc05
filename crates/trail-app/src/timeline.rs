//! The timeline: a filtered view's events counted per hour, day, month or year of the tenant's
//! time zone ([`count`]), and the bucket arithmetic under it: where the intervals of a zone begin
//! over a range, and the interval that fits a range in [`MAX_BUCKETS`] buckets.
//!
//! The API's timeline (`/reports/timeline`), a person's statistics and the console's activity
//! chart all count here; they differ only in whether a range too long for the interval asked
//! takes a longer one ([`Coarsen`]), and in how they show the buckets.

use jiff::{Timestamp, ToSpan, Zoned, tz::TimeZone};
use trail_core::{TenantId, filter::Filter};

use trail_store::Store;

use crate::{AppError, AppResult, Invalid};

/// The most buckets one answer may hold.
pub const MAX_BUCKETS: usize = 10_000;

/// The length of a timeline's buckets. Days, months and years follow the zone's calendar.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Interval {
    Hour,
    Day,
    Month,
    Year,
}

impl Interval {
    pub fn parse(s: &str) -> Option<Interval> {
        Some(match s {
            "hour" => Interval::Hour,
            "day" => Interval::Day,
            "month" => Interval::Month,
            "year" => Interval::Year,
            _ => return None,
        })
    }

    /// The interval a request's `interval` parameter names.
    pub fn from_param(s: &str) -> AppResult<Interval> {
        Interval::parse(s).ok_or_else(|| {
            AppError::invalid(Invalid::Parameter, format!("interval {s:?} is invalid: use hour, day, month or year"))
                .with_field("interval")
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Hour => "hour",
            Interval::Day => "day",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    /// The next longer interval.
    fn coarser(self) -> Option<Interval> {
        match self {
            Interval::Hour => Some(Interval::Day),
            Interval::Day => Some(Interval::Month),
            Interval::Month => Some(Interval::Year),
            Interval::Year => None,
        }
    }

    /// More than the longest the interval can last, in seconds (a day may last 25 hours), so
    /// that a range this many times as long surely holds more than that many buckets.
    fn max_seconds(self) -> i64 {
        match self {
            Interval::Hour => 2 * 3_600,
            Interval::Day => 26 * 3_600,
            Interval::Month => 32 * 86_400,
            Interval::Year => 367 * 86_400,
        }
    }
}

/// The start of the bucket holding `at`.
fn floor(at: Timestamp, interval: Interval, tz: &TimeZone) -> Option<Zoned> {
    let z = at.to_zoned(tz.clone());
    match interval {
        Interval::Hour => z.with().minute(0).second(0).subsec_nanosecond(0).build().ok(),
        Interval::Day => z.start_of_day().ok(),
        Interval::Month => z.first_of_month().ok()?.start_of_day().ok(),
        Interval::Year => z.first_of_year().ok()?.start_of_day().ok(),
    }
}

/// The start of the bucket after the one starting at `z`.
fn next(z: &Zoned, interval: Interval, tz: &TimeZone) -> Option<Zoned> {
    let day_start = |d: jiff::civil::Date| d.to_zoned(tz.clone()).ok()?.start_of_day().ok();
    match interval {
        Interval::Hour => z.checked_add(1.hour()).ok(),
        Interval::Day => day_start(z.date().tomorrow().ok()?),
        Interval::Month => day_start(z.date().first_of_month().checked_add(1.month()).ok()?),
        Interval::Year => day_start(z.date().first_of_year().checked_add(1.year()).ok()?),
    }
}

/// Why a range has no boundaries of an interval.
#[derive(Debug, PartialEq)]
pub enum BoundsError {
    /// More than [`MAX_BUCKETS`] of them.
    TooMany,
    /// The range reaches past the dates Trail can compute with.
    OutOfRange(&'static str),
}

/// Bucket boundaries covering `[from, to)`: the first is at or before `from`, the last at or
/// after `to`. Days follow the zone's calendar (a day may be 23 or 25 hours long).
pub fn boundaries(
    from: Timestamp,
    to: Timestamp,
    interval: Interval,
    tz: &TimeZone,
) -> Result<Vec<Timestamp>, BoundsError> {
    // Far too many is known without stepping through them all.
    if to.duration_since(from).as_secs() / interval.max_seconds() > MAX_BUCKETS as i64 + 1 {
        return Err(BoundsError::TooMany);
    }
    let mut z =
        floor(from, interval, tz).ok_or(BoundsError::OutOfRange("the range starts outside the supported dates"))?;
    let mut out = vec![z.timestamp()];
    while z.timestamp() < to {
        z = next(&z, interval, tz).ok_or(BoundsError::OutOfRange("the range ends outside the supported dates"))?;
        out.push(z.timestamp());
        if out.len() > MAX_BUCKETS + 1 {
            return Err(BoundsError::TooMany);
        }
    }
    Ok(out)
}

/// The boundaries of `interval` over `[from, to)`; or, when there are more than
/// [`MAX_BUCKETS`] and `coarsen` allows it, those of the shortest longer interval that fits
/// (which is then the interval answered). Without `coarsen`, a range too long is an error that
/// names the interval that would fit.
///
/// `coarsen` is for a range the caller did not choose the start of (`range=all` starts at the
/// tenant's first event, which may be decades back: one event dated 1970 or year 1 must not
/// make the timeline unanswerable).
pub fn fitted_boundaries(
    from: Timestamp,
    to: Timestamp,
    interval: Interval,
    tz: &TimeZone,
    coarsen: bool,
) -> Result<(Interval, Vec<Timestamp>), String> {
    let mut tried = interval;
    loop {
        match boundaries(from, to, tried, tz) {
            Ok(b) if tried == interval || coarsen => return Ok((tried, b)),
            Ok(_) => {
                return Err(format!(
                    "the range holds more than {MAX_BUCKETS} {}s: use interval={} or a shorter range",
                    interval.as_str(),
                    tried.as_str()
                ));
            }
            Err(BoundsError::OutOfRange(m)) => return Err(m.into()),
            Err(BoundsError::TooMany) => match tried.coarser() {
                Some(c) => tried = c,
                None => return Err(format!("the range holds more than {MAX_BUCKETS} years: use a shorter range")),
            },
        }
    }
}

/// When a range holds more than [`MAX_BUCKETS`] buckets of the interval asked, whether the
/// shortest longer interval that fits is used instead (see [`fitted_boundaries`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Coarsen {
    /// Only for a range whose start the caller did not choose (the API's timeline): a start
    /// they chose too far back is an error naming the interval that would fit.
    WhenOpen,
    /// Always (the console's chart, which draws whatever range it is given).
    Always,
}

/// One bucket: its first instant and the events in it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Bucket {
    pub start: Timestamp,
    pub count: u64,
}

/// Events counted per interval, oldest bucket first, with the interval used (longer than the
/// one asked when the range was coarsened). No buckets when the range is open and the log
/// has no events.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Timeline {
    pub interval: Interval,
    pub buckets: Vec<Bucket>,
}

/// A bucket as the API and the reports show it: its first instant written in the tenant's
/// time zone (`2026-11-22T00:00:00+01:00`), and its count.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
pub struct Row {
    /// The bucket's first instant, in the tenant's time zone.
    pub start: String,
    pub count: u64,
}

impl Timeline {
    /// The buckets as rows, their starts written in `tz`.
    pub fn rows(&self, tz: &TimeZone) -> Vec<Row> {
        let start = |b: &Bucket| b.start.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
        self.buckets.iter().map(|b| Row { start: start(b), count: b.count }).collect()
    }
}

/// The events `filter` selects in `t`'s log counted per `interval` of time zone `tz`, over the
/// filter's time range: from the tenant's first event when it has no start, to now when it has
/// no end. A range too long for `interval` is an invalid `interval` parameter unless `coarsen`
/// allows a longer one.
pub async fn count(
    store: &dyn Store,
    t: &TenantId,
    filter: &Filter,
    interval: Interval,
    tz: &TimeZone,
    coarsen: Coarsen,
) -> AppResult<Timeline> {
    let now = Timestamp::now();
    let from = match filter.time.from {
        Some(from) => Some(from),
        None => store.first_occurred_at(t).await?,
    };
    let to = filter.time.to.unwrap_or(now).max(from.unwrap_or(now));
    let Some(from) = from else { return Ok(Timeline { interval, buckets: Vec::new() }) };
    let coarsen = match coarsen {
        Coarsen::WhenOpen => filter.time.from.is_none(),
        Coarsen::Always => true,
    };
    let (interval, bounds) = fitted_boundaries(from, to, interval, tz, coarsen)
        .map_err(|m| AppError::invalid(Invalid::Parameter, m).with_field("interval"))?;
    let counts = store.count_buckets(t, filter, &bounds).await?;
    let buckets = bounds.into_iter().zip(counts).map(|(start, count)| Bucket { start, count }).collect();
    Ok(Timeline { interval, buckets })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_zone_calendar() {
        let tz = TimeZone::get("Europe/London").unwrap();
        // The clocks go back on 2026-10-25: that day has 25 hours.
        let b = boundaries(
            "2026-10-24T12:00:00Z".parse().unwrap(),
            "2026-10-26T12:00:00Z".parse().unwrap(),
            Interval::Day,
            &tz,
        )
        .unwrap();
        let expect: Vec<Timestamp> =
            ["2026-10-23T23:00:00Z", "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z", "2026-10-27T00:00:00Z"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        assert_eq!(b, expect);
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        let h = boundaries(
            "2026-11-22T10:10:00Z".parse().unwrap(),
            "2026-11-22T11:00:00Z".parse().unwrap(),
            Interval::Hour,
            &kolkata,
        )
        .unwrap();
        assert_eq!(h[0], "2026-11-22T09:30:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(h.len(), 3);
        assert_eq!(
            boundaries(
                "2000-01-01T00:00:00Z".parse().unwrap(),
                "2026-01-01T00:00:00Z".parse().unwrap(),
                Interval::Hour,
                &tz
            ),
            Err(BoundsError::TooMany)
        );
    }

    #[test]
    fn months_and_years_follow_the_zone_calendar() {
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        let m = boundaries(ts("2026-01-31T20:00:00Z"), ts("2026-03-01T00:00:00Z"), Interval::Month, &kolkata).unwrap();
        // 20:00 UTC on 31 January is 1 February in Kolkata.
        assert_eq!(m, [ts("2026-01-31T18:30:00Z"), ts("2026-02-28T18:30:00Z"), ts("2026-03-31T18:30:00Z")]);
        let y = boundaries(ts("2025-06-01T00:00:00Z"), ts("2026-06-01T00:00:00Z"), Interval::Year, &kolkata).unwrap();
        assert_eq!(y, [ts("2024-12-31T18:30:00Z"), ts("2025-12-31T18:30:00Z"), ts("2026-12-31T18:30:00Z")]);
    }

    /// Regression: after one event dated 1970 or year 1, `range=all` answered 400 "use
    /// interval=day" even with interval=day. An open start takes the shortest interval that
    /// fits; a start the caller chose is told which one would.
    #[test]
    fn an_open_start_decades_back_takes_a_longer_interval() {
        let utc = TimeZone::UTC;
        let ts = |s: &str| s.parse::<Timestamp>().unwrap();
        let now = ts("2026-11-22T10:00:00Z");
        for (first, asked, chosen) in [
            ("1970-01-01T00:00:00Z", Interval::Hour, Interval::Month),
            ("1970-01-01T00:00:00Z", Interval::Day, Interval::Month),
            ("0001-01-01T00:00:00Z", Interval::Hour, Interval::Year),
            ("0001-01-01T00:00:00Z", Interval::Day, Interval::Year),
            ("2026-11-01T00:00:00Z", Interval::Hour, Interval::Hour),
            ("2000-01-01T00:00:00Z", Interval::Day, Interval::Day),
        ] {
            let (got, b) = fitted_boundaries(ts(first), now, asked, &utc, true).unwrap();
            assert_eq!(got, chosen, "{first} by {asked:?}");
            assert!(b.len() <= MAX_BUCKETS + 1 && b[0] <= ts(first) && *b.last().unwrap() >= now);
        }
        let (_, years) = fitted_boundaries(ts("0001-01-01T00:00:00Z"), now, Interval::Day, &utc, true).unwrap();
        assert_eq!((years[0], years.len()), (ts("0001-01-01T00:00:00Z"), 2027));
        let err = fitted_boundaries(ts("1970-01-01T00:00:00Z"), now, Interval::Day, &utc, false).unwrap_err();
        assert!(err.contains("use interval=month"), "{err}");
    }
}
