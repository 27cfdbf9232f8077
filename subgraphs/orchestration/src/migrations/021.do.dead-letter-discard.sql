-- Dead-letter triage (issue 12): an operator may discard a dead letter (it leaves the open list without
-- running its run again), and the list is grouped and filtered by error code, step and workflow.
ALTER TABLE dead_letters ADD COLUMN discarded_at timestamptz, ADD COLUMN discarded_by text CHECK (length(discarded_by) <= 300);
-- At most one open entry per task: neither replayed nor discarded (a discarded task that fails again
-- after a retry of its run gets a new entry).
DROP INDEX dead_letters_open_task;
CREATE UNIQUE INDEX dead_letters_open_task ON dead_letters (task_id) WHERE replayed_at IS NULL AND discarded_at IS NULL;
-- The open list and its groups read only open entries of an organization.
CREATE INDEX dead_letters_org_open ON dead_letters (org_id, (error->>'code'), step_id) WHERE replayed_at IS NULL AND discarded_at IS NULL;
