//! One-time sign-in links, made by `mailtally user add --login-link`: a random token whose
//! hash is stored with its user; the link signs in once, within a day.

use super::session::random_token;
use crate::http::token_hash;
use crate::store::{self, Store, now_ms};

/// How long a sign-in link stays usable.
pub const LINK_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// Makes a sign-in link for `user_id` under `base_url` (the server's public URL).
pub async fn create_signin_link(
    store: &Store,
    user_id: i64,
    base_url: &str,
) -> Result<String, store::Error> {
    let token = random_token();
    store
        .create_signin_link(&token_hash(&token), user_id, now_ms() + LINK_TTL_MS)
        .await?;
    tracing::info!(user.id = user_id, "sign-in link created");
    Ok(format!(
        "{}/login/link/{token}",
        base_url.trim_end_matches('/')
    ))
}
