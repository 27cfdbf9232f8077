-- forEach fan-out (issue 10): a forEach step's task (the parent) carries its policy; when its
-- dependencies have succeeded the dispatcher expands it, in one statement, into one item task per
-- element of the list (item_index, item, parent_task_id), each with its own attempts and retries.
-- Item tasks share their step's step_id: a step's own task is the one without a parent.
ALTER TABLE tasks
  ADD COLUMN for_each jsonb,
  ADD COLUMN parent_task_id uuid REFERENCES tasks (id) ON DELETE CASCADE,
  ADD COLUMN item_index integer CHECK (item_index >= 0),
  ADD COLUMN item jsonb,
  ADD CONSTRAINT tasks_item_shape CHECK ((parent_task_id IS NULL) = (item_index IS NULL));
ALTER TABLE tasks DROP CONSTRAINT tasks_step_unique;
CREATE UNIQUE INDEX tasks_step_unique ON tasks (run_id, step_id) WHERE parent_task_id IS NULL;
-- Expanding twice (a redelivered claim, retryRun) adds nothing: one item task per index.
CREATE UNIQUE INDEX tasks_item_unique ON tasks (parent_task_id, item_index) WHERE parent_task_id IS NOT NULL;
-- What a parent counts (items by status) and queues next (PENDING items in index order).
CREATE INDEX tasks_items_by_status ON tasks (parent_task_id, status, item_index) WHERE parent_task_id IS NOT NULL;
