-- Worker slots as rows (Hatchet's approach). A claim takes one free slot row of a matching worker
-- with FOR UPDATE SKIP LOCKED, so concurrent claims never wait on each other or on a worker row,
-- and the count stays exact: a worker has slots_total rows, each holding at most one RUNNING
-- attempt. The slot is taken in the transaction that moves the attempt to RUNNING and given back
-- in the transaction that moves it out of RUNNING (store/attempts.ts endAttempt).
-- Fleet infrastructure like workers: no org_id, no row-level security.
CREATE TABLE worker_slots (
  worker_id text NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
  slot integer NOT NULL CHECK (slot >= 0),
  attempt_id uuid UNIQUE REFERENCES task_attempts (id) ON DELETE SET NULL,
  PRIMARY KEY (worker_id, slot)
);

-- Slots of the workers registered before this migration, holding the attempts they run now.
INSERT INTO worker_slots (worker_id, slot)
SELECT w.id, g FROM workers w CROSS JOIN LATERAL generate_series(0, w.slots_total - 1) AS g;
INSERT INTO worker_slots (worker_id, slot, attempt_id)
SELECT worker_id, (row_number() OVER (PARTITION BY worker_id ORDER BY started_at, id) - 1)::int, id
  FROM task_attempts WHERE status = 'RUNNING' AND worker_id IN (SELECT id FROM workers)
ON CONFLICT (worker_id, slot) DO UPDATE SET attempt_id = EXCLUDED.attempt_id;
