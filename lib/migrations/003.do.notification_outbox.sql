-- The transactional outbox every service writes the events notifications react to (run failed,
-- member joined, ...; lib/src/notification-events.ts), in the same transaction as the change they
-- describe. The relay (lib/src/notification-relay.ts) delivers them to NotificationService.Publish,
-- so nothing is lost while the notifications service is down.
CREATE TABLE notification_outbox (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  last_error_code text,
  delivered_at timestamptz
);
CREATE INDEX notification_outbox_pending ON notification_outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX notification_outbox_delivered ON notification_outbox (delivered_at) WHERE delivered_at IS NOT NULL;

-- Tenant transactions may add events for their own org only, and read nothing.
ALTER TABLE notification_outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_outbox_insert ON notification_outbox FOR INSERT WITH CHECK (org_id = current_org_id());

-- Wakes the relay at once instead of at its next poll.
CREATE FUNCTION notification_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('notification_outbox_' || TG_TABLE_SCHEMA, '');
  RETURN NULL;
END $$;
CREATE TRIGGER notification_outbox_notify AFTER INSERT ON notification_outbox FOR EACH STATEMENT EXECUTE FUNCTION notification_outbox_notify();
