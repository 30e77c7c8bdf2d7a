-- The CRM: contact owners, custom fields and tags; template bodies; broadcast and drip
-- campaigns with ordered steps; enrollments and the ledger of steps the scheduler took.
-- Kept in step with the PostgreSQL twin. Times are unix milliseconds.

ALTER TABLE contacts ADD COLUMN owner_id INTEGER REFERENCES users(id);
-- Custom merge fields: a JSON object of strings.
ALTER TABLE contacts ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
CREATE INDEX contacts_owner ON contacts (org_id, owner_id);

CREATE TABLE contact_tags (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    tag         TEXT NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag ON contact_tags (tag, contact_id);

-- A template row without a subject is only a label some send named through the sends API.
ALTER TABLE templates ADD COLUMN owner_id INTEGER REFERENCES users(id);
ALTER TABLE templates ADD COLUMN subject TEXT;
ALTER TABLE templates ADD COLUMN html TEXT;
ALTER TABLE templates ADD COLUMN text_body TEXT;
ALTER TABLE templates ADD COLUMN updated_at INTEGER;

-- A campaign row without a kind is only a label some send named through the sends API.
ALTER TABLE campaigns ADD COLUMN kind TEXT;
ALTER TABLE campaigns ADD COLUMN owner_id INTEGER REFERENCES users(id);
ALTER TABLE campaigns ADD COLUMN sender_id INTEGER REFERENCES users(id);
ALTER TABLE campaigns ADD COLUMN tag TEXT;

CREATE TABLE campaign_steps (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
    position    INTEGER NOT NULL,
    template_id INTEGER NOT NULL REFERENCES templates(id),
    delay_ms    INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, position)
);

-- One contact's way through one campaign. `next_due_at` is NULL once it has ended.
CREATE TABLE enrollments (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    contact_id    INTEGER NOT NULL REFERENCES contacts(id),
    status        TEXT NOT NULL DEFAULT 'active',
    stop_reason   TEXT,
    next_step     INTEGER NOT NULL DEFAULT 0,
    next_due_at   INTEGER,
    claimed_by    TEXT,
    claimed_until INTEGER,
    enrolled_at   INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (campaign_id, contact_id)
);
CREATE INDEX enrollments_due ON enrollments (next_due_at) WHERE status = 'active';
CREATE INDEX enrollments_contact ON enrollments (contact_id, status);

-- Written before a step is handed to the send path; its key is what makes a step go out
-- at most once, whichever node claimed it and however often.
CREATE TABLE step_sends (
    enrollment_id INTEGER NOT NULL REFERENCES enrollments(id),
    step_index    INTEGER NOT NULL,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    contact_id    INTEGER NOT NULL REFERENCES contacts(id),
    outcome       TEXT NOT NULL DEFAULT 'pending',
    send_id       INTEGER REFERENCES sends(id),
    error         TEXT,
    node          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (enrollment_id, step_index)
);
CREATE INDEX step_sends_campaign ON step_sends (campaign_id, step_index, outcome);
