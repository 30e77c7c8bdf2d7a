//! The CRM page's Stats tab: four summary cards, the table by campaign or by template, the
//! Range dropdown and the chart of opens and clicks per day.
//!
//! It reads `stats_summary`, `stats_rows` and `stats_daily` under `SignedIn::scope`, the
//! stats API's scope, with the API's `Range` parser, so its figures are the API's.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;

use super::chart::Series;
use super::error::PageResult;
use super::layout::{self, Chrome, Tab};
use super::session::SignedIn;
use super::table::{self, Column, Sort, TableRow, View, count, percent};
use super::viewer::{RangeParams, Resolved, Tz, query_string, today};
use crate::http::AppState;
use crate::stats::Figures;
use crate::store::StatsRow;

pub const PATH: &str = "/crm/stats";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(stats_tab))
}

/// The query of the Stats tab; also read by the CSV export and the drill-down.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatsQuery {
    pub view: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub tz: Option<String>,
    #[serde(flatten)]
    pub range: RangeParams,
}

/// One summary card.
pub struct Card {
    pub label: &'static str,
    pub value: String,
    pub detail: String,
}

/// A sortable column header.
pub struct Header {
    pub label: &'static str,
    pub href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub aria_sort: &'static str,
    pub arrow: &'static str,
    pub numeric: bool,
}

/// A table row as shown.
pub struct Cells {
    pub name: String,
    pub href: String,
    pub untracked: i64,
    pub values: Vec<String>,
}

impl Cells {
    fn of(figures: &Figures, name: String, href: String) -> Cells {
        let tracked = figures.tracked;
        let values = vec![
            count(figures.sends),
            count(figures.opened),
            percent(figures.open_rate, tracked),
            percent(figures.mpp_share, figures.opens + figures.mpp_opens),
            count(figures.clicked),
            percent(figures.click_rate, tracked),
            count(figures.failed),
            count(figures.complaints),
            count(figures.unsubscribes),
            count(figures.filtered),
        ];
        Cells {
            name,
            href,
            untracked: figures.untracked,
            values,
        }
    }
}

/// The Range dropdown's state.
pub struct RangeControl {
    pub choice: &'static str,
    pub from: String,
    pub to: String,
    pub max: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    chrome: Chrome,
    view: &'static str,
    noun: &'static str,
    campaigns_href: String,
    templates_href: String,
    csv_href: String,
    range: RangeControl,
    range_action: &'static str,
    range_hidden: Vec<(&'static str, String)>,
    tz_label: String,
    cards: Vec<Card>,
    headers: Vec<Header>,
    rows: Vec<Cells>,
    totals: Cells,
    untracked: i64,
    chart_svg: String,
    chart_days: Vec<(String, i64, i64)>,
    chart_opened: i64,
    chart_clicked: i64,
}

/// What the Stats tab and its exports have resolved from a request.
pub struct Resolution {
    pub view: View,
    pub sort: Sort,
    pub tz: Tz,
    pub range: Resolved,
}

impl StatsQuery {
    pub fn resolve(&self, headers: &HeaderMap) -> PageResult<Resolution> {
        let tz = Tz::of_request(self.tz.as_deref(), headers);
        Ok(Resolution {
            view: View::parse(self.view.as_deref())?,
            sort: Sort::parse(self.sort.as_deref(), self.dir.as_deref()),
            tz,
            range: self.range.resolve(tz, OffsetDateTime::now_utc())?,
        })
    }

    /// What the Range form carries along besides the range: view, order and zone.
    pub fn hidden_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("view", &self.view),
            ("sort", &self.sort),
            ("dir", &self.dir),
            ("tz", &self.tz),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect()
    }

