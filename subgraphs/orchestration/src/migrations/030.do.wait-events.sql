-- Wait reasons as run events (issue 10).
--
-- A change of the kind of a task's wait reason becomes one TASK_WAITING run event (waits/wait-events.ts).
-- The kind the last such event said, and for which attempt, is kept on the task: a pass of the wait-event
-- recorder finds the waiting tasks whose reason's kind differs from it through the partial index below
-- (empty most of the time), records their events under their runs' locks and sets these columns. A new
-- attempt starts from "nothing said" (the CASE), so a retried task with no reason says nothing.
ALTER TABLE tasks ADD COLUMN wait_event_attempt uuid, ADD COLUMN wait_event_kind text;
-- Only QUEUED tasks: a PENDING one (a forEach item waiting for one of maxParallel's places) is shown by its
-- step's item counts, and 10,000 items would otherwise each say MAX_PARALLEL in the run's log.
CREATE INDEX tasks_wait_event_due ON tasks (run_id)
  WHERE status = 'QUEUED'
    AND (wait_reason ->> 'kind') IS DISTINCT FROM (CASE WHEN wait_event_attempt IS NOT DISTINCT FROM current_attempt_id THEN wait_event_kind END);


ALTER TABLE run_events DROP CONSTRAINT run_events_kind_check;
ALTER TABLE run_events ADD CONSTRAINT run_events_kind_check CHECK (kind IN ('RUN_STATUS', 'TASK_STATUS', 'TASK_PROGRESS', 'TASK_LOG', 'TASK_OUTPUT_DELTA', 'TASK_WAITING'));
