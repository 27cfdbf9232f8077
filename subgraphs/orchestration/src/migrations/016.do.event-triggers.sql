-- Events, triggers and inbound webhooks (issue 10). emitEvent records an event and starts every
-- workflow whose trigger matches its name (and filter). event_starts holds one row per
-- (org, idempotency key, workflow): the start inserts it ON CONFLICT DO NOTHING before starting the
-- run, so a key replayed (or raced by a second emitter) never starts the same workflow twice — the
-- unique key decides, not a read before the write (src/events/emit.ts).
CREATE TABLE triggers (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  event_name text NOT NULL CHECK (event_name ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$'),
  -- [{ "path": "/json/pointer", "equals": <json> }, ...]: every condition must hold (src/events/event-filter.ts).
  filter jsonb NOT NULL DEFAULT '[]',
  -- The inbound webhook's HMAC secret, envelope-encrypted like organization secrets
  -- (src/secrets/keyring.ts, bound to org + trigger id); NULL: the trigger has no webhook.
  webhook_key_id text,
  webhook_wrapped_key bytea,
  webhook_ciphertext bytea,
  webhook_secret_rotated_at timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX triggers_event ON triggers (org_id, event_name);
CREATE INDEX triggers_workflow ON triggers (org_id, workflow_id);

CREATE TABLE events (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL,
  payload jsonb NOT NULL,
  idempotency_key text NOT NULL,
  -- API (GraphQL), GRPC or WEBHOOK
  source text NOT NULL CHECK (source IN ('API', 'GRPC', 'WEBHOOK')),
  emitted_by text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_org_received ON events (org_id, received_at DESC);

CREATE TABLE event_starts (
  org_id uuid NOT NULL,
  idempotency_key text NOT NULL,
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  trigger_id uuid REFERENCES triggers (id) ON DELETE SET NULL,
  run_id uuid REFERENCES runs (id) ON DELETE SET NULL,
  -- When the run could not start (no version, input that does not fit, a quota): why.
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, workflow_id, idempotency_key)
);
CREATE INDEX event_starts_event ON event_starts (event_id);

-- Every request to POST /hooks/<trigger id> that names an existing trigger: accepted or refused, and why.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  trigger_id uuid NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
  received_at timestamptz NOT NULL DEFAULT now(),
  outcome text NOT NULL CHECK (outcome IN ('ACCEPTED', 'REFUSED')),
  reason text,
  message text,
  event_id uuid REFERENCES events (id) ON DELETE SET NULL,
  body_bytes integer NOT NULL,
  source_ip text,
  request_id text
);
CREATE INDEX webhook_deliveries_trigger ON webhook_deliveries (trigger_id, received_at DESC);

ALTER TABLE triggers ENABLE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_starts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY triggers_tenant ON triggers USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY events_tenant ON events USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY event_starts_tenant ON event_starts USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY webhook_deliveries_tenant ON webhook_deliveries USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
