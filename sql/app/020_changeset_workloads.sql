-- A change set carries the query patterns it is meant to speed up (issue 17, point 8): an upload stores
-- them beside its SQL, a rollout keeps the copy it was created with, and both are hashed together into
-- the sha256 the approvals bind (lib/changeset/catalog.ts changeSetDigest). "" is a change set without any.
ALTER TABLE change_set ADD COLUMN workloads text NOT NULL DEFAULT '';
ALTER TABLE rollout ADD COLUMN changeset_workloads text NOT NULL DEFAULT '';

-- What the approvals were bound to can't be changed once a rollout exists: now its query patterns too.
CREATE OR REPLACE FUNCTION refuse_rollout_identity_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.changeset_sql IS DISTINCT FROM OLD.changeset_sql
     OR NEW.changeset_workloads IS DISTINCT FROM OLD.changeset_workloads
     OR NEW.changeset_sha256 IS DISTINCT FROM OLD.changeset_sha256
     OR NEW.changeset_name IS DISTINCT FROM OLD.changeset_name
     OR NEW.changeset_id IS DISTINCT FROM OLD.changeset_id
     OR NEW.target_id IS DISTINCT FROM OLD.target_id
     OR NEW.environment IS DISTINCT FROM OLD.environment
     OR NEW.requested_by IS DISTINCT FROM OLD.requested_by
     OR NEW.approvals_required IS DISTINCT FROM OLD.approvals_required THEN
    RAISE EXCEPTION 'rollout %: its change set, target, requester and approval count are fixed at creation', OLD.id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
