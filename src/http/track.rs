//! The tracking endpoints: the open pixel and the click redirector.
//!
//! They answer every request, forged or not, without a 500: an unknown token gets the GIF
//! (opens) or a plain 404 (clicks) and records nothing. Bots are answered like people; the
//! classification only changes how hits count.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, EXPIRES, LOCATION, PRAGMA, USER_AGENT};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mailtally_classify::{self as classify, Kind, Source};

use super::AppState;
use super::client_addr::client_addr;
use crate::store::{self, NewEvent, now_ms};
use crate::track::Tracked;

/// A transparent 1x1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Longest user agent kept; the rest is cut.
const MAX_USER_AGENT: usize = 512;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/track/open/{token}", get(open).head(open).options(open))
        .route(
            "/track/click/{token}",
            get(click).head(click).options(click),
        )
}

async fn open(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    // A path that is not even text is just another unknown token.
    let token = token.map(|Path(token)| token).unwrap_or_default();
    let token = token.strip_suffix(".gif").unwrap_or(&token);
    let Some(Tracked::Open { send_id }) = state.tokens.verify(token) else {
        return pixel(StatusCode::OK);
    };
    let request = hit(&state, Kind::Open, &method, &headers, peer);
    match record(&state, send_id, request).await {
        Ok(()) => pixel(StatusCode::OK),
        Err(()) => pixel(StatusCode::SERVICE_UNAVAILABLE),
    }
}

async fn click(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
) -> Response {
    // A path that is not even text is just another unknown token.
    let token = token.map(|Path(token)| token).unwrap_or_default();
    let (send_id, kind) = match state.tokens.verify(&token) {
        Some(Tracked::Click { send_id, position }) => (send_id, Kind::Click { position }),
        Some(Tracked::Honeypot { send_id }) => (send_id, Kind::Honeypot),
        _ => return not_found(),
    };

    let target = match kind {
        Kind::Click { position } => match state.store.link_url(send_id, position).await {
            Ok(url) => Some(url),
            Err(store::Error::NotFound) => return not_found(),
            Err(error) => {
                tracing::error!(%error, send.id = send_id, "link lookup failed");
                return (StatusCode::SERVICE_UNAVAILABLE, "try again shortly").into_response();
            }
        },
        _ => None,
    };

    let request = hit(&state, kind, &method, &headers, peer);
    // A person who clicked must reach the page even if the hit could not be stored; the
    // failure is logged by the recorder.
    let _ = record(&state, send_id, request).await;
    match target {
        Some(url) => redirect(&url),
        None => (
            StatusCode::OK,
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            "",
        )
            .into_response(),
    }
}

fn hit(
    state: &AppState,
    kind: Kind,
    method: &Method,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> classify::Request {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let mut user_agent = String::from_utf8_lossy(
        headers
            .get(USER_AGENT)
            .map(|v| v.as_bytes())
            .unwrap_or_default(),
    )
    .into_owned();
    if user_agent.len() > MAX_USER_AGENT {
        let cut = (0..=MAX_USER_AGENT)
            .rev()
            .find(|&i| user_agent.is_char_boundary(i));
        user_agent.truncate(cut.unwrap_or(0));
    }
    let prefetch = ["purpose", "sec-purpose", "x-purpose", "x-moz"]
        .iter()
        .any(|name| header(name).to_ascii_lowercase().contains("prefetch"));
    classify::Request {
        kind,
        source: Source::Direct,
        method: method.as_str().to_string(),
        user_agent,
        ip: Some(client_addr(peer, headers, &state.trusted_proxies)),
        prefetch,
        at: now_ms(),
    }
}

async fn record(state: &AppState, send_id: i64, request: classify::Request) -> Result<(), ()> {
    let base = classify::classify(&request);
    let event = NewEvent {
        send_id,
        request,
        base,
    };
    state.recorder.record(event).await.map_err(|_| ())
}

fn pixel(status: StatusCode) -> Response {
    let headers = [
        (CONTENT_TYPE, "image/gif"),
        (
            CACHE_CONTROL,
            "no-store, no-cache, must-revalidate, private, max-age=0",
        ),
        (PRAGMA, "no-cache"),
        (EXPIRES, "0"),
    ];
    (status, headers, PIXEL).into_response()
}

/// A 302 to exactly the author's URL. Non-ASCII bytes (an internationalised host or path)
/// go out as UTF-8, which browsers follow; only bytes a header cannot hold at all, such as
/// control characters, are percent-encoded.
fn redirect(url: &str) -> Response {
    let location = axum::http::HeaderValue::from_bytes(url.as_bytes()).or_else(|_| {
        let mut encoded = String::with_capacity(url.len());
        for c in url.chars() {
            if c.is_control() {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    encoded.push_str(&format!("%{b:02X}"));
                }
            } else {
                encoded.push(c);
            }
        }
        axum::http::HeaderValue::from_bytes(encoded.as_bytes())
    });
    match location {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (LOCATION, location),
                (
                    CACHE_CONTROL,
                    axum::http::HeaderValue::from_static("no-store"),
                ),
            ],
        )
            .into_response(),
        Err(_) => not_found(),
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        "link not found\n",
    )
        .into_response()
}
