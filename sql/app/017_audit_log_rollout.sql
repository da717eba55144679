-- A rollout's report and page read that rollout's audit rows; without this index each read scanned
-- the whole log, so a report's cost grew with every row anyone ever wrote (issue 16, point 10).
CREATE INDEX audit_log_rollout ON audit_log (rollout_id, id) WHERE rollout_id IS NOT NULL;
