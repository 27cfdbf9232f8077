-- GPU-aware placement (issue 14): what a task asks of a worker's GPUs (its step's resources:
-- { gpus, gpuMemoryMiB, gpuModel }) and how long it may wait for a worker before it fails as
-- QUEUE_TIMEOUT; the GPUs an attempt was placed on ([{ index, model, memoryMiB }], memoryMiB being
-- what the dispatcher reserved there), which the dispatcher sums per worker and GPU over RUNNING
-- attempts to know what it has already placed.
ALTER TABLE tasks
  ADD COLUMN resources jsonb,
  ADD COLUMN queue_timeout_ms integer CHECK (queue_timeout_ms > 0);
ALTER TABLE task_attempts ADD COLUMN gpus jsonb;
-- RUNNING attempts holding GPUs, per worker (what placement reads under its lock).
CREATE INDEX task_attempts_running_gpus ON task_attempts (worker_id) WHERE status = 'RUNNING' AND gpus IS NOT NULL;
