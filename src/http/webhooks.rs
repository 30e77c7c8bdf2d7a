//! `POST /api/v1/webhooks/mailgun`: Mailgun's event webhooks, JSON or legacy form bodies.
//!
//! No bearer token: the signature is the credential (see `crate::mailgun::receive`).
//! Answers 200 for processed, duplicate and deliberately ignored events, 400 for malformed
//! bodies, 401 for bad, stale or replayed signatures, 413 for bodies over 256 KiB, 415 for
//! other content types and 503 when storage fails (so Mailgun retries). Never 500.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::mailgun::effects::Effects;
use crate::mailgun::receive::{Accepted, Refused};
use crate::mailgun::webhook::{self, ParseError};

/// The largest webhook body accepted; Mailgun's are a few KiB.
pub const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/webhooks/mailgun",
        post(mailgun).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES)),
    )
}

#[tracing::instrument(skip_all, fields(event))]
async fn mailgun(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge("the body is too large".into()),
        _ => ApiError::BadRequest("the body could not be read".into()),
    })?;
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let hook = webhook::parse(content_type, &body).map_err(|error| {
        tracing::debug!(%error, "mailgun webhook refused");
        match error {
            ParseError::Malformed(_) => ApiError::BadRequest(error.to_string()),
            ParseError::Unsupported => ApiError::Unsupported(error.to_string()),
        }
    })?;
    tracing::Span::current().record("event", tracing::field::debug(&hook.event.kind));

    let effects = Effects {
        store: &state.store,
        recorder: &state.recorder,
        tokens: &state.tokens,
        base_url: &state.mailer.base_url,
    };
    let answer = match state.mailgun.receive(&effects, &hook).await {
        Ok(Accepted::Processed) => json!({ "status": "processed" }),
        Ok(Accepted::Duplicate) => json!({ "status": "duplicate" }),
        Ok(Accepted::Ignored(why)) => json!({ "status": "ignored", "reason": why }),
        Err(Refused::Untrusted(why)) => return Err(ApiError::Unauthorized(why.into())),
        Err(Refused::Unavailable) => return Err(ApiError::Unavailable),
    };
    Ok(Json(answer))
}
