-- The audit trail: append-only, hash-chained per organization. Events without an organization (a
-- failed login for an unknown email, say) form the "platform" chain.

-- One row per chain: the head the next event links to. Appends lock this row, so each chain grows
-- one event at a time while other orgs' chains grow in parallel.
CREATE TABLE audit_chains (
  chain text PRIMARY KEY,
  org_id uuid,
  last_seq bigint NOT NULL DEFAULT 0,
  last_hash text NOT NULL DEFAULT repeat('0', 64),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (chain = coalesce(org_id::text, 'platform'))
);

CREATE TABLE audit_events (
  id uuid PRIMARY KEY,
  chain text NOT NULL REFERENCES audit_chains (chain),
  chain_seq bigint NOT NULL,
  org_id uuid,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  service text NOT NULL,
  actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'apiKey', 'service', 'anonymous')),
  actor_id text NOT NULL,
  actor_user_id text,
  actor_api_key_id text,
  actor_display text,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text NOT NULL,
  outcome text NOT NULL,
  request_id text NOT NULL,
  ip text NOT NULL,
  user_agent text NOT NULL,
  diff jsonb,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  CHECK (chain = coalesce(org_id::text, 'platform')),
  UNIQUE (chain, chain_seq)
);
CREATE INDEX audit_events_actor ON audit_events (chain, actor_id, chain_seq);
CREATE INDEX audit_events_user ON audit_events (chain, actor_user_id, chain_seq);
CREATE INDEX audit_events_action ON audit_events (chain, action, chain_seq);
CREATE INDEX audit_events_target ON audit_events (chain, target_type, target_id, chain_seq);
CREATE INDEX audit_events_outcome ON audit_events (chain, outcome, chain_seq);
CREATE INDEX audit_events_occurred ON audit_events (chain, occurred_at);

-- Where retention archived a chain's oldest events to a file: the chain stays verifiable from
-- last_hash (the hash of event through_seq, which the first remaining event links to).
CREATE TABLE audit_checkpoints (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  chain text NOT NULL REFERENCES audit_chains (chain),
  org_id uuid,
  from_seq bigint NOT NULL,
  through_seq bigint NOT NULL,
  first_prev_hash text NOT NULL,
  last_hash text NOT NULL,
  event_count bigint NOT NULL,
  first_occurred_at timestamptz NOT NULL,
  last_occurred_at timestamptz NOT NULL,
  archive_file text NOT NULL,
  archive_sha256 text NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now(),
  CHECK (chain = coalesce(org_id::text, 'platform')),
  CHECK (through_seq >= from_seq),
  UNIQUE (chain, through_seq)
);

-- Append-only for everyone, the owner role included: only the retention job, which archives first,
-- may delete (it sets orchestra.audit_retention for its own transaction). Nobody may update.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('orchestra.audit_retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Tenants read their own org's rows and nothing else; they write nothing here (the gRPC Record path
-- and retention run as the owner). Write privileges are revoked after each migration run as well
-- (see src/migrate.ts), because runMigrations grants the tenant role every table by default.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_events_read ON audit_events FOR SELECT USING (org_id = current_org_id());
ALTER TABLE audit_chains ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_chains_read ON audit_chains FOR SELECT USING (org_id = current_org_id());
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_checkpoints_read ON audit_checkpoints FOR SELECT USING (org_id = current_org_id());
