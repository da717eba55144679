-- Every session carries the version of its user it was signed in under; disabling, a role change, a
-- password reset and "log out everywhere" bump it, which ends all sessions at once (lib/auth/sessions.ts).
-- Existing users start at 1; cookies from before this migration carry no version and are refused.
ALTER TABLE app_user ADD COLUMN session_version integer NOT NULL DEFAULT 1 CHECK (session_version > 0);

-- Where an attempt came from ('' when the address is not known: see INDEXDECK_TRUSTED_PROXIES), so a
-- burst from one address limits that address, not the account everywhere. A row is written before the
-- password is checked (succeeded = false until it is), so attempts in flight count too.
ALTER TABLE login_attempt ADD COLUMN client text NOT NULL DEFAULT '';
CREATE INDEX login_attempt_client_at ON login_attempt (client, at) WHERE NOT succeeded;
CREATE INDEX login_attempt_at ON login_attempt (at);

-- Failed logins reach the audit log at most once a minute per login (all unknown logins share the
-- login '*'): the row carries how many failures it stands for, so a flood of guesses cannot grow the
-- chain or queue on its lock. `unaudited` counts the failures since `audited_at`.
CREATE TABLE login_failure_tally (
  login      text PRIMARY KEY,
  audited_at timestamptz NOT NULL,
  unaudited  integer NOT NULL DEFAULT 0
);
