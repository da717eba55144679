-- Index usage over time. The collector stores one snapshot of cumulative counters per target per
-- interval; deltas between consecutive snapshots go to usage_delta, and survive counter resets.
CREATE TABLE usage_snapshot (
  target_id         text NOT NULL,
  taken_at          timestamptz NOT NULL,
  stats_reset       timestamptz,
  postmaster_start  timestamptz NOT NULL,
  indexes           integer NOT NULL,
  query_ms          double precision NOT NULL,
  PRIMARY KEY (target_id, taken_at)
);

-- Latest cumulative counters per index: what the next snapshot is compared with.
CREATE TABLE usage_last (
  target_id        text NOT NULL,
  index_key        text NOT NULL,
  taken_at         timestamptz NOT NULL,
  stats_reset      timestamptz,
  postmaster_start timestamptz NOT NULL,
  scans            bigint NOT NULL,
  tuples_read      bigint NOT NULL,
  tuples_fetched   bigint NOT NULL,
  blks_read        bigint NOT NULL,
  blks_hit         bigint NOT NULL,
  bytes            bigint NOT NULL,
  valid            boolean NOT NULL,
  PRIMARY KEY (target_id, index_key)
);

-- Activity per index per bucket. resolution: raw (one row per snapshot interval), 5m, 1h.
CREATE TABLE usage_delta (
  target_id      text NOT NULL,
  index_key      text NOT NULL,
  resolution     text NOT NULL CHECK (resolution IN ('raw', '5m', '1h')),
  bucket_start   timestamptz NOT NULL,
  seconds        double precision NOT NULL,
  scans          bigint NOT NULL CHECK (scans >= 0),
  tuples_read    bigint NOT NULL CHECK (tuples_read >= 0),
  tuples_fetched bigint NOT NULL CHECK (tuples_fetched >= 0),
  blks_read      bigint NOT NULL CHECK (blks_read >= 0),
  blks_hit       bigint NOT NULL CHECK (blks_hit >= 0),
  reset          boolean NOT NULL DEFAULT false,
  PRIMARY KEY (target_id, index_key, resolution, bucket_start)
);
CREATE INDEX usage_delta_time ON usage_delta (resolution, bucket_start);

-- Which server collects which target next: taken with SKIP LOCKED, so a fleet is collected once per
-- interval however many app servers run.
CREATE TABLE collector_schedule (
  target_id    text PRIMARY KEY,
  next_run_at  timestamptz NOT NULL DEFAULT now(),
  locked_by    text,
  last_ok_at   timestamptz,
  last_error   text,
  last_error_at timestamptz
);
