-- Mailgun (issue 6): provider message ids and delivery outcomes on sends, per-tenant accounts
-- and webhook signing keys (sealed with AES-GCM, never in clear), and the webhook tokens and
-- event ids already seen, shared by every node.
-- Times are unix milliseconds (UTC), as in 0001.

ALTER TABLE sends ADD COLUMN provider_message_id TEXT;
ALTER TABLE sends ADD COLUMN soft_bounces BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sends ADD COLUMN complained_at BIGINT;
ALTER TABLE sends ADD COLUMN unsubscribed_at BIGINT;
CREATE INDEX sends_provider_message_id ON sends (provider_message_id);

-- One row per tenant: an organisation (`org`, tenant_id = organisations.id) or a partner
-- team (`team`, tenant_id = the partner's users.id). Keys are sealed: a version byte, a
-- 96-bit nonce and the AES-256-GCM ciphertext, bound to tenant and field.
CREATE TABLE mailgun_settings (
    tenant_kind          TEXT NOT NULL,
    tenant_id            BIGINT NOT NULL,
    org_id               BIGINT NOT NULL REFERENCES organisations(id),
    signing_key          BYTEA,
    signing_key_set_at   BIGINT,
    previous_signing_key BYTEA,
    previous_key_until   BIGINT,
    domain               TEXT,
    api_key              BYTEA,
    region               TEXT,
    base_url             TEXT,
    account_set_at       BIGINT,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (tenant_kind, tenant_id)
);

CREATE TABLE mailgun_webhook_tokens (
    token    TEXT PRIMARY KEY,
    seen_at  BIGINT NOT NULL
);
CREATE INDEX mailgun_webhook_tokens_seen ON mailgun_webhook_tokens (seen_at);

CREATE TABLE mailgun_events (
    event_id      TEXT PRIMARY KEY,
    send_id       BIGINT,
    processed_at  BIGINT NOT NULL
);
CREATE INDEX mailgun_events_processed ON mailgun_events (processed_at);
