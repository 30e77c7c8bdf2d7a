//! Unsubscribe: a one-click POST (RFC 8058) unsubscribes at once; a GET shows a page with
//! one button. Neither is ever recorded as a click.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::track::Tracked;

pub fn router() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(confirm_page).post(unsubscribe))
}

async fn confirm_page(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    // A path that is not even text is just another unknown token.
    let token = token.map(|Path(token)| token).unwrap_or_default();
    if !matches!(
        state.tokens.verify(&token),
        Some(Tracked::Unsubscribe { .. })
    ) {
        return invalid_link();
    }
    page(
        StatusCode::OK,
        "Unsubscribe",
        "<p>Stop receiving these emails?</p>\
         <form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
    )
}

async fn unsubscribe(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    // A path that is not even text is just another unknown token.
    let token = token.map(|Path(token)| token).unwrap_or_default();
    let Some(Tracked::Unsubscribe { send_id }) = state.tokens.verify(&token) else {
        return invalid_link();
    };
    match state.store.unsubscribe_send(send_id).await {
        Ok(()) => {
            tracing::info!(send.id = send_id, "recipient unsubscribed");
            page(
                StatusCode::OK,
                "Unsubscribed",
                "<p>You are unsubscribed. Sorry to see you go.</p>",
            )
        }
        Err(error) => {
            tracing::error!(%error, send.id = send_id, "unsubscribe failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "<p>We could not record that just now. Please try again in a minute.</p>",
            )
        }
    }
}

fn invalid_link() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link not valid",
        "<p>This unsubscribe link is not valid.</p>",
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;\
         padding:0 1rem\"><h1>{title}</h1>{body}</body></html>"
    );
    (status, Html(html)).into_response()
}
