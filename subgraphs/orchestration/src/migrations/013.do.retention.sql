-- Retention per organization (issue 9 item 13): days a finished run keeps its events, and days a
-- finished run is kept at all; NULL takes the service's default (RUN_EVENTS_RETENTION_DAYS,
-- RUNS_RETENTION_DAYS). Operators set them; organizations read them (org_quotas' policies).
ALTER TABLE org_quotas
  ADD COLUMN run_events_retention_days integer CHECK (run_events_retention_days BETWEEN 1 AND 3650),
  ADD COLUMN runs_retention_days integer CHECK (runs_retention_days BETWEEN 1 AND 3650);
-- Finished runs by age, for the retention sweep.
CREATE INDEX runs_finished_at ON runs (finished_at) WHERE finished_at IS NOT NULL;
