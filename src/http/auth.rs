//! Bearer-token authentication: the `Caller` extractor.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};
use crate::store::{self, Scope, User};

/// The authenticated user of a request.
pub struct Caller(pub User);

impl Caller {
    /// What this caller may see: the whole organisation, or only its own sends.
    pub fn scope(&self) -> Scope {
        let user = &self.0;
        let sender_id = (!user.role.sees_whole_org()).then_some(user.id);
        Scope {
            org_id: user.org_id,
            sender_id,
        }
    }
}

/// The stored form of an API token: its SHA-256, hex. Tokens are 256 random bits, so a
/// plain hash is enough and lets the lookup use an index.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| ApiError::Unauthorized("malformed bearer token".into()))?;

        match state.store.user_by_token_hash(&token_hash(token)).await {
            Ok(user) => Ok(Caller(user)),
            Err(store::Error::NotFound) => Err(ApiError::Unauthorized("unknown API token".into())),
            Err(e) => Err(e.into()),
        }
    }
}
