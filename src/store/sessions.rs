//! Browser sign-in state: password hashes, sessions, failed sign-in throttling and one-time
//! sign-in links. Session ids and link tokens arrive here already hashed: the database
//! never holds a value that would let a reader of it sign in.

use super::{Result, Store, now_ms, with_reader, with_writer};

/// A stored browser session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    /// The per-session token every form of the session must carry.
    pub csrf_token: String,
    pub expires_at: i64,
}

/// A user who may sign in with a password, and the stored hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasswordRow {
    pub user_id: i64,
    pub password_hash: String,
}

/// How many failures a throttled key may have in a window before it is locked.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleRule {
    pub max_failures: i64,
    pub window_ms: i64,
    pub lock_ms: i64,
}

impl Store {
    /// Sets (or with `None` removes) a user's password hash.
    pub async fn set_password_hash(&self, user_id: i64, hash: Option<&str>) -> Result<()> {
        const SQL: &str = "UPDATE users SET password_hash = $1 WHERE id = $2";
        with_writer!(self, |pool| {
            let done = sqlx::query(SQL)
                .bind(hash)
                .bind(user_id)
                .execute(pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(super::Error::NotFound);
            }
            Ok(())
        })
    }

    /// The users with this email that have a password, in every organisation.
    pub async fn password_users(&self, email: &str) -> Result<Vec<PasswordRow>> {
        const SQL: &str = "SELECT id AS user_id, password_hash FROM users
            WHERE email = $1 AND password_hash IS NOT NULL ORDER BY id";
        let email = email.trim().to_ascii_lowercase();
        with_reader!(self, |pool| {
            Ok(sqlx::query_as(SQL).bind(email).fetch_all(pool).await?)
        })
    }

    /// Stores a new session.
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO web_sessions
                (id_hash, user_id, csrf_token, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5)";
        with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(id_hash)
                .bind(user_id)
                .bind(csrf_token)
                .bind(now_ms())
                .bind(expires_at)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// The session with this id hash, unless it has expired.
    pub async fn session(&self, id_hash: &str) -> Result<SessionRow> {
        const SQL: &str = "SELECT user_id, csrf_token, expires_at FROM web_sessions
            WHERE id_hash = $1 AND expires_at > $2";
        // Through the writer on SQLite: a session is used on the request right after the
        // one that created it, and the readers may not see the newest commit yet.
        with_writer!(self, |pool| {
            Ok(sqlx::query_as(SQL)
                .bind(id_hash)
                .bind(now_ms())
                .fetch_one(pool)
                .await?)
        })
    }

    /// Ends a session, and drops every expired one while at it.
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM web_sessions WHERE id_hash = $1 OR expires_at <= $2";
        with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(id_hash)
                .bind(now_ms())
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Ends every session of a user, as when its password changes.
    pub async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
        const SQL: &str = "DELETE FROM web_sessions WHERE user_id = $1";
        with_writer!(self, |pool| {
            let done = sqlx::query(SQL).bind(user_id).execute(pool).await?;
            Ok(done.rows_affected())
        })
    }

    /// Until when (unix ms) the most locked of `keys` stays locked, if any is.
    pub async fn signin_locked_until(&self, keys: &[&str]) -> Result<Option<i64>> {
        const SQL: &str = "SELECT locked_until FROM signin_throttle WHERE key = $1";
        let now = now_ms();
        let mut until = None;
        for key in keys {
            let locked: Option<i64> = with_writer!(self, |pool| {
                sqlx::query_scalar(SQL)
                    .bind(*key)
                    .fetch_optional(pool)
                    .await
            })?;
            if let Some(locked) = locked.filter(|t| *t > now) {
                until = Some(until.map_or(locked, |u: i64| u.max(locked)));
            }
        }
        Ok(until)
    }

    /// Counts a failed sign-in against `key`; locks the key when the rule says so.
    /// Answers the failures counted in the current window.
    pub async fn record_signin_failure(&self, key: &str, rule: ThrottleRule) -> Result<i64> {
        const COUNT: &str = "INSERT INTO signin_throttle (key, failures, window_start)
            VALUES ($1, 1, $2)
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN signin_throttle.window_start <= $3
                    THEN 1 ELSE signin_throttle.failures + 1 END,
                window_start = CASE WHEN signin_throttle.window_start <= $3
                    THEN $2 ELSE signin_throttle.window_start END
            RETURNING failures";
        const LOCK: &str = "UPDATE signin_throttle SET locked_until = $1 WHERE key = $2";
        let now = now_ms();
        with_writer!(self, |pool| {
            let failures: i64 = sqlx::query_scalar(COUNT)
                .bind(key)
                .bind(now)
                .bind(now - rule.window_ms)
                .fetch_one(pool)
                .await?;
            if failures >= rule.max_failures {
                sqlx::query(LOCK)
                    .bind(now + rule.lock_ms)
                    .bind(key)
                    .execute(pool)
                    .await?;
            }
            Ok(failures)
        })
    }

    /// Forgets the failures of `key`, after a successful sign-in.
    pub async fn clear_signin_failures(&self, key: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM signin_throttle WHERE key = $1";
        with_writer!(self, |pool| {
            sqlx::query(SQL).bind(key).execute(pool).await?;
            Ok(())
        })
    }

    /// Stores a one-time sign-in link for a user.
    pub async fn create_signin_link(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: i64,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO signin_links (token_hash, user_id, created_at, expires_at)
            VALUES ($1, $2, $3, $4)";
        with_writer!(self, |pool| {
            sqlx::query(SQL)
                .bind(token_hash)
                .bind(user_id)
                .bind(now_ms())
                .bind(expires_at)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Whether a sign-in link is still usable, without using it.
    pub async fn signin_link_usable(&self, token_hash: &str) -> Result<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM signin_links
            WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
        with_writer!(self, |pool| {
            let count: i64 = sqlx::query_scalar(SQL)
                .bind(token_hash)
                .bind(now_ms())
                .fetch_one(pool)
                .await?;
            Ok(count > 0)
        })
    }

    /// Uses a sign-in link: answers its user once, then `NotFound` forever after.
    pub async fn consume_signin_link(&self, token_hash: &str) -> Result<i64> {
        const SQL: &str = "UPDATE signin_links SET used_at = $1
            WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
            RETURNING user_id";
        with_writer!(self, |pool| {
            Ok(sqlx::query_scalar(SQL)
                .bind(now_ms())
                .bind(token_hash)
                .fetch_one(pool)
                .await?)
        })
    }
}
