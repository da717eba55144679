-- What pg_stat_statements says of each query pattern at probe time (all callers, means), where installed.
ALTER TABLE latency_probe ADD COLUMN pgss_calls bigint;
ALTER TABLE latency_probe ADD COLUMN pgss_mean_ms double precision;
