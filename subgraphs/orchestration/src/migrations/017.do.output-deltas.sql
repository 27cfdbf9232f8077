-- Streamed output (issue 14): a task attempt's output as it is produced (a model's tokens) is
-- recorded as TASK_OUTPUT_DELTA run events, coalesced by the dispatcher into at most ~20 a second
-- per task (not one row per token), so they share the run's gap-free seq, its Redis stream and
-- its backfill. Task.streamedOutput folds them for a reader who joins late.
ALTER TABLE run_events DROP CONSTRAINT run_events_kind_check;
ALTER TABLE run_events ADD CONSTRAINT run_events_kind_check CHECK (kind IN ('RUN_STATUS', 'TASK_STATUS', 'TASK_PROGRESS', 'TASK_LOG', 'TASK_OUTPUT_DELTA'));
CREATE INDEX run_events_task_output_deltas ON run_events (task_id, seq) WHERE kind = 'TASK_OUTPUT_DELTA';
