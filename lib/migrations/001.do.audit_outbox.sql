-- The transactional outbox every service writes its audit events to (lib/src/audit.ts), in the same
-- transaction as the change they describe. The relay delivers them to AuditService.Record.
CREATE TABLE audit_outbox (
  id uuid PRIMARY KEY,
  org_id uuid,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  delivered_at timestamptz
);
CREATE INDEX audit_outbox_pending ON audit_outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- Tenant transactions may add events for their own org only, and read nothing.
ALTER TABLE audit_outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_outbox_insert ON audit_outbox FOR INSERT WITH CHECK (org_id IS NOT DISTINCT FROM current_org_id());

-- Wakes the relay at once instead of at its next poll.
CREATE FUNCTION audit_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('audit_outbox_' || TG_TABLE_SCHEMA, '');
  RETURN NULL;
END $$;
CREATE TRIGGER audit_outbox_notify AFTER INSERT ON audit_outbox FOR EACH STATEMENT EXECUTE FUNCTION audit_outbox_notify();
