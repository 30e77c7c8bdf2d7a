-- The spine: tenancy, sends, their links and tracking events.
-- Times are unix milliseconds (UTC); flags are 0/1 integers, as in the PostgreSQL twin.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    email           TEXT NOT NULL,
    role            TEXT NOT NULL,
    partner_id      INTEGER REFERENCES users(id),
    api_token_hash  TEXT UNIQUE,
    created_at      INTEGER NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    email       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'active',
    status_reason TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE templates (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE sends (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    sender_id       INTEGER NOT NULL REFERENCES users(id),
    contact_id      INTEGER NOT NULL REFERENCES contacts(id),
    campaign_id     INTEGER REFERENCES campaigns(id),
    template_id     INTEGER REFERENCES templates(id),
    to_email        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    tracked         INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued',
    error           TEXT,
    created_at      INTEGER NOT NULL,
    opens           INTEGER NOT NULL DEFAULT 0,
    clicks          INTEGER NOT NULL DEFAULT 0,
    mpp_opens       INTEGER NOT NULL DEFAULT 0,
    filtered        INTEGER NOT NULL DEFAULT 0,
    first_opened_at INTEGER,
    first_clicked_at INTEGER
);
CREATE INDEX sends_org_created ON sends (org_id, created_at);
CREATE INDEX sends_sender_created ON sends (sender_id, created_at);
CREATE INDEX sends_campaign ON sends (campaign_id);
CREATE INDEX sends_template ON sends (template_id);

CREATE TABLE send_links (
    send_id     INTEGER NOT NULL REFERENCES sends(id),
    position    INTEGER NOT NULL,
    url         TEXT NOT NULL,
    clicks      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (send_id, position)
);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    send_id     INTEGER NOT NULL REFERENCES sends(id),
    kind        TEXT NOT NULL,
    position    INTEGER,
    source      TEXT NOT NULL,
    method      TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    ip          TEXT,
    prefetch    INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    base_class  TEXT NOT NULL,
    base_agent  TEXT,
    base_reason TEXT NOT NULL,
    class       TEXT NOT NULL,
    agent       TEXT,
    reason      TEXT NOT NULL,
    counted     INTEGER NOT NULL
);
CREATE INDEX events_send_at ON events (send_id, at);
CREATE INDEX events_at ON events (at);