    /// A link to a path with this query's range, plus `extra` pairs.
    pub fn href(&self, path: &str, extra: &[(&'static str, String)]) -> String {
        let mut pairs = extra.to_vec();
        pairs.extend(self.range.pairs());
        if let Some(tz) = &self.tz {
            pairs.push(("tz", tz.clone()));
        }
        format!("{path}{}", query_string(&pairs))
    }
}

/// The rows of the table, sorted; shared with the CSV export.
pub async fn load_rows(
    state: &AppState,
    signed_in: &SignedIn,
    resolution: &Resolution,
) -> PageResult<Vec<TableRow>> {
    let rows = state
        .store
        .stats_rows(
            signed_in.scope(),
            resolution.range.window,
            resolution.view.group(),
        )
        .await?;
    Ok(table_rows(&rows, resolution))
}

/// The table's rows from the store's, sorted as asked.
fn table_rows(rows: &[StatsRow], resolution: &Resolution) -> Vec<TableRow> {
    let mut rows: Vec<TableRow> = rows
        .iter()
        .map(|r| TableRow::from_stats(r, resolution.view))
        .collect();
    table::sort_rows(&mut rows, resolution.sort);
    rows
}

#[tracing::instrument(skip_all, fields(user.id = signed_in.user.id))]
async fn stats_tab(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> PageResult<Html<String>> {
    let resolution = query.resolve(&headers)?;
    let (view, sort, tz) = (resolution.view, resolution.sort, resolution.tz);
    let window = resolution.range.window;
    let scope = signed_in.scope();

    // The cards are the table's rows added up: one pass over the sends, not two.
    let (stats_rows, daily) = tokio::try_join!(
        state.store.stats_rows(scope, window, view.group()),
        state.store.stats_daily(scope, window, tz.offset_ms()),
    )?;
    let summary = Figures::from(&StatsRow::total(&stats_rows));
    let rows = table_rows(&stats_rows, &resolution);

    let now_ms = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let last_day = tz.day_of(window.to.min(now_ms + 1) - 1);
    let first_day = if window.from == i64::MIN {
        last_day
    } else {
        tz.day_of(window.from)
    };
    let series = Series::fill(&daily, first_day, last_day);

    let with = |extra: &[(&'static str, String)]| query.href(PATH, extra);
    let view_pairs = |v: View| vec![("view", v.as_str().to_string())];
    let sort_pairs = vec![
        ("view", view.as_str().to_string()),
        ("sort", query.sort.clone().unwrap_or_default()),
        ("dir", query.dir.clone().unwrap_or_default()),
    ];
    let headers = Column::ALL
        .into_iter()
        .map(|column| header(column, sort, &with, view))
        .collect();
    let rows = rows
        .iter()
        .map(|row| {
            let path = format!("{PATH}/{}/{}", view.as_str(), row.key);
            let href = query.href(&path, &[]);
            Cells::of(&row.figures, row.name.clone(), href)
        })
        .collect();

    let page = StatsPage {
        chrome: Chrome::new(&signed_in, Tab::Stats, "Stats"),
        view: view.as_str(),
        noun: view.noun(),
        campaigns_href: with(&view_pairs(View::Campaigns)),
        templates_href: with(&view_pairs(View::Templates)),
        csv_href: query.href("/crm/stats.csv", &sort_pairs),
        range: RangeControl {
            choice: resolution.range.choice,
            from: resolution.range.from.clone(),
            to: resolution.range.to.clone(),
            max: today(tz, OffsetDateTime::now_utc()).to_string(),
            title: resolution.range.title.clone(),
        },
        range_action: PATH,
        range_hidden: query.hidden_pairs(),
        tz_label: tz.label(),
        cards: cards(&summary),
        headers,
        rows,
        totals: Cells::of(&summary, "All sends".into(), String::new()),
        untracked: summary.untracked,
        chart_svg: series.svg(),
        chart_days: series.active_days(),
        chart_opened: series.total_opened(),
        chart_clicked: series.total_clicked(),
    };
    layout::render(&page)
}

/// Builds a link to the Stats tab from extra query pairs.
type Linker<'a> = &'a dyn Fn(&[(&'static str, String)]) -> String;

fn header(column: Column, sort: Sort, with: Linker<'_>, view: View) -> Header {
    let active = sort.column == column;
    let next_dir = match (active, sort.descending, column) {
        (true, true, _) => "asc",
        (true, false, _) => "desc",
        (false, _, Column::Name) => "asc",
        (false, _, _) => "desc",
    };
    let (aria_sort, arrow) = match (active, sort.descending) {
        (false, _) => ("none", ""),
        (true, true) => ("descending", "▼"),
        (true, false) => ("ascending", "▲"),
    };
    Header {
        label: column.label(),
        href: with(&[
            ("view", view.as_str().to_string()),
            ("sort", column.key().to_string()),
            ("dir", next_dir.to_string()),
        ]),
        aria_sort,
        arrow,
        numeric: column != Column::Name,
    }
}

fn cards(summary: &Figures) -> Vec<Card> {
    let tracked = summary.tracked;
    let share = |part: i64| {
        if summary.sends == 0 {
            "0%".to_string()
        } else {
            format!("{:.1}%", part as f64 * 100.0 / summary.sends as f64)
        }
    };
    vec![
        Card {
            label: "Total sends",
            value: count(summary.sends),
            detail: format!(
                "{} tracked · {} untracked",
                count(tracked),
                count(summary.untracked)
            ),
        },
        Card {
            label: "Open rate",
            value: percent(summary.open_rate, tracked),
            detail: format!(
                "{} of {} tracked opened · {} Apple MPP opens apart",
                count(summary.opened),
                count(tracked),
                count(summary.mpp_opens)
            ),
        },
        Card {
            label: "Click rate",
            value: percent(summary.click_rate, tracked),
            detail: format!(
                "{} of {} tracked clicked",
                count(summary.clicked),
                count(tracked)
            ),
        },
        Card {
            label: "Failed / bounced",
            value: count(summary.failed),
            detail: format!("{} of all sends", share(summary.failed)),
        },
    ]
}
