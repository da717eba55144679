-- The seed's post-deployment tasks as tracked items of a signed-off rollout. Resolved from
-- monitoring data where it can tell; otherwise they come due on the home page.
CREATE TABLE followup (
  id           bigserial PRIMARY KEY,
  rollout_id   bigint NOT NULL REFERENCES rollout (id),
  kind         text NOT NULL CHECK (kind IN ('usage_24h', 'sustained_1w', 'unused_30d')),
  due_at       timestamptz NOT NULL,
  resolved_at  timestamptz,
  evidence     text,
  UNIQUE (rollout_id, kind)
);
CREATE INDEX followup_open ON followup (due_at) WHERE resolved_at IS NULL;
