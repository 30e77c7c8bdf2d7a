//! CSRF protection for every form: a middleware in front of all browser routes refuses any
//! POST whose `csrf` field does not match the expected token, before a handler runs.
//!
//! Signed in, the expected token is the session's own, kept in the session row. Before
//! sign-in (the sign-in forms) it is a double-submit token: a random `mt_csrf` cookie that
//! the form must repeat, which a page on another site can neither read nor set.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::cookies::{self, CookieOptions};
use super::error::PageError;
use super::session;
use crate::http::AppState;

/// The largest form any page posts.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The middleware: passes safe methods, checks the token of everything else.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }

    let (mut parts, body) = request.into_parts();
    let signed_in = match session::load(&state, &parts.headers).await {
        Ok(signed_in) => signed_in,
        Err(e) => return e.into_response(),
    };
    let expected = match &signed_in {
        Some(signed_in) => Some(signed_in.csrf.clone()),
        None => cookies::get(&parts.headers, cookies::ANON_CSRF).map(str::to_string),
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return PageError::BadRequest("the form is too large".into()).into_response();
    };
    let sent = url::form_urlencoded::parse(&bytes)
        .find(|(key, _)| key == "csrf")
        .map(|(_, value)| value.into_owned());

    if !tokens_match(expected.as_deref(), sent.as_deref()) {
        tracing::debug!(path = %parts.uri.path(), signed_in = signed_in.is_some(), "csrf refused");
        return PageError::Csrf.into_response();
    }
    if let Some(signed_in) = signed_in {
        parts.extensions.insert(signed_in);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn tokens_match(expected: Option<&str>, sent: Option<&str>) -> bool {
    match (expected, sent) {
        (Some(expected), Some(sent)) if !expected.is_empty() => {
            expected.as_bytes().ct_eq(sent.as_bytes()).into()
        }
        _ => false,
    }
}

/// The double-submit token of a signed-out page: the one the browser holds, or a new one
/// with the `Set-Cookie` that gives it.
pub fn anonymous_token(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(token) = cookies::get(headers, cookies::ANON_CSRF) {
        return (token.to_string(), None);
    }
    let token = session::random_token();
    let options = CookieOptions {
        secure: session::secure_cookies(state),
        max_age: 24 * 60 * 60,
    };
    let cookie = cookies::set(cookies::ANON_CSRF, &token, options);
    (token, Some(cookie))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_be_present_and_equal() {
        assert!(tokens_match(Some("abc"), Some("abc")));
        assert!(!tokens_match(Some("abc"), Some("abd")));
        assert!(!tokens_match(Some("abc"), None));
        assert!(!tokens_match(None, Some("abc")));
        assert!(!tokens_match(Some(""), Some("")));
    }
}
