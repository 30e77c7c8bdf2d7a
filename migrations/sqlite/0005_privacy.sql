-- Privacy (issue 8): when a send's raw events were purged, whether a contact asked not to
-- be tracked, and when a contact's personal data was erased.

ALTER TABLE sends ADD COLUMN events_purged_before INTEGER;
ALTER TABLE sends ADD COLUMN events_purged_at INTEGER;
ALTER TABLE contacts ADD COLUMN no_track INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN erased_at INTEGER;
ALTER TABLE events ADD COLUMN ip_full INTEGER NOT NULL DEFAULT 0;
