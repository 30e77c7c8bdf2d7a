//! The chart of opens and clicks per day: inline SVG drawn on the server, so it needs no
//! script and prints as it shows. Days without activity are drawn as zero.

use std::fmt::Write;

use super::viewer::day_label;
use crate::store::DayCount;

/// At most this many days are drawn; older days of a long range are cut from the chart
/// (never from the figures), so a years-long "All time" stays readable.
const MAX_DAYS: i64 = 366;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// The series of one chart, every day from `first` to `last` present.
#[derive(Debug, Clone)]
pub struct Series {
    pub days: Vec<DayCount>,
}

impl Series {
    /// Fills the days between `first` and `last` (local day numbers), widened to the days
    /// that have counts, and cut to the latest `MAX_DAYS`.
    pub fn fill(counts: &[DayCount], first: i64, last: i64) -> Series {
        let first = counts.first().map_or(first, |c| c.day.min(first));
        let last = counts.last().map_or(last, |c| c.day.max(last));
        // At least a week, so a single day still draws as lines.
        let first = first.min(last - 6).max(last - MAX_DAYS + 1);
        let mut days: Vec<DayCount> = (first..=last)
            .map(|day| DayCount {
                day,
                opened: 0,
                clicked: 0,
            })
            .collect();
        for count in counts.iter().filter(|c| c.day >= first) {
            days[(count.day - first) as usize] = *count;
        }
        Series { days }
    }

    pub fn total_opened(&self) -> i64 {
        self.days.iter().map(|d| d.opened).sum()
    }

    pub fn total_clicked(&self) -> i64 {
        self.days.iter().map(|d| d.clicked).sum()
    }

    /// The days with any activity, for the table behind the chart.
    pub fn active_days(&self) -> Vec<(String, i64, i64)> {
        self.days
            .iter()
            .filter(|d| d.opened > 0 || d.clicked > 0)
            .map(|d| (day_label(d.day), d.opened, d.clicked))
            .collect()
    }

    /// The chart as an `<svg>` element. Everything in it is numbers and dates.
    pub fn svg(&self) -> String {
        let max = self
            .days
            .iter()
            .map(|d| d.opened.max(d.clicked))
            .max()
            .unwrap_or(0)
            .max(1);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let steps = (self.days.len().max(2) - 1) as f64;
        let x = |i: usize| LEFT + plot_w * i as f64 / steps;
        let y = |v: i64| TOP + plot_h - plot_h * v as f64 / max as f64;

        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
            aria-labelledby=\"chart-title\">\
            <title id=\"chart-title\">First opens ({}) and first clicks ({}) per day</title>",
            self.total_opened(),
            self.total_clicked()
        );
        for tick in [0, max / 2, max] {
            let ty = y(tick);
            let _ = write!(
                svg,
                "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/>\
                <text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{tick}</text>",
                WIDTH - RIGHT,
                LEFT - 6.0,
                ty + 4.0
            );
        }
        let last = self.days.len().saturating_sub(1);
        let mut labelled = vec![0, last];
        if last >= 4 {
            labelled.insert(1, last / 2);
        }
        for (n, i) in labelled.into_iter().enumerate() {
            let anchor = ["start", "middle", "end"][n.min(2)];
            let anchor = if i == last { "end" } else { anchor };
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
                x(i),
                HEIGHT - 8.0,
                day_label(self.days[i].day)
            );
        }
        for (class, value) in [
            ("opens", (|d: &DayCount| d.opened) as fn(&DayCount) -> i64),
            ("clicks", |d: &DayCount| d.clicked),
        ] {
            let points: Vec<String> = self
                .days
                .iter()
                .enumerate()
                .map(|(i, d)| format!("{:.1},{:.1}", x(i), y(value(d))))
                .collect();
            let _ = write!(
                svg,
                "<polyline class=\"{class}\" fill=\"none\" points=\"{}\"/>",
                points.join(" ")
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_gaps_and_draws() {
        let counts = [
            DayCount {
                day: 10,
                opened: 3,
                clicked: 1,
            },
            DayCount {
                day: 13,
                opened: 1,
                clicked: 0,
            },
        ];
        let series = Series::fill(&counts, 9, 14);
        assert_eq!(series.days.len(), 7);
        assert_eq!(series.days[2].opened, 3);
        assert_eq!(series.total_opened(), 4);
        assert_eq!(series.active_days().len(), 2);
        let svg = series.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);

        let long = Series::fill(&[], 0, 5000);
        assert_eq!(long.days.len() as i64, MAX_DAYS);
        assert!(Series::fill(&[], 3, 3).svg().contains("polyline"));
    }
}
