//! CSV exports of the Stats table and of a drill-down, with the figures the pages show.
//! Rates are fractions (0.4251), as in the stats API. Text cells that a spreadsheet would
//! take for a formula are prefixed with `'`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::drill::{DrillQuery, Group, load_recipients};
use super::error::{PageError, PageResult};
use super::session::SignedIn;
use super::stats_page::{StatsQuery, load_rows};
use crate::http::AppState;

/// Recipients are read for export this many at a time.
const EXPORT_PAGE: i64 = 2_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/crm/stats.csv", get(table_csv))
        .route("/crm/stats/{view}/{id}/recipients.csv", get(recipients_csv))
}

/// A cell as written: formulas defused.
fn text(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

fn csv_response(filename: &str, writer: csv::Writer<Vec<u8>>) -> PageResult<Response> {
    let bytes = writer
        .into_inner()
        .map_err(|e| PageError::Internal(anyhow::anyhow!("writing csv: {e}")))?;
    let disposition = format!("attachment; filename=\"{filename}\"");
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

fn write_row<const N: usize>(
    writer: &mut csv::Writer<Vec<u8>>,
    row: [String; N],
) -> PageResult<()> {
    writer
        .write_record(row)
        .map_err(|e| PageError::Internal(e.into()))
}

#[tracing::instrument(skip_all, fields(user.id = signed_in.user.id))]
async fn table_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> PageResult<Response> {
    let resolution = query.resolve(&headers)?;
    let rows = load_rows(&state, &signed_in, &resolution).await?;

    let mut writer = csv::Writer::from_writer(Vec::new());
    write_row(
        &mut writer,
        [
            "id",
            "name",
            "sends",
            "tracked",
            "untracked",
            "opened",
            "open_rate",
            "mpp_opens",
            "mpp_share",
            "clicked",
            "click_rate",
            "failed",
            "complaints",
            "unsubscribes",
            "filtered",
        ]
        .map(String::from),
    )?;
    for row in &rows {
        let f = &row.figures;
        write_row(
            &mut writer,
            [
                row.key.clone(),
                text(&row.name),
                f.sends.to_string(),
                f.tracked.to_string(),
                f.untracked.to_string(),
                f.opened.to_string(),
                f.open_rate.to_string(),
                f.mpp_opens.to_string(),
                f.mpp_share.to_string(),
                f.clicked.to_string(),
                f.click_rate.to_string(),
                f.failed.to_string(),
                f.complaints.to_string(),
                f.unsubscribes.to_string(),
                f.filtered.to_string(),
            ],
        )?;
    }
    let filename = format!(
        "mailtally-{}-{}.csv",
        resolution.view.as_str(),
        resolution.range.range.label().replace("..", "_")
    );
    tracing::info!(rows = rows.len(), "stats table exported");
    csv_response(&filename, writer)
}

#[tracing::instrument(skip_all, fields(user.id = signed_in.user.id))]
async fn recipients_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path((view, id)): Path<(String, String)>,
    Query(query): Query<DrillQuery>,
) -> PageResult<Response> {
    let group = Group::parse(&view, &id)?;
    let resolution = query.stats.resolve(&headers)?;
    let (tz, window) = (resolution.tz, resolution.range.window);
    let scope = signed_in.scope();

    let mut writer = csv::Writer::from_writer(Vec::new());
    write_row(
        &mut writer,
        [
            "send_id",
            "email",
            "status",
            "tracked",
            "sent_at",
            "opens",
            "mpp_opens",
            "clicks",
            "filtered",
            "first_opened_at",
            "first_clicked_at",
            "last_activity_at",
            "clicked_links",
        ]
        .map(String::from),
    )?;
    let when = |t: Option<i64>| t.map(|t| tz.datetime_seconds(t)).unwrap_or_default();
    let mut offset = 0;
    loop {
        let page = load_recipients(&state, scope, window, &group, EXPORT_PAGE, offset).await?;
        let done = (page.len() as i64) < EXPORT_PAGE;
        offset += page.len() as i64;
        for (row, links, last) in page {
            write_row(
                &mut writer,
                [
                    row.send_id.to_string(),
                    text(&row.email),
                    row.status.clone(),
                    row.tracked.to_string(),
                    tz.datetime_seconds(row.sent_at),
                    row.opens.to_string(),
                    row.mpp_opens.to_string(),
                    row.clicks.to_string(),
                    row.filtered.to_string(),
                    when(row.first_opened_at),
                    when(row.first_clicked_at),
                    when(last),
                    text(&links.join(" ")),
                ],
            )?;
        }
        if done {
            break;
        }
    }
    let filename = format!(
        "mailtally-{}-{}-recipients.csv",
        group.view.noun(),
        group.key
    );
    tracing::info!(recipients = offset, "recipients exported");
    csv_response(&filename, writer)
}
