-- Why a rollout's last phase failed, as a code (lib/troubleshooting.ts FAILURE_CODES) beside the message
-- a person reads: advice is chosen by the code, never by reading the message.
ALTER TABLE rollout ADD COLUMN error_code text;
