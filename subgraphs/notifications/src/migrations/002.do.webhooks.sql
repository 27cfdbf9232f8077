-- Outbound webhooks: endpoints per organization with the events they want, one delivery per
-- endpoint per event (retried with backoff by any replica's sender), and every attempt logged.

CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  url text NOT NULL CHECK (length(url) <= 2048),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  events text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 100),
  enabled boolean NOT NULL DEFAULT true,
  -- The signing secret (whsec_<base64>) and, for an overlap window after a rotation, the previous one:
  -- deliveries are signed with both until previous_secret_expires_at.
  secret text NOT NULL,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  secret_rotated_at timestamptz,
  disabled_at timestamptz,
  disabled_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at);

CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  -- The exact JSON body POSTed (every attempt sends the same bytes).
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- Retries stop here: the delivery fails and its endpoint is disabled.
  give_up_at timestamptz NOT NULL,
  last_status_code integer,
  last_latency_ms integer,
  last_response_excerpt text,
  last_error text,
  delivered_at timestamptz,
  -- A manual redelivery is a new delivery of the same event (same webhook-id, new attempts).
  redelivery_of uuid REFERENCES webhook_deliveries (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- One automatic delivery per endpoint per event, however often the fan-out runs.
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (endpoint_id, event_id) WHERE redelivery_of IS NULL;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id DESC);

CREATE TABLE webhook_attempts (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempted_at timestamptz NOT NULL DEFAULT now(),
  status_code integer,
  latency_ms integer NOT NULL,
  response_excerpt text,
  error text,
  succeeded boolean NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempted_at);

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_org ON webhook_endpoints USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_org ON webhook_deliveries USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_attempts_org ON webhook_attempts USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
