-- Service users: accounts for scripts and CI, made by an admin, that act only through API tokens.
-- Their password_hash is a marker no password hashes to, and sign-in skips them altogether.
ALTER TABLE app_user ADD COLUMN service boolean NOT NULL DEFAULT false;

-- API tokens (lib/auth/tokens.ts). Only the SHA-256 of the secret is kept: the secret is 32 random
-- bytes, too many to guess, so a slow password hash would add cost to every call and no safety.
-- A token acts as its owner with at most `role` (the owner's current role caps it), only on
-- `targets` when that is set, until `expires_at` or `revoked_at`.
CREATE TABLE api_token (
  id            bigserial PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES app_user (id),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  role          text NOT NULL CHECK (role IN ('admin', 'dba', 'sre', 'manager', 'engineer')),
  targets       text[] CHECK (targets IS NULL OR cardinality(targets) BETWEEN 1 AND 100),
  secret_sha256 bytea NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz,
  revoked_by    text,
  last_used_at  timestamptz,
  CHECK (expires_at > created_at AND expires_at <= created_at + interval '366 days')
);
CREATE INDEX api_token_user ON api_token (user_id);
