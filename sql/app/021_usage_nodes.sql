-- Usage per node: a target's primary and each of its streaming replicas count scans apart (an index that
-- serves replica reads shows none on the primary), and each resets on its own clock. Rows from before
-- replicas were collected are the primary's. 'primary' is lib/targets/config.ts's PRIMARY_NODE.
ALTER TABLE usage_snapshot ADD COLUMN node text NOT NULL DEFAULT 'primary';
ALTER TABLE usage_snapshot DROP CONSTRAINT usage_snapshot_pkey, ADD PRIMARY KEY (target_id, node, taken_at);

ALTER TABLE usage_last ADD COLUMN node text NOT NULL DEFAULT 'primary';
ALTER TABLE usage_last DROP CONSTRAINT usage_last_pkey, ADD PRIMARY KEY (target_id, node, index_key);

ALTER TABLE usage_delta ADD COLUMN node text NOT NULL DEFAULT 'primary';
ALTER TABLE usage_delta DROP CONSTRAINT usage_delta_pkey, ADD PRIMARY KEY (target_id, node, index_key, resolution, bucket_start);
DROP INDEX usage_delta_target_time;
CREATE INDEX usage_delta_target_time ON usage_delta (target_id, resolution, bucket_start) INCLUDE (node, index_key, seconds, scans);

