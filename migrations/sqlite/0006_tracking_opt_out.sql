-- Tracking opt-outs (issue 8): a campaign, or one step of it, may send untracked email.
-- A send's own opt-out and a contact's (`contacts.no_track`, 0005) need no column here.

ALTER TABLE campaigns ADD COLUMN track INTEGER NOT NULL DEFAULT 1;
ALTER TABLE campaign_steps ADD COLUMN track INTEGER NOT NULL DEFAULT 1;
