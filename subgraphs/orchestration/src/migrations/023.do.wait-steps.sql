-- Wait steps (issue 10): a step with `wait` (domain/wait-steps.ts) holds its run until a person
-- decides, an event arrives or a time comes, without holding a worker slot. Its task is QUEUED on an
-- attempt that never enters the queue outbox (no BullMQ job), with a wait reason of kind APPROVAL,
-- EVENT or SCHEDULE; the wait itself is a task_waits row, one per attempt. Whatever resolves a wait
-- (approveTask/rejectTask, a matching emitEvent, the wait ticker at its deadline) moves the row out of
-- WAITING with a guard on that status and on its attempt still QUEUED, under the run's lock: a wait
-- is resolved exactly once however many replicas race for it, and a restart loses nothing.
ALTER TABLE tasks ADD COLUMN wait jsonb;

CREATE TABLE task_waits (
  attempt_id uuid PRIMARY KEY REFERENCES task_attempts (id) ON DELETE CASCADE,
  org_id uuid NOT NULL,
  run_id uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  step_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('APPROVAL', 'EVENT', 'SLEEP_UNTIL')),
  status text NOT NULL DEFAULT 'WAITING' CHECK (status IN ('WAITING', 'APPROVED', 'REJECTED', 'RECEIVED', 'ELAPSED', 'TIMED_OUT', 'CANCELLED')),
  -- APPROVAL: the message (templates resolved) and the roles that may decide.
  message text,
  roles text[] NOT NULL DEFAULT '{}',
  -- EVENT: the name, the payload filter, and the correlation (JSON pointer segments, the value the run resolved).
  event_name text,
  event_filter jsonb NOT NULL DEFAULT '[]',
  correlation_path text[],
  correlation_value jsonb,
  -- The timeout (APPROVAL, EVENT) or the time (SLEEP_UNTIL), and what happens then.
  deadline timestamptz NOT NULL,
  on_timeout text,
  -- How it ended: who decided and why, the step's output.
  decided_by text,
  decided_by_user_id text,
  comment text,
  output jsonb,
  resolved_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((kind = 'EVENT') = (event_name IS NOT NULL))
);
CREATE INDEX task_waits_task ON task_waits (task_id);
CREATE INDEX task_waits_run ON task_waits (run_id);
-- What the wait ticker looks at: deadlines that have come.
CREATE INDEX task_waits_due ON task_waits (deadline) WHERE status = 'WAITING';
-- What an emitted event looks at: the organization's event waits of its name.
CREATE INDEX task_waits_events ON task_waits (org_id, event_name, attempt_id) WHERE status = 'WAITING' AND kind = 'EVENT';
-- pendingApprovals: the organization's approvals in the order they started waiting (attempt ids are UUIDv7).
CREATE INDEX task_waits_approvals ON task_waits (org_id, attempt_id) WHERE status = 'WAITING' AND kind = 'APPROVAL';

ALTER TABLE task_waits ENABLE ROW LEVEL SECURITY;
CREATE POLICY task_waits_tenant ON task_waits USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
