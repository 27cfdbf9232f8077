-- Accounting (issue 14): every model provider request an attempt made (tokens, provider, model, time
-- to first token, tokens a second, cost at the provider's prices as dispatched), and the GPU time of
-- every attempt that ran on a worker with GPUs. Rolled up per run, task, app, workflow, provider and
-- day by queries (store/usage.ts); rows go with their run.
CREATE TABLE model_calls (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id uuid NOT NULL,
  attempt_id uuid NOT NULL,
  workflow_id uuid NOT NULL,
  app_id uuid,
  provider text NOT NULL CHECK (length(provider) <= 100),
  -- The model that answered (the provider's name for it), and the step's name for it.
  model text NOT NULL CHECK (length(model) <= 200),
  requested_model text NOT NULL CHECK (length(requested_model) <= 200),
  prompt_tokens bigint NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens bigint NOT NULL CHECK (completion_tokens >= 0),
  -- Request to first token; 0 when no token came.
  ttft_ms integer NOT NULL CHECK (ttft_ms >= 0),
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  tokens_per_second double precision NOT NULL CHECK (tokens_per_second >= 0),
  -- US dollars, from the prices the attempt was dispatched with.
  cost_usd numeric(20, 10) NOT NULL CHECK (cost_usd >= 0),
  -- Null on success.
  error_code text CHECK (length(error_code) <= 100),
  error_message text CHECK (length(error_message) <= 1000),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_calls_org_time ON model_calls (org_id, created_at);
CREATE INDEX model_calls_run ON model_calls (run_id);
ALTER TABLE model_calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_calls_tenant ON model_calls USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

CREATE TABLE gpu_usage (
  attempt_id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id uuid NOT NULL,
  workflow_id uuid NOT NULL,
  app_id uuid,
  worker_id text NOT NULL,
  -- The GPUs placed (or, for an attempt placed on none, every GPU the worker reported).
  gpu_count integer NOT NULL CHECK (gpu_count > 0),
  gpu_models text[] NOT NULL,
  seconds double precision NOT NULL CHECK (seconds >= 0),
  gpu_seconds double precision NOT NULL CHECK (gpu_seconds >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gpu_usage_org_time ON gpu_usage (org_id, created_at);
CREATE INDEX gpu_usage_run ON gpu_usage (run_id);
ALTER TABLE gpu_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY gpu_usage_tenant ON gpu_usage USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
