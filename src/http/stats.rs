//! The stats API. Every query is scoped to the caller by `Caller::scope`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::Caller;
use super::json::QueryParams;
use super::{ApiError, AppState};
use crate::stats::{Figures, Range};
use crate::store::{ClickedLink, GroupBy, RecipientRow, Window};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stats/summary", get(summary))
        .route("/api/v1/stats/campaigns", get(campaigns))
        .route("/api/v1/stats/templates", get(templates))
        .route(
            "/api/v1/stats/campaigns/{id}/recipients",
            get(campaign_recipients),
        )
        .route(
            "/api/v1/stats/templates/{id}/recipients",
            get(template_recipients),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeQuery {
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

impl RangeQuery {
    fn range(&self) -> Result<(Range, Window), ApiError> {
        let range = Range::parse(
            self.range.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
        )
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let window = range.window(OffsetDateTime::now_utc());
        Ok((range, window))
    }
}

#[derive(Serialize)]
struct Summary {
    range: String,
    #[serde(flatten)]
    figures: Figures,
}

async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<RangeQuery>,
) -> Result<Json<Summary>, ApiError> {
    let (range, window) = query.range()?;
    let row = state.store.stats_summary(caller.scope(), window).await?;
    Ok(Json(Summary {
        range: range.label(),
        figures: Figures::from(&row),
    }))
}

#[derive(Serialize)]
struct Row {
    /// The campaign or template id; null for sends without one.
    id: Option<i64>,
    name: String,
    #[serde(flatten)]
    figures: Figures,
}

#[derive(Serialize)]
struct Rows {
    range: String,
    rows: Vec<Row>,
}

async fn rows(
    state: &AppState,
    caller: &Caller,
    query: &RangeQuery,
    group: GroupBy,
) -> Result<Json<Rows>, ApiError> {
    let (range, window) = query.range()?;
    let rows = state
        .store
        .stats_rows(caller.scope(), window, group)
        .await?;
    let none = match group {
        GroupBy::Campaign => "(no campaign)",
        GroupBy::Template => "(no template)",
    };
    let rows = rows
        .iter()
        .map(|row| Row {
            id: row.id,
            name: row.name.clone().unwrap_or_else(|| none.to_string()),
            figures: Figures::from(row),
        })
        .collect();
    Ok(Json(Rows {
        range: range.label(),
        rows,
    }))
}

async fn campaigns(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<RangeQuery>,
) -> Result<Json<Rows>, ApiError> {
    rows(&state, &caller, &query, GroupBy::Campaign).await
}

async fn templates(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<RangeQuery>,
) -> Result<Json<Rows>, ApiError> {
    rows(&state, &caller, &query, GroupBy::Template).await
}

#[derive(Serialize)]
struct Recipients {
    range: String,
    page: i64,
    per_page: i64,
    recipients: Vec<Recipient>,
}

#[derive(Serialize)]
struct Recipient {
    #[serde(flatten)]
    row: RecipientRow,
    /// The links this recipient clicked, by position, with counted clicks.
    clicked_links: Vec<ClickedLink>,
}

async fn recipients(
    state: &AppState,
    caller: &Caller,
    query: &RangeQuery,
    group: GroupBy,
    id: &str,
) -> Result<Json<Recipients>, ApiError> {
    // `none` lists the sends that belong to no campaign or template.
    let group_id = match id {
        "none" => None,
        id => Some(
            id.parse::<i64>()
                .map_err(|_| ApiError::BadRequest(format!("{id:?} is not an id (or `none`)")))?,
        ),
    };
    let (range, window) = query.range()?;
    // Bounded so the offset never overflows: no one pages past a million pages.
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let per_page = query.per_page.unwrap_or(50).clamp(1, 500);
    let recipients = state
        .store
        .stats_recipients(
            caller.scope(),
            window,
            group,
            group_id,
            per_page,
            (page - 1) * per_page,
        )
        .await?;
    let send_ids: Vec<i64> = recipients.iter().map(|r| r.send_id).collect();
    let mut clicked = state.store.clicked_links(&send_ids).await?;
    let recipients = recipients
        .into_iter()
        .map(|row| {
            let (mine, rest) = clicked.drain(..).partition(|l| l.send_id == row.send_id);
            clicked = rest;
            Recipient {
                row,
                clicked_links: mine,
            }
        })
        .collect();
    Ok(Json(Recipients {
        range: range.label(),
        page,
        per_page,
        recipients,
    }))
}

async fn campaign_recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<RangeQuery>,
) -> Result<Json<Recipients>, ApiError> {
    recipients(&state, &caller, &query, GroupBy::Campaign, &id).await
}

async fn template_recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<RangeQuery>,
) -> Result<Json<Recipients>, ApiError> {
    recipients(&state, &caller, &query, GroupBy::Template, &id).await
}
