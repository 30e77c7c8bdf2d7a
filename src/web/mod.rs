//! The browser pages (issue 7): sign-in, the CRM Stats tab of the Admin and Partner
//! Portals, and the Mailgun settings page, rendered on the server with askama and served
//! by `mailtally serve` itself, assets included.
//!
//! Pages read the same store queries under the same `Scope` as the stats API, so a page
//! never shows a figure the API would not give the same user. Every POST passes the CSRF
//! guard in `csrf.rs` before it reaches a handler.

mod assets;
mod chart;
mod cookies;
mod csrf;
mod drill;
mod error;
mod export;
mod layout;
mod password;
mod session;
mod settings;
mod signin;
mod signin_link;
mod stats_page;
mod table;
mod viewer;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::get;

use crate::http::AppState;

pub use password::{hash_password, verify_password};
pub use signin_link::create_signin_link;

/// Every browser route, behind the CSRF guard.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .merge(signin::router())
        .merge(stats_page::router())
        .merge(drill::router())
        .merge(export::router())
        .merge(settings::router())
        .merge(assets::router())
        .layer(middleware::from_fn_with_state(state, csrf::guard))
        .layer(middleware::from_fn(security_headers))
}

/// Headers every page gets: no framing, no sniffing, no referrer leaks, scripts and styles
/// from this origin only, and pages kept out of shared caches.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let defaults = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
            form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// The landing page: the Stats tab, or the sign-in form for strangers.
async fn home(viewer: Option<session::SignedIn>) -> Redirect {
    match viewer {
        Some(_) => Redirect::to(stats_page::PATH),
        None => Redirect::to(signin::PATH),
    }
}
