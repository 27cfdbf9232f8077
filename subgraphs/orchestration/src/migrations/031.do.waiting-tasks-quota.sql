-- The waitingTasks quota (issue 10): tasks of wait steps (approval, event, sleepUntil) hold no worker slot
-- and no queue place, so they do not count toward queuedTasks; they have a bound of their own, per
-- organization: the WAITING task_waits rows, counted when runs start (under the organization's quota
-- lock) through the index below. Null: the platform default (ORG_WAITING_TASKS).
ALTER TABLE org_quotas ADD COLUMN waiting_tasks integer CHECK (waiting_tasks >= 0);
CREATE INDEX task_waits_waiting ON task_waits (org_id) WHERE status = 'WAITING';
