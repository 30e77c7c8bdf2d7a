//! The few cookies the pages use, read from `Cookie` and written as `Set-Cookie` values.
//!
//! - `mt_session`: the session id, HttpOnly, SameSite=Lax, Secure behind HTTPS.
//! - `mt_csrf`: before sign-in, the double-submit token of the sign-in forms.
//! - `mt_tz`: the browser's offset from UTC in minutes, set by `app.js`; not a secret.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const SESSION: &str = "mt_session";
pub const ANON_CSRF: &str = "mt_csrf";
pub const TZ: &str = "mt_tz";

/// The value of cookie `name` in the request, if sent.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// How a cookie is written.
#[derive(Debug, Clone, Copy)]
pub struct CookieOptions {
    /// Add `Secure`: the public base URL is https.
    pub secure: bool,
    /// Seconds to live; 0 deletes the cookie.
    pub max_age: i64,
}

/// A `Set-Cookie` value for an HttpOnly, SameSite=Lax cookie on the whole site.
pub fn set(name: &str, value: &str, options: CookieOptions) -> String {
    let secure = if options.secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        options.max_age
    )
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", CookieOptions { secure, max_age: 0 })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn reads_and_writes_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; mt_session=abc; mt_tz=-60"),
        );
        assert_eq!(get(&headers, SESSION), Some("abc"));
        assert_eq!(get(&headers, TZ), Some("-60"));
        assert_eq!(get(&headers, ANON_CSRF), None);

        let options = CookieOptions {
            secure: true,
            max_age: 60,
        };
        assert_eq!(
            set(SESSION, "v", options),
            "mt_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert!(clear(SESSION, false).ends_with("Max-Age=0"));
    }
}
