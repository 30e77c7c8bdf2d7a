//! The Stats table: its two views, its columns, server-side sorting, and each row's figures
//! formatted for reading. Rates are over tracked sends only; a row without tracked sends
//! shows no rate rather than 0%.

use std::cmp::Ordering;

use super::error::PageError;
use crate::stats::Figures;
use crate::store::{GroupBy, StatsRow};

/// What the table groups by, as it appears in URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Campaigns,
    Templates,
}

impl View {
    pub fn parse(value: Option<&str>) -> Result<View, PageError> {
        match value.map(str::trim) {
            None | Some("") | Some("campaigns") => Ok(View::Campaigns),
            Some("templates") => Ok(View::Templates),
            Some(other) => Err(PageError::BadRequest(format!(
                "There is no {other:?} view: use campaigns or templates."
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            View::Campaigns => "campaigns",
            View::Templates => "templates",
        }
    }

    pub fn group(self) -> GroupBy {
        match self {
            View::Campaigns => GroupBy::Campaign,
            View::Templates => GroupBy::Template,
        }
    }

    /// The singular noun: "campaign" or "template".
    pub fn noun(self) -> &'static str {
        match self {
            View::Campaigns => "campaign",
            View::Templates => "template",
        }
    }

    /// The name of the row of sends that belong to no campaign or template.
    pub fn none_label(self) -> &'static str {
        match self {
            View::Campaigns => "(no campaign)",
            View::Templates => "(no template)",
        }
    }
}

/// A sortable column: its URL key and header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Name,
    Sends,
    Opened,
    OpenRate,
    MppShare,
    Clicked,
    ClickRate,
    Failed,
    Complaints,
    Unsubscribes,
    Filtered,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::Name,
        Column::Sends,
        Column::Opened,
        Column::OpenRate,
        Column::MppShare,
        Column::Clicked,
        Column::ClickRate,
        Column::Failed,
        Column::Complaints,
        Column::Unsubscribes,
        Column::Filtered,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Sends => "sends",
            Column::Opened => "opened",
            Column::OpenRate => "open_rate",
            Column::MppShare => "mpp_share",
            Column::Clicked => "clicked",
            Column::ClickRate => "click_rate",
            Column::Failed => "failed",
            Column::Complaints => "complaints",
            Column::Unsubscribes => "unsubscribes",
            Column::Filtered => "filtered",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::Sends => "Sends",
            Column::Opened => "Opened",
            Column::OpenRate => "Open rate",
            Column::MppShare => "MPP share",
            Column::Clicked => "Clicked",
            Column::ClickRate => "Click rate",
            Column::Failed => "Failed / bounced",
            Column::Complaints => "Complaints",
            Column::Unsubscribes => "Unsubscribes",
            Column::Filtered => "Filtered hits",
        }
    }

    fn compare(self, a: &TableRow, b: &TableRow) -> Ordering {
        let (x, y) = (&a.figures, &b.figures);
        let float = |p: f64, q: f64| p.partial_cmp(&q).unwrap_or(Ordering::Equal);
        match self {
            Column::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            Column::Sends => x.sends.cmp(&y.sends),
            Column::Opened => x.opened.cmp(&y.opened),
            Column::OpenRate => float(x.open_rate, y.open_rate),
            Column::MppShare => float(x.mpp_share, y.mpp_share),
            Column::Clicked => x.clicked.cmp(&y.clicked),
            Column::ClickRate => float(x.click_rate, y.click_rate),
            Column::Failed => x.failed.cmp(&y.failed),
            Column::Complaints => x.complaints.cmp(&y.complaints),
            Column::Unsubscribes => x.unsubscribes.cmp(&y.unsubscribes),
            Column::Filtered => x.filtered.cmp(&y.filtered),
        }
    }
}

/// The order of the table, from `sort` and `dir` in the URL; sends, most first, by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Sort {
    pub fn parse(sort: Option<&str>, dir: Option<&str>) -> Sort {
        let column = Column::ALL
            .into_iter()
            .find(|c| Some(c.key()) == sort)
            .unwrap_or(Column::Sends);
        let descending = match dir {
            Some("asc") => false,
            Some("desc") => true,
            _ => column != Column::Name,
        };
        Sort { column, descending }
    }
}

/// One campaign or template with its figures.
#[derive(Debug, Clone)]
pub struct TableRow {
    /// `5`, or `none` for the sends without a campaign or template; used in URLs.
    pub key: String,
    pub name: String,
    pub figures: Figures,
}

impl TableRow {
    pub fn from_stats(row: &StatsRow, view: View) -> TableRow {
        TableRow {
            key: row.id.map_or_else(|| "none".into(), |id| id.to_string()),
            name: row.name.clone().unwrap_or_else(|| view.none_label().into()),
            figures: Figures::from(row),
        }
    }
}

/// Sorts rows, ties broken by name so the order is stable across reloads.
pub fn sort_rows(rows: &mut [TableRow], sort: Sort) {
    rows.sort_by(|a, b| {
        let order = sort.column.compare(a, b);
        let order = if sort.descending {
            order.reverse()
        } else {
            order
        };
        order.then_with(|| a.name.cmp(&b.name))
    });
}

/// A rate as a percentage with one decimal, or a dash when nothing was tracked.
pub fn percent(rate: f64, tracked: i64) -> String {
    if tracked == 0 {
        return "—".into();
    }
    format!("{:.1}%", rate * 100.0)
}

/// Whole numbers with thin grouping: 100000 as 100,000.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, sends: i64, opened: i64, tracked: i64) -> TableRow {
        let stats = StatsRow {
            id: Some(1),
            name: Some(name.into()),
            sends,
            tracked,
            opened,
            ..StatsRow::default()
        };
        TableRow::from_stats(&stats, View::Campaigns)
    }

    #[test]
    fn sorts_by_any_column_both_ways() {
        let mut rows = vec![row("b", 10, 1, 10), row("a", 5, 4, 5), row("c", 7, 0, 0)];
        sort_rows(&mut rows, Sort::parse(None, None));
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["b", "c", "a"]);
        sort_rows(&mut rows, Sort::parse(Some("open_rate"), Some("desc")));
        assert_eq!(rows[0].name, "a");
        sort_rows(&mut rows, Sort::parse(Some("name"), None));
        assert_eq!(rows[0].name, "a");
        assert_eq!(Sort::parse(Some("bogus"), None).column, Column::Sends);
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(count(100_000), "100,000");
        assert_eq!(count(999), "999");
        assert_eq!(count(-1234), "-1,234");
        assert_eq!(percent(0.4251, 10), "42.5%");
        assert_eq!(percent(0.0, 0), "—");
        assert!(View::parse(Some("nope")).is_err());
    }
}
