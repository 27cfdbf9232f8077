-- What the outbox relay (lib/src/audit-relay.ts) needs besides 001: the error code of the last failed
-- delivery, so that when the audit service comes back the relay can release the events that only
-- waited for it (UNAVAILABLE, INTERNAL...) while events the audit service rejected (BAD_USER_INPUT)
-- keep their backoff; and an index for pruning delivered rows.
ALTER TABLE audit_outbox ADD COLUMN last_error_code text;
CREATE INDEX audit_outbox_delivered ON audit_outbox (delivered_at) WHERE delivered_at IS NOT NULL;
