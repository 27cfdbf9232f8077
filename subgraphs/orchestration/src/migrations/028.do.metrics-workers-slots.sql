-- Metrics on the worker pages (issue 12). runMetrics(workerId) counts the runs one of whose attempts
-- ran on a worker: this index reaches that worker's attempts queued since the range began (a run's
-- attempts are queued after the run is created), with their run ids, without touching the table.
CREATE INDEX task_attempts_worker_queued ON task_attempts (worker_id, queued_at) INCLUDE (run_id) WHERE worker_id IS NOT NULL;

-- Slot usage per pool over time: one row per pool per minute, sampled by every orchestration replica
-- from the dispatcher's slot rows (worker_slots) of the ONLINE workers (metrics/slot-usage.ts), kept
-- SLOT_USAGE_RETENTION_DAYS. Fleet infrastructure like workers: no org_id; every organization reads it
-- (the workers page already shows each worker's slots), only system work writes it.
CREATE TABLE pool_slot_usage (
  at timestamptz NOT NULL,
  pool text NOT NULL,
  busy_slots integer NOT NULL CHECK (busy_slots >= 0),
  total_slots integer NOT NULL CHECK (total_slots >= 0),
  workers integer NOT NULL CHECK (workers >= 0),
  PRIMARY KEY (at, pool)
);
ALTER TABLE pool_slot_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY pool_slot_usage_read ON pool_slot_usage FOR SELECT USING (true);
