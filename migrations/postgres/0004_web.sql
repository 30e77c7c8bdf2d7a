-- Browser sign-in (issue 7): password hashes, sessions, sign-in throttling and one-time
-- sign-in links. Session ids and link tokens are stored as SHA-256 hashes, never in clear.
-- Times are unix milliseconds (UTC), as in 0001.

ALTER TABLE users ADD COLUMN password_hash TEXT;

CREATE TABLE web_sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- One row per throttled key (`email:...` or `ip:...`): failures in the current window.
CREATE TABLE signin_throttle (
    key           TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    window_start  BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE signin_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
