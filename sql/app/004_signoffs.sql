-- Sign-offs after verify: the seed's readiness checklist, each item proven from evidence or attested
-- by the person signing, the decision and notes, and the hash of the audit row written with it.
CREATE TABLE signoff (
  id             bigserial PRIMARY KEY,
  rollout_id     bigint NOT NULL REFERENCES rollout (id),
  target_id      text NOT NULL,
  decision       text NOT NULL CHECK (decision IN ('signed_off', 'signed_off_with_follow_ups', 'not_signed_off')),
  checklist      jsonb NOT NULL,
  notes          text NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
  signed_by      text NOT NULL,
  signed_by_role text NOT NULL,
  audit_hash     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signoff_created ON signoff (created_at);
-- At most one positive sign-off per rollout.
CREATE UNIQUE INDEX signoff_one_positive ON signoff (rollout_id) WHERE decision <> 'not_signed_off';

CREATE TRIGGER signoff_no_update_delete
  BEFORE UPDATE OR DELETE ON signoff
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_target ON audit_log (target_id, id);
