-- Privacy (issue 8): when a send's raw events were purged, whether a contact asked not to
-- be tracked, and when a contact's personal data was erased.

ALTER TABLE sends ADD COLUMN events_purged_before BIGINT;
ALTER TABLE sends ADD COLUMN events_purged_at BIGINT;
ALTER TABLE contacts ADD COLUMN no_track BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN erased_at BIGINT;
ALTER TABLE events ADD COLUMN ip_full BIGINT NOT NULL DEFAULT 0;
