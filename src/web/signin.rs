//! Signing in with email and password, signing out, and one-time sign-in links.
//!
//! Failed sign-ins are throttled in the database, so every node sees them: an email is
//! locked for a while from one address after `PER_EMAIL_AND_IP.max_failures` failures,
//! from everywhere after `PER_EMAIL.max_failures`, and an address after
//! `PER_IP.max_failures`. A locked sign-in is refused before any password is checked. An
//! unknown email costs the same hash verification as a wrong password.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::cookies;
use super::csrf::anonymous_token;
use super::error::{PageError, PageResult};
use super::password::{decoy_hash, verify_password_async};
use super::session::{self, SignedIn};
use super::stats_page;
use crate::http::{AppState, client_addr, token_hash};
use crate::store::{ThrottleRule, now_ms};

pub const PATH: &str = "/login";

/// Five wrong passwords for one email from one address in 15 minutes lock that pair for 15
/// minutes. Keyed by the pair, so a stranger who knows someone's email cannot lock them
/// out from everywhere by failing on purpose.
const PER_EMAIL_AND_IP: ThrottleRule = ThrottleRule {
    max_failures: 5,
    window_ms: 15 * 60 * 1000,
    lock_ms: 15 * 60 * 1000,
};

/// A hundred wrong passwords for one email from anywhere in 15 minutes lock it: guessing
/// spread over many addresses.
const PER_EMAIL: ThrottleRule = ThrottleRule {
    max_failures: 100,
    window_ms: 15 * 60 * 1000,
    lock_ms: 15 * 60 * 1000,
};

/// Thirty failures from one address in 15 minutes lock it for 15 minutes.
const PER_IP: ThrottleRule = ThrottleRule {
    max_failures: 30,
    window_ms: 15 * 60 * 1000,
    lock_ms: 15 * 60 * 1000,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show_signin).post(sign_in))
        .route("/logout", post(sign_out))
        .route("/login/link/{token}", get(show_link).post(use_link))
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "signin_link.html")]
struct LinkPage {
    csrf: String,
    usable: bool,
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
}

/// A page for a signed-out browser, with the `Set-Cookie` of its CSRF token if new.
fn anonymous_page(status: StatusCode, html: String, cookie: Option<String>) -> Response {
    let mut response = (status, Html(html)).into_response();
    if let Some(cookie) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

async fn show_signin(
    State(state): State<AppState>,
    signed_in: Option<SignedIn>,
    headers: HeaderMap,
) -> PageResult<Response> {
    if signed_in.is_some() {
        return Ok(Redirect::to(stats_page::PATH).into_response());
    }
    let (csrf, cookie) = anonymous_token(&state, &headers);
    let page = SignInPage {
        csrf,
        email: String::new(),
        error: None,
    };
    Ok(anonymous_page(StatusCode::OK, page.render()?, cookie))
}

async fn refuse(
    state: &AppState,
    headers: &HeaderMap,
    email: String,
    status: StatusCode,
    error: String,
) -> PageResult<Response> {
    let (csrf, cookie) = anonymous_token(state, headers);
    let page = SignInPage {
        csrf,
        email,
        error: Some(error),
    };
    Ok(anonymous_page(status, page.render()?, cookie))
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> PageResult<Response> {
    let ip = client_addr(peer, &headers, &state.trusted_proxies);
    let email = form.email.trim().to_ascii_lowercase();
    let email_key = format!("email:{email}");
    let pair_key = format!("email-ip:{email}|{ip}");
    let ip_key = format!("ip:{ip}");

    let store = &state.store;
    let keys = [email_key.as_str(), pair_key.as_str(), ip_key.as_str()];
    if let Some(until) = store.signin_locked_until(&keys).await? {
        let minutes = ((until - now_ms()) / 60_000).max(1);
        tracing::warn!(client = %ip, "sign-in refused: throttled");
        let error = format!(
            "Too many failed sign-ins. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        return refuse(
            &state,
            &headers,
            email,
            StatusCode::TOO_MANY_REQUESTS,
            error,
        )
        .await;
    }

    let candidates = store.password_users(&email).await?;
    let mut user_id = None;
    for candidate in &candidates {
        if verify_password_async(form.password.clone(), candidate.password_hash.clone()).await {
            user_id = Some(candidate.user_id);
            break;
        }
    }
    if candidates.is_empty() {
        verify_password_async(form.password.clone(), decoy_hash().to_string()).await;
    }

    let Some(user_id) = user_id else {
        store.record_signin_failure(&email_key, PER_EMAIL).await?;
        store
            .record_signin_failure(&pair_key, PER_EMAIL_AND_IP)
            .await?;
        store.record_signin_failure(&ip_key, PER_IP).await?;
        tracing::info!(client = %ip, "sign-in failed");
        let error = "That email and password do not match an account.".to_string();
        return refuse(&state, &headers, email, StatusCode::UNAUTHORIZED, error).await;
    };
    store.clear_signin_failures(&email_key).await?;
    store.clear_signin_failures(&pair_key).await?;
    signed_in_response(&state, user_id).await
}

/// Starts a session and sends the browser to its portal.
async fn signed_in_response(state: &AppState, user_id: i64) -> PageResult<Response> {
    let cookie = session::start(state, user_id).await?;
    let mut response = Redirect::to(stats_page::PATH).into_response();
    let headers = response.headers_mut();
    for value in [
        cookie,
        cookies::clear(cookies::ANON_CSRF, session::secure_cookies(state)),
    ] {
        let value = value
            .parse()
            .map_err(|e| PageError::Internal(anyhow::anyhow!("cookie header: {e}")))?;
        headers.append(SET_COOKIE, value);
    }
    Ok(response)
}

async fn sign_out(
    State(state): State<AppState>,
    signed_in: Option<SignedIn>,
) -> PageResult<Response> {
    let mut response = Redirect::to(PATH).into_response();
    if let Some(signed_in) = signed_in {
        let cookie = signed_in.end(&state).await?;
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// A sign-in link first shows a button: mail scanners fetch links with GET, and must not
/// use up the link before its owner does.
async fn show_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> PageResult<Response> {
    let usable = state.store.signin_link_usable(&token_hash(&token)).await?;
    let (csrf, cookie) = anonymous_token(&state, &headers);
    let status = if usable {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = LinkPage { csrf, usable };
    Ok(anonymous_page(status, page.render()?, cookie))
}

async fn use_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> PageResult<Response> {
    let user_id = match state.store.consume_signin_link(&token_hash(&token)).await {
        Ok(user_id) => user_id,
        Err(crate::store::Error::NotFound) => {
            return Err(PageError::BadRequest(
                "This sign-in link has been used or has expired. Ask for a new one.".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(user.id = user_id, "sign-in link used");
    signed_in_response(&state, user_id).await
}
