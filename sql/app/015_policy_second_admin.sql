-- Four eyes on production's safeguards (invariant 11): a policy version saved for a production target
-- governs only once a second admin, not its author, has approved it. Until then it is pending, and the
-- version before it stays in force.
ALTER TABLE target_policy ADD COLUMN needs_approval boolean NOT NULL DEFAULT false;

CREATE TABLE target_policy_approval (
  id               bigserial PRIMARY KEY,
  target_id        text NOT NULL,
  version          int NOT NULL,
  approved_by      text NOT NULL,
  approved_by_role text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (target_id, version),
  FOREIGN KEY (target_id, version) REFERENCES target_policy (target_id, version)
);

CREATE TRIGGER target_policy_approval_no_update_delete
  BEFORE UPDATE OR DELETE ON target_policy_approval
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
