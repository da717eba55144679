-- Approval policy, maintenance windows and freezes as changed by admins in the app. The targets
-- file gives each target's starting policy; the newest row here, when there is one, replaces it.
-- Never edited: each change is a new version, written with its audit row in one transaction.
CREATE TABLE target_policy (
  id              bigserial PRIMARY KEY,
  target_id       text NOT NULL,
  version         int NOT NULL CHECK (version > 0),
  policy          jsonb NOT NULL,
  reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
  changed_by      text NOT NULL,
  changed_by_role text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- Two admins saving at once: one of them gets version N, the other a conflict, never a fork.
  UNIQUE (target_id, version)
);

CREATE TRIGGER target_policy_no_update_delete
  BEFORE UPDATE OR DELETE ON target_policy
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
