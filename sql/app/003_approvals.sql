-- Approvals and rejections, bound to the exact SQL (sha256) and target of the rollout. The unique
-- key makes "two distinct people" a property of the store, not only of the code.
CREATE TABLE approval (
  id               bigserial PRIMARY KEY,
  rollout_id       bigint NOT NULL REFERENCES rollout (id),
  changeset_sha256 text NOT NULL,
  target_id        text NOT NULL,
  approver         text NOT NULL,
  approver_role    text NOT NULL,
  decision         text NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment          text NOT NULL CHECK (length(comment) BETWEEN 1 AND 2000),
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (rollout_id, changeset_sha256, approver)
);
