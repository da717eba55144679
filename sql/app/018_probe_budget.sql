-- A probe stops on a time budget as well as on a sample count: how many samples it meant to take, and
-- whether the budget cut it short, so a p95 from fewer samples is never shown as if it were whole.
ALTER TABLE latency_probe ADD COLUMN samples_wanted integer;
ALTER TABLE latency_probe ADD COLUMN budget_cut boolean NOT NULL DEFAULT false;
