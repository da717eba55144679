-- A rollout: one change set (by sha256, with the exact SQL kept) × one target.
CREATE TABLE rollout (
  id                 bigserial PRIMARY KEY,
  changeset_id       text NOT NULL,
  changeset_name     text NOT NULL,
  changeset_sha256   text NOT NULL CHECK (changeset_sha256 ~ '^[0-9a-f]{64}$'),
  changeset_sql      text NOT NULL,
  target_id          text NOT NULL,
  environment        text NOT NULL CHECK (environment IN ('staging', 'production')),
  state              text NOT NULL CHECK (state IN (
                       'draft', 'awaiting_approval', 'approved', 'prechecked', 'applying', 'verifying',
                       'verified', 'signed_off', 'failed', 'rolled_back', 'cancelled')),
  approvals_required integer NOT NULL CHECK (approvals_required BETWEEN 0 AND 2),
  requested_by       text NOT NULL,
  precheck           jsonb,
  verify             jsonb,
  error              text,
  cancel_requested   boolean NOT NULL DEFAULT false,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rollout_target_state ON rollout (target_id, state);

-- Invariant 2 in the store: at most one rollout per target is applying or rolling back at a time.
-- (The apply session also holds an advisory lock on the target itself.)
CREATE UNIQUE INDEX rollout_one_active_per_target ON rollout (target_id)
  WHERE state = 'applying';

-- One task per statement of the change set, in file order.
CREATE TABLE rollout_task (
  rollout_id          bigint NOT NULL REFERENCES rollout (id),
  seq                 integer NOT NULL,
  kind                text NOT NULL,
  statement           text NOT NULL,
  line                integer NOT NULL,
  index_name          text,
  schema_name         text,
  table_name          text,
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN (
                        'pending', 'waiting_for_lock', 'building', 'validating', 'done', 'skipped_exists',
                        'failed', 'invalid_cleaned')),
  attempts            integer NOT NULL DEFAULT 0,
  created_by_rollout  boolean NOT NULL DEFAULT false,
  started_at          timestamptz,
  finished_at         timestamptz,
  error               text,
  PRIMARY KEY (rollout_id, seq)
);

-- Everything that happened to a rollout, in order; streamed to browsers as Server-Sent Events.
CREATE TABLE rollout_event (
  id          bigserial PRIMARY KEY,
  rollout_id  bigint NOT NULL REFERENCES rollout (id),
  at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  kind        text NOT NULL,
  task_seq    integer,
  data        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX rollout_event_rollout ON rollout_event (rollout_id, id);

-- Durable work queue shared by every app server: claimed with FOR UPDATE SKIP LOCKED, kept
-- alive by a heartbeat; a job whose heartbeat stops is reconciled by whichever server is alive.
CREATE TABLE job (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('precheck', 'apply', 'verify', 'rollback')),
  rollout_id    bigint NOT NULL REFERENCES rollout (id),
  payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
  state         text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  locked_by     text,
  heartbeat_at  timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  error         text
);
CREATE INDEX job_queued ON job (id) WHERE state = 'queued';
CREATE INDEX job_running ON job (heartbeat_at) WHERE state = 'running';
-- A rollout has at most one unfinished job: double clicks and two servers cannot start a phase twice.
CREATE UNIQUE INDEX job_one_open_per_rollout ON job (rollout_id) WHERE state IN ('queued', 'running');
