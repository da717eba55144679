-- Outgoing webhooks ride the durable job queue: a delivery is a job of kind 'webhook', claimed by its
-- own runner (so a slow receiver never holds up a phase), retried with backoff through run_after.
-- A delivery belongs to no rollout's one-open-job slot: its rollout, if any, is in the payload.
ALTER TABLE job DROP CONSTRAINT job_kind_check;
ALTER TABLE job ADD CONSTRAINT job_kind_check CHECK (kind IN ('precheck', 'apply', 'verify', 'rollback', 'webhook'));
ALTER TABLE job ALTER COLUMN rollout_id DROP NOT NULL;
ALTER TABLE job ADD CONSTRAINT job_rollout_of_phase CHECK ((kind = 'webhook') = (rollout_id IS NULL));
ALTER TABLE job ADD COLUMN run_after timestamptz NOT NULL DEFAULT now();

-- Every attempt to deliver, as admins see it: no URL (a Slack URL is a secret), no secret, no body.
CREATE TABLE webhook_attempt (
  id           bigserial PRIMARY KEY,
  job_id       bigint NOT NULL REFERENCES job (id),
  delivery_id  uuid NOT NULL,
  webhook_id   text NOT NULL,
  event        text NOT NULL,
  rollout_id   bigint REFERENCES rollout (id),
  target_id    text NOT NULL,
  attempt      integer NOT NULL,
  started_at   timestamptz NOT NULL,
  duration_ms  double precision NOT NULL,
  http_status  integer,
  outcome      text NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'gave_up')),
  error        text
);
CREATE INDEX webhook_attempt_recent ON webhook_attempt (id DESC);

-- INVALID indexes the collector has already announced, so each is announced once, by whichever server.
CREATE TABLE invalid_index_seen (
  target_id  text NOT NULL,
  index_key  text NOT NULL,
  seen_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_id, index_key)
);
