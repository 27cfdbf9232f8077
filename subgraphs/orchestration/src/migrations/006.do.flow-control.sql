-- Flow control (issue 10): how much runs at once and what goes first.

-- A version's workflow-wide settings: { priority?, concurrency?: { key, limit, onLimit } }.
ALTER TABLE workflow_versions ADD COLUMN options jsonb NOT NULL DEFAULT '{}';

-- Named rate limits of an organization; steps consume units of them when their tasks start.
CREATE TABLE rate_limits (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL,
  units_per_period integer NOT NULL CHECK (units_per_period > 0),
  period text NOT NULL CHECK (period IN ('SECOND', 'MINUTE', 'HOUR')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rate_limits_name_unique UNIQUE (org_id, name)
);

-- What each task start consumed, at the time it started: a limit's window is the sum of the rows
-- younger than its period (a sliding window, exact at any instant). Rows older than an hour go.
CREATE TABLE rate_limit_usage (
  rate_limit_id uuid NOT NULL REFERENCES rate_limits (id) ON DELETE CASCADE,
  org_id uuid NOT NULL,
  attempt_id uuid NOT NULL,
  units integer NOT NULL CHECK (units > 0),
  at timestamptz NOT NULL,
  PRIMARY KEY (rate_limit_id, attempt_id)
);
CREATE INDEX rate_limit_usage_window ON rate_limit_usage (rate_limit_id, at);

-- Quotas platform operators set per organization (a null column: the platform's default).
CREATE TABLE org_quotas (
  org_id uuid PRIMARY KEY,
  running_tasks_per_pool integer CHECK (running_tasks_per_pool >= 0),
  runs_started_per_minute integer CHECK (runs_started_per_minute >= 0),
  queued_tasks integer CHECK (queued_tasks >= 0),
  -- Its share of a pool's slots while several organizations wait (1 = an equal share).
  weight integer CHECK (weight BETWEEN 1 AND 100),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Pools an organization's steps may use besides the shared default pool, granted by operators.
CREATE TABLE pool_grants (
  org_id uuid NOT NULL,
  pool text NOT NULL,
  granted_by text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, pool)
);

ALTER TABLE rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_quotas ENABLE ROW LEVEL SECURITY;
ALTER TABLE pool_grants ENABLE ROW LEVEL SECURITY;
CREATE POLICY rate_limits_tenant ON rate_limits USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY rate_limit_usage_tenant ON rate_limit_usage USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
-- An organization reads its quotas and grants; only operators (no tenant) change them.
CREATE POLICY org_quotas_tenant_read ON org_quotas FOR SELECT USING (org_id = current_org_id());
CREATE POLICY pool_grants_tenant_read ON pool_grants FOR SELECT USING (org_id = current_org_id());
