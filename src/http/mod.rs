//! The HTTP surface: the JSON API under `/api/v1`, the tracking endpoints under `/track`,
//! and the unsubscribe pages. One module per resource, each with its own `router()`.

mod auth;
mod campaigns;
mod client_addr;
mod contacts;
mod error;
mod json;
mod sends;
mod settings;
mod stats;
mod templates;
mod track;
mod unsubscribe;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use ipnet::IpNet;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::mailgun::Mailgun;
use crate::sending::Mailer;
use crate::store::Store;
use crate::track::{Recorder, TokenKey};

pub use auth::{Caller, token_hash};
pub(crate) use client_addr::client_addr;
pub use error::ApiError;

/// The largest request body accepted anywhere: a 2 MiB email plus its JSON envelope.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub recorder: Recorder,
    pub tokens: TokenKey,
    pub mailer: Mailer,
    pub trusted_proxies: Arc<Vec<IpNet>>,
    /// Mailgun accounts, signing keys and webhook settings.
    pub mailgun: Mailgun,
}

/// The whole application's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(sends::router())
        .merge(contacts::router())
        .merge(templates::router())
        .merge(campaigns::router())
        .merge(stats::router())
        .merge(track::router())
        .merge(unsubscribe::router())
        .merge(webhooks::router())
        .merge(settings::router())
        .merge(crate::web::router(state.clone()))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
