//! The date range of a stats view: `7d`, `30d`, `90d`, `all`, or custom `from`/`to` dates.

use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use crate::store::Window;

/// A range as the caller asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    LastDays(u32),
    All,
    /// Whole days, both ends included.
    Custom {
        from: Date,
        to: Date,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RangeError {
    #[error("unknown range {0:?}: use 7d, 30d, 90d or all, or from and to dates")]
    Unknown(String),
    #[error("{0:?} is not a date like 2026-01-31 (between years 1970 and 9998)")]
    BadDate(String),
    #[error("`from` and `to` must be given together")]
    HalfCustom,
    #[error("`from` is after `to`")]
    Backwards,
}

impl Range {
    /// Reads `range`, `from` and `to` query parameters; no parameters means 30 days.
    pub fn parse(
        range: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Range, RangeError> {
        let date = |s: &str| {
            Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
                .map_err(|_| RangeError::BadDate(s.to_string()))
        };
        match (from, to) {
            (Some(from), Some(to)) => {
                let (from, to) = (date(from)?, date(to)?);
                for day in [from, to] {
                    if !(1970..=9998).contains(&day.year()) {
                        return Err(RangeError::BadDate(day.to_string()));
                    }
                }
                if from > to {
                    return Err(RangeError::Backwards);
                }
                return Ok(Range::Custom { from, to });
            }
            (Some(_), None) | (None, Some(_)) => return Err(RangeError::HalfCustom),
            (None, None) => {}
        }
        match range.map(str::trim).unwrap_or("30d") {
            "7d" => Ok(Range::LastDays(7)),
            "30d" => Ok(Range::LastDays(30)),
            "90d" => Ok(Range::LastDays(90)),
            "all" => Ok(Range::All),
            other => Err(RangeError::Unknown(other.to_string())),
        }
    }

    /// The send-time window this range covers at `now`, in UTC.
    pub fn window(&self, now: OffsetDateTime) -> Window {
        let ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
        match self {
            Range::LastDays(days) => Window {
                from: ms(now - Duration::days(i64::from(*days))),
                to: ms(now) + 1,
            },
            Range::All => Window {
                from: i64::MIN,
                to: i64::MAX,
            },
            Range::Custom { from, to } => Window {
                from: ms(from.midnight().assume_utc()),
                // `parse` keeps dates inside years 1970 to 9998, so the next day exists.
                to: ms(to.midnight().assume_utc() + Duration::days(1)),
            },
        }
    }

    /// The range as it would be written in a URL.
    pub fn label(&self) -> String {
        match self {
            Range::LastDays(days) => format!("{days}d"),
            Range::All => "all".into(),
            Range::Custom { from, to } => format!("{from}..{to}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_and_custom_dates() {
        assert_eq!(Range::parse(None, None, None), Ok(Range::LastDays(30)));
        assert_eq!(Range::parse(Some("7d"), None, None), Ok(Range::LastDays(7)));
        assert_eq!(Range::parse(Some("all"), None, None), Ok(Range::All));
        let custom = Range::parse(None, Some("2026-01-01"), Some("2026-01-31")).unwrap();
        let window = custom.window(OffsetDateTime::now_utc());
        assert_eq!(window.to - window.from, 31 * 24 * 3600 * 1000);
        assert_eq!(
            Range::parse(Some("1y"), None, None),
            Err(RangeError::Unknown("1y".into()))
        );
        assert_eq!(
            Range::parse(None, Some("2026-02-01"), None),
            Err(RangeError::HalfCustom)
        );
        assert!(matches!(
            Range::parse(None, Some("2026-02-01"), Some("2026-01-01")),
            Err(RangeError::Backwards)
        ));
        assert!(matches!(
            Range::parse(None, Some("yesterday"), Some("2026-01-01")),
            Err(RangeError::BadDate(_))
        ));
        for (from, to) in [("2026-01-01", "9999-12-31"), ("-9999-01-01", "2026-01-01")] {
            assert!(matches!(
                Range::parse(None, Some(from), Some(to)),
                Err(RangeError::BadDate(_))
            ));
        }
    }
}
