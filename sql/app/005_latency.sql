-- Measured latency of a change set's query patterns on the target: before apply (with pre-check)
-- and after verify. One row per probe run and query pattern.
CREATE TABLE latency_probe (
  id          bigserial PRIMARY KEY,
  rollout_id  bigint NOT NULL REFERENCES rollout (id),
  phase       text NOT NULL CHECK (phase IN ('before', 'after')),
  workload    text NOT NULL,
  samples     integer NOT NULL,
  errors      integer NOT NULL,
  p50_ms      double precision,
  p95_ms      double precision,
  p99_ms      double precision,
  max_ms      double precision,
  error       text,
  measured_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX latency_probe_rollout ON latency_probe (rollout_id, phase, id);
