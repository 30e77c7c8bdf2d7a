-- Each send counts the batches that changed its events, so a node can tell whether the
-- recent events it holds in memory are still the ones in the database.
ALTER TABLE sends ADD COLUMN events_version BIGINT NOT NULL DEFAULT 0;
