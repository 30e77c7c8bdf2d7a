//! The viewer's time zone and the range of a view, as the URL and cookies give them.
//!
//! The time zone is a fixed offset from UTC in minutes: `app.js` stores the browser's
//! current offset in the `mt_tz` cookie, and a `tz` query parameter overrides it. Times are
//! shown and the chart's days are cut in that offset. A custom range covers whole days in
//! it too; the presets (last 7, 30, 90 days, all) are rolling windows, the same in every
//! zone, and equal to the stats API's. A fixed offset ignores a daylight-saving change
//! inside the range, which moves that change's day boundaries by an hour.

use axum::http::HeaderMap;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use super::cookies;
use super::error::PageError;
use crate::stats::Range;
use crate::store::Window;

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A fixed offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tz {
    /// Minutes east of UTC, -14 h to +14 h.
    pub minutes: i32,
}

impl Tz {
    /// The `tz` query parameter if valid, else the `mt_tz` cookie, else UTC.
    pub fn of_request(query: Option<&str>, headers: &HeaderMap) -> Tz {
        let parse = |s: &str| s.trim().parse::<i32>().ok().filter(|m| m.abs() <= 14 * 60);
        let minutes = query
            .and_then(parse)
            .or_else(|| cookies::get(headers, cookies::TZ).and_then(parse))
            .unwrap_or(0);
        Tz { minutes }
    }

    pub fn offset_ms(self) -> i64 {
        i64::from(self.minutes) * 60_000
    }

    fn offset(self) -> UtcOffset {
        UtcOffset::from_whole_seconds(self.minutes * 60).unwrap_or(UtcOffset::UTC)
    }

    /// `UTC`, `UTC+02:00`, `UTC-05:30`.
    pub fn label(self) -> String {
        if self.minutes == 0 {
            return "UTC".into();
        }
        let sign = if self.minutes < 0 { '-' } else { '+' };
        let abs = self.minutes.abs();
        format!("UTC{sign}{:02}:{:02}", abs / 60, abs % 60)
    }

    fn local(self, ms: i64) -> OffsetDateTime {
        let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        utc.to_offset(self.offset())
    }

    /// A moment as `2026-03-01 14:05` in this zone.
    pub fn datetime(self, ms: i64) -> String {
        let format = format_description!("[year]-[month]-[day] [hour]:[minute]");
        self.local(ms).format(format).unwrap_or_default()
    }

    /// A moment to the second, for event timelines.
    pub fn datetime_seconds(self, ms: i64) -> String {
        let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        self.local(ms).format(format).unwrap_or_default()
    }

    /// The local day number (days since 1970-01-01 in this zone) of a moment.
    pub fn day_of(self, ms: i64) -> i64 {
        (ms + self.offset_ms()).div_euclid(DAY_MS)
    }

    /// The local date of a moment, `YYYY-MM-DD`.
    pub fn date(self, ms: i64) -> String {
        self.local(ms).date().to_string()
    }
}

/// A day number as `YYYY-MM-DD`.
pub fn day_label(day: i64) -> String {
    OffsetDateTime::from_unix_timestamp(day * 86_400)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// The range part of a page's query: `range=7d|30d|90d|all|custom`, with `from` and `to`
/// dates for custom.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RangeParams {
    pub range: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A range resolved against now and the viewer's zone.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub range: Range,
    pub window: Window,
    /// What the dropdown shows: `7d`, `30d`, `90d`, `all` or `custom`.
    pub choice: &'static str,
    /// The custom dates, or the dates a preset covers, for the date inputs.
    pub from: String,
    pub to: String,
    /// Readable: "Last 30 days", "All time", "2026-01-01 to 2026-01-31".
    pub title: String,
}

