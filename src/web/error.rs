//! The one place where a page's errors become HTML: a friendly page with a status, a plain
//! message and a way back. Internal details are logged, never shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{0}")]
    BadRequest(String),
    /// Not signed in: answered with a redirect to the sign-in page.
    #[error("sign-in required")]
    SignInRequired,
    #[error("{0}")]
    Forbidden(String),
    /// A form arrived without the token of the page that showed it.
    #[error("the form had no valid security token")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    heading: &'a str,
    message: String,
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::SignInRequired => StatusCode::SEE_OTHER,
            PageError::Forbidden(_) | PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn heading(&self) -> &'static str {
        match self {
            PageError::BadRequest(_) => "That request did not make sense",
            PageError::SignInRequired => "Please sign in",
            PageError::Forbidden(_) => "Not available to you",
            PageError::Csrf => "This form has expired",
            PageError::NotFound => "Page not found",
            PageError::Internal(_) => "Something went wrong on our side",
        }
    }

    fn message(&self) -> String {
        match self {
            PageError::Csrf => {
                "The page you sent it from was too old or came from elsewhere. Go back, reload \
                the page and try again."
                    .into()
            }
            PageError::NotFound => "There is nothing here, or it is not yours to see.".into(),
            PageError::Internal(_) => {
                "The error has been logged. Try again in a moment; if it keeps happening, tell \
                your administrator the time it happened."
                    .into()
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match &self {
            PageError::SignInRequired => return Redirect::to(super::signin::PATH).into_response(),
            PageError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "page failed");
            }
            PageError::Csrf => tracing::warn!("form refused: missing or wrong CSRF token"),
            _ => tracing::debug!(error = %self, "page refused"),
        }
        let status = self.status();
        let message = self.message();
        let page = ErrorPage {
            status: status.as_u16(),
            heading: self.heading(),
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(%error, "rendering the error page failed");
                (status, Html(format!("<h1>{}</h1>", status.as_u16()))).into_response()
            }
        }
    }
}

impl From<store::Error> for PageError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::NotFound => PageError::NotFound,
            other => PageError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Internal(e.into())
    }
}

pub type PageResult<T> = Result<T, PageError>;
