-- The orchestration engine's tables. PostgreSQL is the source of truth for workflows, runs, tasks
-- and their events; Redis only carries the queue and the live copy of events (DESIGN.md §4–§5).
-- Every tenant table has org_id and a row-level security policy on current_org_id().

CREATE TABLE workflows (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL,
  description text,
  app_id uuid,
  latest_version integer NOT NULL DEFAULT 0,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT workflows_name_unique UNIQUE (org_id, name)
);
CREATE INDEX workflows_app ON workflows (org_id, app_id) WHERE app_id IS NOT NULL;

-- Versions are immutable: a change to a workflow is a new version.
CREATE TABLE workflow_versions (
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  org_id uuid NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  steps jsonb NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, version)
);

CREATE FUNCTION workflow_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'workflow versions are immutable (publish a new version instead)';
END $$;
CREATE TRIGGER workflow_versions_immutable BEFORE UPDATE ON workflow_versions
  FOR EACH ROW EXECUTE FUNCTION workflow_versions_immutable();

CREATE TABLE runs (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  workflow_id uuid NOT NULL REFERENCES workflows (id),
  workflow_version integer NOT NULL,
  app_id uuid,
  status text NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
  input jsonb NOT NULL,
  output jsonb,
  error jsonb,
  idempotency_key text,
  started_by_kind text NOT NULL,
  started_by_id text NOT NULL,
  started_by_user_id text,
  started_by_api_key_id text,
  started_by_display text,
  request_id text,
  cancel_reason text,
  -- The per-run event sequence: events take their seq from here in the transaction of the change.
  last_seq integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX runs_idempotency_key ON runs (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- ids are UUIDv7 (time-ordered): listing newest first is an index scan on id.
CREATE INDEX runs_org_id ON runs (org_id, id DESC);
CREATE INDEX runs_workflow ON runs (org_id, workflow_id, id DESC);
CREATE INDEX runs_started_by ON runs (org_id, started_by_user_id, id DESC);
CREATE INDEX runs_app ON runs (org_id, app_id, created_at DESC) WHERE app_id IS NOT NULL;
CREATE INDEX runs_status ON runs (org_id, status, id DESC);

CREATE TABLE tasks (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_id text NOT NULL,
  -- The step's place in the workflow version (tasks list in that order).
  position integer NOT NULL,
  capability text NOT NULL,
  status text NOT NULL CHECK (status IN ('PENDING', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
  depends_on text[] NOT NULL,
  input_template jsonb,
  -- The input sent to the worker, templates resolved (set when an attempt is dispatched).
  input jsonb,
  output jsonb,
  error jsonb,
  pool text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  timeout_ms integer NOT NULL,
  retry jsonb NOT NULL,
  max_attempts integer NOT NULL,
  -- Attempts ever made; the retry budget counts from attempts_at_reset (retryRun / replay reset it).
  attempts integer NOT NULL DEFAULT 0,
  attempts_at_reset integer NOT NULL DEFAULT 0,
  -- Attempts lost to a dead worker or dispatcher: retried at once, outside the step's retry budget, up to a limit.
  lost_attempts integer NOT NULL DEFAULT 0,
  current_attempt_id uuid,
  progress double precision,
  progress_message text,
  queued_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tasks_step_unique UNIQUE (run_id, step_id)
);

CREATE TABLE task_attempts (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  status text NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'LOST')),
  worker_id text,
  dispatcher_id text,
  -- Not before this time (retry backoff).
  available_at timestamptz NOT NULL DEFAULT now(),
  queued_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  duration_ms integer,
  error jsonb,
  CONSTRAINT task_attempts_number_unique UNIQUE (task_id, attempt)
);
CREATE INDEX task_attempts_running_worker ON task_attempts (worker_id) WHERE status = 'RUNNING';
CREATE INDEX task_attempts_running_dispatcher ON task_attempts (dispatcher_id) WHERE status = 'RUNNING';

-- The queue outbox: an attempt waiting for dispatch, written in the transaction that made it. The
-- row leaves when a dispatcher claims the attempt; enqueued_at says BullMQ accepted it. The
-- reconciler re-enqueues rows never enqueued (crash after commit) or whose job Redis lost.
CREATE TABLE dispatch_outbox (
  attempt_id uuid PRIMARY KEY REFERENCES task_attempts (id) ON DELETE CASCADE,
  org_id uuid NOT NULL,
  run_id uuid NOT NULL,
  task_id uuid NOT NULL,
  pool text NOT NULL,
  available_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  enqueued_at timestamptz
);
CREATE INDEX dispatch_outbox_pending ON dispatch_outbox (created_at) WHERE enqueued_at IS NULL;

CREATE TABLE run_events (
  org_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('RUN_STATUS', 'TASK_STATUS', 'TASK_PROGRESS', 'TASK_LOG')),
  task_id uuid,
  attempt_id uuid,
  -- The event as lib's RunEvent (see lib/src/run-events.ts).
  event jsonb NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX run_events_task_logs ON run_events (task_id, seq) WHERE kind = 'TASK_LOG';

CREATE TABLE dead_letters (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt_id uuid,
  step_id text NOT NULL,
  attempts integer NOT NULL,
  error jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  replayed_at timestamptz,
  replayed_by text
);
CREATE INDEX dead_letters_org ON dead_letters (org_id, id DESC);
CREATE UNIQUE INDEX dead_letters_open_task ON dead_letters (task_id) WHERE replayed_at IS NULL;

-- The worker fleet is shared infrastructure, not tenant data: no org_id, no row-level security.
CREATE TABLE workers (
  id text PRIMARY KEY,
  endpoint text NOT NULL,
  pool text NOT NULL,
  capabilities text[] NOT NULL,
  slots_total integer NOT NULL CHECK (slots_total >= 0),
  slots_free integer NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  resources jsonb,
  version text,
  status text NOT NULL CHECK (status IN ('ONLINE', 'LOST', 'OFFLINE')),
  registered_at timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
  lease_expires_at timestamptz NOT NULL,
  left_at timestamptz
);
CREATE INDEX workers_online ON workers (pool) WHERE status = 'ONLINE';

-- Orchestration processes that dispatch. A RUNNING attempt whose dispatcher stopped being seen has
-- nobody reading its result: the reconciler retries it.
CREATE TABLE dispatchers (
  id text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE workflows ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE task_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE dispatch_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE dead_letters ENABLE ROW LEVEL SECURITY;
CREATE POLICY workflows_tenant ON workflows USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY workflow_versions_tenant ON workflow_versions USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY runs_tenant ON runs USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY tasks_tenant ON tasks USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY task_attempts_tenant ON task_attempts USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY dispatch_outbox_tenant ON dispatch_outbox USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY run_events_tenant ON run_events USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY dead_letters_tenant ON dead_letters USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
