//! `POST /api/v1/sends` to send one email, `GET /api/v1/sends/{id}` to see what became of it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::json::JsonBody;
use super::{ApiError, AppState};
use crate::sending::Draft;
use crate::store::{self, EventRow, LinkRow, SendRow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sends", post(create_send))
        .route("/api/v1/sends/{id}", get(show_send))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    to: String,
    #[serde(default)]
    to_name: String,
    subject: String,
    html: String,
    text: Option<String>,
    campaign: Option<String>,
    template: Option<String>,
    /// `false` sends this one email untracked, whatever the server's setting.
    track: Option<bool>,
}

#[derive(Serialize)]
struct SendAnswer {
    id: i64,
    tracked: bool,
    status: String,
    error: Option<String>,
    instrumentation: Instrumentation,
    warnings: Vec<String>,
}

/// Why each link is or is not tracked, so an author can see it at once.
#[derive(Serialize)]
struct Instrumentation {
    links_found: usize,
    links_rewritten: usize,
    links_left_alone: usize,
    rewritten: Vec<RewrittenLink>,
    left_alone: Vec<LeftAlone>,
}

#[derive(Serialize)]
struct RewrittenLink {
    position: u32,
    url: String,
}

#[derive(Serialize)]
struct LeftAlone {
    href: String,
    reason: &'static str,
}

async fn create_send(
    State(state): State<AppState>,
    Caller(user): Caller,
    JsonBody(body): JsonBody<SendBody>,
) -> Result<(StatusCode, Json<SendAnswer>), ApiError> {
    let draft = Draft {
        to: body.to,
        to_name: body.to_name,
        subject: body.subject,
        html: body.html,
        text: body.text,
        campaign: body.campaign,
        template: body.template,
        track: body.track.unwrap_or(true),
    };
    let report = state.mailer.send(&user, &draft).await?;

    let rewritten: Vec<RewrittenLink> = report
        .links
        .into_iter()
        .map(|l| RewrittenLink {
            position: l.position,
            url: l.url,
        })
        .collect();
    let left_alone: Vec<LeftAlone> = report
        .skipped
        .into_iter()
        .map(|s| LeftAlone {
            href: s.href,
            reason: s.reason.as_str(),
        })
        .collect();
    let answer = SendAnswer {
        id: report.id,
        tracked: report.tracked,
        status: report.status,
        error: report.error,
        instrumentation: Instrumentation {
            links_found: rewritten.len() + left_alone.len(),
            links_rewritten: rewritten.len(),
            links_left_alone: left_alone.len(),
            rewritten,
            left_alone,
        },
        warnings: report.warnings,
    };
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Serialize)]
struct SendDetail {
    #[serde(flatten)]
    send: SendRow,
    links: Vec<LinkRow>,
    events: Vec<EventRow>,
}

async fn show_send(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SendDetail>, ApiError> {
    let not_found = || ApiError::NotFound(format!("no send {id}"));
    let send_id: i64 = id.parse().map_err(|_| not_found())?;
    let send = match state.store.send(send_id).await {
        Ok(send) => send,
        Err(store::Error::NotFound) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let scope = caller.scope();
    let visible =
        send.org_id == scope.org_id && scope.sender_id.is_none_or(|id| id == send.sender_id);
    if !visible {
        return Err(not_found());
    }
    let links = state.store.links(send_id).await?;
    let events = state.store.events(send_id).await?;
    Ok(Json(SendDetail {
        send,
        links,
        events,
    }))
}
