-- The blobs whose text is not in the full-text index yet (SMTP deliveries: see
-- store.TextBacklog), for the background indexer to find without scanning every blob.
CREATE INDEX blobs_unindexed ON blobs (id) WHERE text_doc IS NULL;
