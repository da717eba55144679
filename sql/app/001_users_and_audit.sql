-- People who may sign in, and the roles that decide what they may do (lib/auth/policy.ts).
CREATE TABLE app_user (
  id            bigserial PRIMARY KEY,
  email         text NOT NULL UNIQUE CHECK (length(email) BETWEEN 1 AND 254),
  role          text NOT NULL CHECK (role IN ('admin', 'dba', 'sre', 'manager', 'engineer')),
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz
);

-- Every sign-in attempt, kept to slow down password guessing per account.
CREATE TABLE login_attempt (
  id        bigserial PRIMARY KEY,
  email     text NOT NULL,
  succeeded boolean NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempt_email_at ON login_attempt (email, at);

-- Append-only, hash-chained record of every decision. Rows are written by lib/audit/log.ts only,
-- in the same transaction as the change they record.
CREATE TABLE audit_log (
  id               bigint PRIMARY KEY,
  at               timestamptz NOT NULL,
  actor            text,
  role             text,
  action           text NOT NULL,
  target_id        text,
  rollout_id       bigint,
  changeset_sha256 text,
  details          jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash        text NOT NULL,
  hash             text NOT NULL UNIQUE
);
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Change sets uploaded through the UI. Never edited in place: a new version is a new row.
CREATE TABLE change_set (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]{1,100}$'),
  sha256      text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  sql         text NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER change_set_no_update
  BEFORE UPDATE ON change_set
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
