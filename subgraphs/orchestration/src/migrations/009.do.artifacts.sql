-- Task artifacts (issue 8): files an attempt wrote to the artifact store (screenshots, PDFs,
-- downloads). The bytes live in the store under storage_key (<orgId>/<runId>/<taskId>/<attemptId>/<name>);
-- these rows are what the API lists and what the gateway checks before it serves the bytes.
-- Recorded when the attempt's result is applied; a retried task keeps each attempt's own.
CREATE TABLE artifacts (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt_id uuid NOT NULL REFERENCES task_attempts (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name ~ '^[A-Za-z0-9._-]{1,100}$'),
  content_type text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 200),
  size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  storage_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT artifacts_attempt_name_unique UNIQUE (attempt_id, name)
);
CREATE INDEX artifacts_task ON artifacts (task_id, created_at);
-- The retention job walks each organization's oldest artifacts.
CREATE INDEX artifacts_org_created ON artifacts (org_id, created_at);

ALTER TABLE artifacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY artifacts_tenant ON artifacts USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- An organization's artifact settings (admins change them; no row: the defaults).
CREATE TABLE artifact_settings (
  org_id uuid PRIMARY KEY,
  retention_days integer NOT NULL CHECK (retention_days BETWEEN 1 AND 365),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE artifact_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY artifact_settings_tenant ON artifact_settings USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
