-- The fleet tables get the care of tenant tables (issue 9, item 15). They hold no organization's
-- rows, but a tenant transaction (a resolver acting for one organization) has no business changing
-- them: under row-level security it may read the fleet, and free only the slots its own
-- organization's attempts hold (task_attempts is itself secured to the organization). Registering,
-- heartbeating, claiming and pruning are system work: the service role's policy (added by
-- runMigrations to every secured table) admits it to every row.
ALTER TABLE workers ENABLE ROW LEVEL SECURITY;
CREATE POLICY workers_read ON workers FOR SELECT USING (true);

ALTER TABLE worker_slots ENABLE ROW LEVEL SECURITY;
-- Free slots are visible too: an UPDATE checks the new (freed) row against the SELECT policy as well.
CREATE POLICY worker_slots_own_attempts ON worker_slots FOR SELECT USING (attempt_id IS NULL OR attempt_id IN (SELECT id FROM task_attempts));
CREATE POLICY worker_slots_release_own ON worker_slots FOR UPDATE USING (attempt_id IN (SELECT id FROM task_attempts)) WITH CHECK (attempt_id IS NULL);

ALTER TABLE dispatchers ENABLE ROW LEVEL SECURITY;
CREATE POLICY dispatchers_read ON dispatchers FOR SELECT USING (true);