impl RangeParams {
    /// Reads the range with the stats API's own parser. A preset in `range` wins over
    /// stray dates, so a form that sends both does what its dropdown says.
    pub fn resolve(&self, tz: Tz, now: OffsetDateTime) -> Result<Resolved, PageError> {
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let (from, to) = (given(&self.from), given(&self.to));
        let range = match given(&self.range) {
            Some("custom") | None if from.is_some() || to.is_some() => Range::parse(None, from, to),
            Some("custom") => {
                let why = "pick a from and a to date for a custom range";
                return Err(PageError::BadRequest(format!("Range: {why}.")));
            }
            preset => Range::parse(preset, None, None),
        }
        .map_err(|e| PageError::BadRequest(format!("Range: {e}.")))?;

        let mut window = range.window(now);
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let (choice, title) = match &range {
            Range::LastDays(7) => ("7d", "Last 7 days".to_string()),
            Range::LastDays(30) => ("30d", "Last 30 days".to_string()),
            Range::LastDays(90) => ("90d", "Last 90 days".to_string()),
            Range::LastDays(days) => ("custom", format!("Last {days} days")),
            Range::All => ("all", "All time".to_string()),
            Range::Custom { from, to } => {
                // Whole days in the viewer's zone, not in UTC.
                window.from -= tz.offset_ms();
                window.to -= tz.offset_ms();
                ("custom", format!("{from} to {to}"))
            }
        };
        let (from, to) = match &range {
            Range::Custom { from, to } => (from.to_string(), to.to_string()),
            Range::All => (String::new(), tz.date(now_ms)),
            Range::LastDays(_) => (tz.date(window.from), tz.date(now_ms)),
        };
        Ok(Resolved {
            range,
            window,
            choice,
            from,
            to,
            title,
        })
    }

    /// The query pairs that reproduce this range in a link.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(range) = &self.range {
            pairs.push(("range", range.clone()));
        }
        let custom = self.range.as_deref().is_none_or(|r| r == "custom");
        if custom {
            if let Some(from) = &self.from {
                pairs.push(("from", from.clone()));
            }
            if let Some(to) = &self.to {
                pairs.push(("to", to.clone()));
            }
        }
        pairs
    }
}

/// A query string (with its `?`) from pairs, empty values left out.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        serializer.append_pair(key, value);
    }
    let query = serializer.finish();
    if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    }
}

/// Today's date in a zone, for date inputs' `max`.
pub fn today(tz: Tz, now: OffsetDateTime) -> Date {
    now.to_offset(tz.offset()).date()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn params(range: Option<&str>, from: Option<&str>, to: Option<&str>) -> RangeParams {
        RangeParams {
            range: range.map(String::from),
            from: from.map(String::from),
            to: to.map(String::from),
        }
    }

    #[test]
    fn presets_match_the_api_and_custom_days_follow_the_zone() {
        let now = datetime!(2026-03-10 12:00 UTC);
        let paris = Tz { minutes: 60 };
        let week = params(Some("7d"), Some("2026-01-01"), Some("2026-01-02"));
        let resolved = week.resolve(paris, now).unwrap();
        assert_eq!(resolved.range, Range::LastDays(7));
        assert_eq!(resolved.window.from, Range::LastDays(7).window(now).from);

        let custom = params(Some("custom"), Some("2026-03-01"), Some("2026-03-01"));
        let resolved = custom.resolve(paris, now).unwrap();
        let utc_midnight = datetime!(2026-03-01 00:00 UTC).unix_timestamp() * 1000;
        assert_eq!(resolved.window.from, utc_midnight - 3_600_000);
        assert_eq!(resolved.window.to - resolved.window.from, DAY_MS);

        assert!(
            params(Some("custom"), None, None)
                .resolve(paris, now)
                .is_err()
        );
        assert!(params(Some("1y"), None, None).resolve(paris, now).is_err());
        let default = params(None, None, None).resolve(paris, now).unwrap();
        assert_eq!(default.choice, "30d");
    }

    #[test]
    fn zones_label_and_cut_days() {
        let tz = Tz { minutes: -330 };
        assert_eq!(tz.label(), "UTC-05:30");
        assert_eq!(Tz::default().label(), "UTC");
        assert_eq!(Tz { minutes: 60 }.datetime(0), "1970-01-01 01:00");
        assert_eq!(tz.day_of(0), -1);
        assert_eq!(day_label(0), "1970-01-01");
        assert_eq!(
            query_string(&[("a", "1 2".into()), ("b", String::new())]),
            "?a=1+2"
        );
    }
}
