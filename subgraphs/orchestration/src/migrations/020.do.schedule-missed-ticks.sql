-- Ticks a schedule's catch-up policy drops (missed while no orchestration process handled them in
-- time) are recorded as MISSED with the reason, not only logged (src/schedules/ticker.ts); the
-- ticker keeps the newest 500 handled ticks of each schedule (QUEUED ones always).
ALTER TABLE schedule_fires DROP CONSTRAINT schedule_fires_outcome_check;
ALTER TABLE schedule_fires ADD CONSTRAINT schedule_fires_outcome_check CHECK (outcome IN ('STARTED', 'SKIPPED', 'QUEUED', 'MISSED'));
