-- Mailgun (issue 6): provider message ids and delivery outcomes on sends, per-tenant accounts
-- and webhook signing keys (sealed with AES-GCM, never in clear), and the webhook tokens and
-- event ids already seen, shared by every node.
-- Times are unix milliseconds (UTC), as in 0001.

ALTER TABLE sends ADD COLUMN provider_message_id TEXT;
ALTER TABLE sends ADD COLUMN soft_bounces INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sends ADD COLUMN complained_at INTEGER;
ALTER TABLE sends ADD COLUMN unsubscribed_at INTEGER;
CREATE INDEX sends_provider_message_id ON sends (provider_message_id);

-- One row per tenant: an organisation (`org`, tenant_id = organisations.id) or a partner
-- team (`team`, tenant_id = the partner's users.id). Keys are sealed: a version byte, a
-- 96-bit nonce and the AES-256-GCM ciphertext, bound to tenant and field.
CREATE TABLE mailgun_settings (
    tenant_kind          TEXT NOT NULL,
    tenant_id            INTEGER NOT NULL,
    org_id               INTEGER NOT NULL REFERENCES organisations(id),
    signing_key          BLOB,
    signing_key_set_at   INTEGER,
    previous_signing_key BLOB,
    previous_key_until   INTEGER,
    domain               TEXT,
    api_key              BLOB,
    region               TEXT,
    base_url             TEXT,
    account_set_at       INTEGER,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (tenant_kind, tenant_id)
);

CREATE TABLE mailgun_webhook_tokens (
    token    TEXT PRIMARY KEY,
    seen_at  INTEGER NOT NULL
);
CREATE INDEX mailgun_webhook_tokens_seen ON mailgun_webhook_tokens (seen_at);

CREATE TABLE mailgun_events (
    event_id      TEXT PRIMARY KEY,
    send_id       INTEGER,
    processed_at  INTEGER NOT NULL
);
CREATE INDEX mailgun_events_processed ON mailgun_events (processed_at);
