-- Chaining at commit. An append used to take the chain lock at its first statement and hold it until
-- COMMIT, so every client round trip of the recording transaction was spent inside the lock and
-- appends topped out near 500/s. Now a transaction only inserts its rows into audit_pending; a
-- deferred trigger links them into audit_log while the transaction commits, so the lock is held for
-- the trigger and the commit's WAL flush only. The row and its change still commit or roll back
-- together: the trigger runs inside the committing transaction.

-- Scheme 1 rows (before this migration) hash every field at once (lib/audit/canonical.ts auditHash).
-- Scheme 2 rows hash their content in the app (content_hash) and are linked here as
-- sha256(id ':' prev_hash ':' content_hash), which the database can compute at commit.
ALTER TABLE audit_log ADD COLUMN scheme smallint NOT NULL DEFAULT 1 CHECK (scheme IN (1, 2));
ALTER TABLE audit_log ALTER COLUMN scheme DROP DEFAULT;
ALTER TABLE audit_log ADD COLUMN content_hash text CHECK (content_hash ~ '^[0-9a-f]{64}$');
ALTER TABLE audit_log ADD CONSTRAINT audit_log_scheme_content CHECK ((scheme = 2) = (content_hash IS NOT NULL));
-- Sign-offs find their audit row by content hash (its chain hash exists only after commit).
CREATE INDEX audit_log_content_hash ON audit_log (content_hash) WHERE content_hash IS NOT NULL;

-- Rows wait here from their insert to their transaction's commit, when the trigger below copies them
-- into the chain; after that they are dead weight, cleared in batches. Nothing here is needed after a
-- crash, so the table writes no WAL.
CREATE UNLOGGED TABLE audit_pending (
  seq              bigserial PRIMARY KEY,
  at               timestamptz NOT NULL,
  actor            text,
  role             text,
  action           text NOT NULL,
  target_id        text,
  rollout_id       bigint,
  changeset_sha256 text,
  details          jsonb NOT NULL,
  content_hash     text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$')
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);

CREATE FUNCTION audit_link_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  head   text;
  new_id bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('indexdeck.audit'));
  -- The head is read after the lock with a fresh snapshot; a repeatable-read snapshot could predate
  -- the previous append and fork the chain.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit rows must be written in a READ COMMITTED transaction, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'feature_not_supported';
  END IF;
  SELECT hash INTO head FROM audit_log ORDER BY id DESC LIMIT 1;
  head := coalesce(head, repeat('0', 64));
  -- Taken under the lock, so ids follow chain order.
  new_id := nextval('audit_log_id_seq');
  INSERT INTO audit_log (id, at, actor, role, action, target_id, rollout_id, changeset_sha256, details,
                         prev_hash, hash, scheme, content_hash)
  VALUES (new_id, NEW.at, NEW.actor, NEW.role, NEW.action, NEW.target_id, NEW.rollout_id, NEW.changeset_sha256,
          NEW.details, head,
          encode(sha256(convert_to(new_id::text || ':' || head || ':' || NEW.content_hash, 'UTF8')), 'hex'),
          2, NEW.content_hash);
  -- Every committed pending row has been linked, and rows of transactions still in flight are not
  -- visible here, so clearing what this snapshot sees is safe. In batches: a delete per append held
  -- the lock a third longer.
  IF new_id % 1000 = 0 THEN
    DELETE FROM audit_pending WHERE seq <= NEW.seq;
  END IF;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER audit_pending_link
  AFTER INSERT ON audit_pending
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION audit_link_pending();

-- A sign-off made from now on names its audit row by content hash; older ones keep the chain hash.
ALTER TABLE signoff ALTER COLUMN audit_hash DROP NOT NULL;
ALTER TABLE signoff ADD COLUMN audit_content_hash text;
ALTER TABLE signoff ADD CONSTRAINT signoff_audit_ref CHECK (num_nonnulls(audit_hash, audit_content_hash) = 1);
