-- A snapshot writes one row per index for the same bucket: a raw row, and an update of the open
-- 5-minute, hourly and daily bucket. With index_key leading the primary key, those rows sat on a page
-- of their own per index (10,000 pages a snapshot at 10,000 indexes, each dirtied and logged in
-- full after a checkpoint); led by the bucket, they share a few adjacent pages.
ALTER TABLE usage_delta DROP CONSTRAINT usage_delta_pkey, ADD PRIMARY KEY (target_id, resolution, bucket_start, node, index_key);

-- One index's buckets (its usage chart, its follow-ups). Raw rows are read by time only, and left out:
-- each snapshot's raw row per index would land on a page of its own again.
CREATE INDEX usage_delta_series ON usage_delta (target_id, index_key, resolution, bucket_start) WHERE resolution <> 'raw';

-- The primary key now leads with what this index did; it also carried the counters a snapshot adds to,
-- so no update of an open bucket could be HOT and each one wrote an entry into every index.
DROP INDEX usage_delta_target_time;

-- Room on each page for the next version of its rows, so each snapshot's update of an open bucket, of
-- an index's last counters and of its rates stays on its page (HOT) and touches no index. Pages
-- written before keep their fill until rewritten: only the open buckets are updated.
ALTER TABLE usage_delta SET (fillfactor = 50);
ALTER TABLE usage_last SET (fillfactor = 50);
ALTER TABLE usage_rate SET (fillfactor = 50);
