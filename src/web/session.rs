//! Browser sessions in our own `web_sessions` table: the `SignedIn` extractor, and starting
//! and ending a session.
//!
//! A session id is 256 random bits in an HttpOnly cookie; the table keeps only its SHA-256,
//! so a copy of the database signs nobody in. Each session has its own CSRF token.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::cookies::{self, CookieOptions};
use super::error::PageError;
use crate::http::{AppState, Caller, token_hash};
use crate::store::{self, Role, Scope, User, now_ms};

/// How long a session lasts after sign-in.
pub const SESSION_SECS: i64 = 7 * 24 * 60 * 60;

/// The signed-in user of a page request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// The token every form of this session carries.
    pub csrf: String,
    id_hash: String,
}

/// Which portal a user works in; decided by role alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Portal {
    Admin,
    Partner,
    Member,
}

impl Portal {
    pub fn of(role: Role) -> Portal {
        match role {
            Role::Owner | Role::Admin => Portal::Admin,
            Role::Partner | Role::SalesRep => Portal::Partner,
            Role::Member => Portal::Member,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Portal::Admin => "Admin Portal",
            Portal::Partner => "Partner Portal",
            Portal::Member => "Member Portal",
        }
    }
}

impl SignedIn {
    /// What this user may see: the same rule, and the same code, as the stats API.
    pub fn scope(&self) -> Scope {
        Caller(self.user.clone()).scope()
    }

    pub fn portal(&self) -> Portal {
        Portal::of(self.user.role)
    }

    /// Ends this session and answers the `Set-Cookie` that forgets it.
    pub async fn end(&self, state: &AppState) -> Result<String, store::Error> {
        state.store.delete_session(&self.id_hash).await?;
        tracing::info!(user.id = self.user.id, "signed out");
        Ok(cookies::clear(cookies::SESSION, secure_cookies(state)))
    }
}

/// Whether cookies get `Secure`: the server is reached over HTTPS.
pub fn secure_cookies(state: &AppState) -> bool {
    state.mailer.base_url.starts_with("https://")
}

/// 256 random bits, base64url.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Starts a session for `user_id`; answers the `Set-Cookie` value that carries it.
pub async fn start(state: &AppState, user_id: i64) -> Result<String, store::Error> {
    let id = random_token();
    let expires_at = now_ms() + SESSION_SECS * 1000;
    state
        .store
        .create_session(&token_hash(&id), user_id, &random_token(), expires_at)
        .await?;
    tracing::info!(user.id = user_id, "signed in");
    let options = CookieOptions {
        secure: secure_cookies(state),
        max_age: SESSION_SECS,
    };
    Ok(cookies::set(cookies::SESSION, &id, options))
}

/// The session a request's cookie names, if it is still valid.
pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Option<SignedIn>, PageError> {
    let Some(id) = cookies::get(headers, cookies::SESSION) else {
        return Ok(None);
    };
    let id_hash = token_hash(id);
    let session = match state.store.session(&id_hash).await {
        Ok(session) => session,
        Err(store::Error::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let user = match state.store.user_by_id(session.user_id).await {
        Ok(user) => user,
        Err(store::Error::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(Some(SignedIn {
        user,
        csrf: session.csrf_token,
        id_hash,
    }))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        <SignedIn as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await?
            .ok_or(PageError::SignInRequired)
    }
}

impl OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, PageError> {
        // The CSRF guard has loaded the session of a POST already.
        if let Some(signed_in) = parts.extensions.get::<SignedIn>() {
            return Ok(Some(signed_in.clone()));
        }
        load(state, &parts.headers).await
    }
}
