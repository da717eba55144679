-- Daily buckets, so 7- and 30-day summaries of a thousand indexes read thousands of rows, not 10^5.
ALTER TABLE usage_delta DROP CONSTRAINT usage_delta_resolution_check;
ALTER TABLE usage_delta ADD CONSTRAINT usage_delta_resolution_check CHECK (resolution IN ('raw', '5m', '1h', '1d'));

-- Summaries read one target's buckets of one resolution in a time range, across all its indexes.
CREATE INDEX usage_delta_target_time ON usage_delta (target_id, resolution, bucket_start) INCLUDE (index_key, seconds, scans);

-- Scans per minute per index (latest interval, 24 h, 7 d, 30 d), refreshed by the collector after
-- each snapshot, so the Indexes page reads one row per index instead of aggregating on every view.
CREATE TABLE usage_rate (
  target_id   text NOT NULL,
  index_key   text NOT NULL,
  per_min_now double precision,
  per_min_24h double precision,
  per_min_7d  double precision,
  per_min_30d double precision,
  computed_at timestamptz NOT NULL,
  PRIMARY KEY (target_id, index_key)
);
