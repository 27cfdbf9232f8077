-- Model providers of an organization (issue 14): named OpenAI-compatible endpoints that llm and
-- browser.agent steps name (`provider` / `providers: [...]`). The API key is not here: the provider
-- names an organization secret (`api_key_secret`), read only at dispatch like any other secret.
CREATE TABLE llm_providers (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  base_url text NOT NULL CHECK (length(base_url) <= 2048),
  -- The name of the secret holding the API key; null: the provider needs none (a local Ollama).
  api_key_secret text,
  -- [{ alias, model, inputPricePerMillion?, outputPricePerMillion? }]
  models jsonb NOT NULL DEFAULT '[]',
  -- US dollars per million tokens.
  input_price_per_million double precision NOT NULL DEFAULT 0 CHECK (input_price_per_million >= 0),
  output_price_per_million double precision NOT NULL DEFAULT 0 CHECK (output_price_per_million >= 0),
  -- Per organization, across its runs; null: no limit.
  requests_per_minute integer CHECK (requests_per_minute > 0),
  tokens_per_minute integer CHECK (tokens_per_minute > 0),
  -- First token and between chunks; null: the worker's default.
  timeout_ms integer CHECK (timeout_ms > 0),
  -- Served on workers' own machines: only workers that declare base_url run its steps.
  worker_local boolean NOT NULL DEFAULT false,
  created_by text NOT NULL,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT llm_providers_name_unique UNIQUE (org_id, name)
);

ALTER TABLE llm_providers ENABLE ROW LEVEL SECURITY;
CREATE POLICY llm_providers_tenant ON llm_providers USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
