-- What was approved is what runs (invariant 9): once a rollout exists, the SQL it runs, its sha256
-- and what the approvals were bound to can't be changed in the store; apply re-hashes the SQL too.
CREATE FUNCTION refuse_rollout_identity_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.changeset_sql IS DISTINCT FROM OLD.changeset_sql
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

CREATE TRIGGER rollout_identity_fixed
  BEFORE UPDATE ON rollout
  FOR EACH ROW EXECUTE FUNCTION refuse_rollout_identity_change();

CREATE TRIGGER rollout_no_delete
  BEFORE DELETE ON rollout
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- An approval is a record of a decision: never edited, never removed.
CREATE TRIGGER approval_no_update_delete
  BEFORE UPDATE OR DELETE ON approval
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TRIGGER change_set_no_delete
  BEFORE DELETE ON change_set
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TRIGGER rollout_no_truncate BEFORE TRUNCATE ON rollout FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER approval_no_truncate BEFORE TRUNCATE ON approval FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER change_set_no_truncate BEFORE TRUNCATE ON change_set FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
