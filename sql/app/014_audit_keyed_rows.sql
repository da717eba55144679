-- Keyed rows, and a link the app's role cannot replace.
--
-- Scheme 2's chain is plain SHA-256: whoever can write audit_log (a superuser with the triggers
-- disabled) can edit a row and recompute every hash after it, or add a row at the head, and the
-- chain still verifies. From here on the app also signs each row's content with a key the store never
-- sees (INDEXDECK_AUDIT_KEY): mac = HMAC-SHA-256(key, 'indexdeck-audit-row:' || content_hash), made in
-- the app before the insert (lib/audit/key.ts), so a row written without the key cannot pass
-- `audit verify` run with it. The link covers the MAC too, sha256(id ':' prev_hash ':' content_hash
-- ':' mac), so turning signed rows back into unsigned ones changes every hash from there on, which a
-- checkpoint kept outside the store (`audit verify --anchor`) shows.
ALTER TABLE audit_log ADD COLUMN mac text CHECK (mac ~ '^[0-9a-f]{64}$');
ALTER TABLE audit_log DROP CONSTRAINT audit_log_scheme_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_scheme_check CHECK (scheme IN (1, 2, 3));
ALTER TABLE audit_log DROP CONSTRAINT audit_log_scheme_content;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_scheme_content CHECK ((scheme >= 2) = (content_hash IS NOT NULL) AND (scheme = 3) = (mac IS NOT NULL));

-- Pending rows of committed transactions were linked when they committed; the ALTER below waits for
-- those still in flight. What is left here is dead weight.
DELETE FROM audit_pending;
ALTER TABLE audit_pending ADD COLUMN mac text NOT NULL CHECK (mac ~ '^[0-9a-f]{64}$');

-- SECURITY DEFINER: the link runs as the owner (the migrating role), so the app's runtime role needs
-- only INSERT on audit_pending and SELECT on audit_log, never a right to write the chain itself
-- (lib/store/roles.ts grants exactly that). The search path is fixed so that nothing a caller puts
-- first in its own path can stand in for the tables or functions used here.
CREATE OR REPLACE FUNCTION audit_link_pending() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
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
  SELECT hash INTO head FROM public.audit_log ORDER BY id DESC LIMIT 1;
  head := coalesce(head, repeat('0', 64));
  -- Taken under the lock, so ids follow chain order.
  new_id := nextval('public.audit_log_id_seq');
  INSERT INTO public.audit_log (id, at, actor, role, action, target_id, rollout_id, changeset_sha256, details,
                                prev_hash, hash, scheme, content_hash, mac)
  VALUES (new_id, NEW.at, NEW.actor, NEW.role, NEW.action, NEW.target_id, NEW.rollout_id, NEW.changeset_sha256,
          NEW.details, head,
          encode(sha256(convert_to(new_id::text || ':' || head || ':' || NEW.content_hash || ':' || NEW.mac, 'UTF8')), 'hex'),
          3, NEW.content_hash, NEW.mac);
  -- Every committed pending row has been linked, and rows of transactions still in flight are not
  -- visible here, so clearing what this snapshot sees is safe. In batches: a delete per append held
  -- the lock a third longer.
  IF new_id % 1000 = 0 THEN
    DELETE FROM public.audit_pending WHERE seq <= NEW.seq;
  END IF;
  RETURN NULL;
END
$$;
-- Nobody but the owner calls it directly; the trigger calls it for every insert whoever inserts.
REVOKE ALL ON FUNCTION audit_link_pending() FROM PUBLIC;
