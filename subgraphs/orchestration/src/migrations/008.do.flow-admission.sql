-- Flow control enforced (issue 10): what the claim's admission reads, resolved when a run starts
-- (engine/dispatch/admission.ts). A run's and a task's priority (1 … 5, what its queue job is
-- ordered by), the concurrency key each holds a place under (`<workflow id>:<value>` for the
-- workflow's key, `<workflow id>/<step>:<value>` for a step's) with its policy { value, limit,
-- onLimit }, and the named rate limits a task consumes when it starts ([{ name, units }]).
ALTER TABLE runs
  ADD COLUMN priority smallint CHECK (priority BETWEEN 1 AND 5),
  ADD COLUMN concurrency_key text,
  ADD COLUMN concurrency jsonb;
ALTER TABLE tasks
  ADD COLUMN priority smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
  ADD COLUMN concurrency_key text,
  ADD COLUMN concurrency jsonb,
  ADD COLUMN rate_limits jsonb;

-- The runs and tasks that hold or wait for a place under a key, in the order they came.
CREATE INDEX runs_concurrency_open ON runs (org_id, concurrency_key, created_at, id)
  WHERE concurrency_key IS NOT NULL AND status IN ('QUEUED', 'RUNNING');
CREATE INDEX tasks_concurrency_open ON tasks (org_id, concurrency_key, created_at, id)
  WHERE concurrency_key IS NOT NULL AND status IN ('QUEUED', 'RUNNING');
