-- A run's tasks (store/tasks.ts listTasksOfRuns: every cancel, retry, failure and forEach advance reads
-- them) had no index that the lookup by run can use: tasks_step_unique and tasks_wait_event_due are
-- partial, so `run_id = ANY(...)` read the whole table (a seq scan: O(every task) per cancel). This
-- makes it a range of one index, whatever the size of the table.
CREATE INDEX tasks_run ON tasks (run_id);
