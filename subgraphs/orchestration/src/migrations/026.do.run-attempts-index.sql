-- The run page's timeline (issue 12) reads every attempt of a run, forEach items' included, a page at
-- a time in the order they were made (Run.attempts). task_attempts had no index by run: this makes
-- each page a range of one index, whatever the size of the table.
CREATE INDEX task_attempts_run_order ON task_attempts (run_id, id);
