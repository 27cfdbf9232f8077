-- Day rows of the run metrics rollup (issue 12: 7 and 30 days under 200 ms at 1,000,000 runs). A 30-day
-- range read 720 hourly rows (and ~3,600 failure rows) per grouping; it now reads 30 day rows for its whole
-- UTC days, and hourly rows only for the hours of its partial first and last days. A day row is the sum
-- of its day's hourly rows (same groupings, same histograms), always: the fold adds each batch of runs to
-- both, and a refold rebuilds its hours from the runs, then their days from the hourly rows. runMetrics
-- reads a day from its row only when no hour of it is queued for a refold (else from its hourly rows,
-- and the queued hours from the runs).
-- Days are UTC days (date_bin of 24 hours from 2000-01-01, as the hours and the DAY buckets are).

CREATE TABLE run_metrics_daily (
  org_id uuid NOT NULL,
  workflow_id uuid NOT NULL,
  app_id uuid NOT NULL,
  day timestamptz NOT NULL,
  total integer NOT NULL CHECK (total >= 0),
  scheduled integer NOT NULL DEFAULT 0,
  queued integer NOT NULL DEFAULT 0,
  running integer NOT NULL DEFAULT 0,
  succeeded integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  cancelled integer NOT NULL DEFAULT 0,
  duration_hist json NOT NULL DEFAULT '{}',
  queue_wait_hist json NOT NULL DEFAULT '{}',
  PRIMARY KEY (org_id, workflow_id, app_id, day)
);

CREATE TABLE run_metrics_failures_daily (
  org_id uuid NOT NULL,
  workflow_id uuid NOT NULL,
  app_id uuid NOT NULL,
  day timestamptz NOT NULL,
  code text NOT NULL,
  runs integer NOT NULL CHECK (runs > 0),
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  last_run_id uuid NOT NULL,
  last_message text,
  PRIMARY KEY (org_id, workflow_id, app_id, day, code)
);

-- A refold rebuilds an organization's day: every grouping of it.
CREATE INDEX run_metrics_daily_day ON run_metrics_daily (org_id, day);
CREATE INDEX run_metrics_failures_daily_day ON run_metrics_failures_daily (org_id, day);

ALTER TABLE run_metrics_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_metrics_failures_daily ENABLE ROW LEVEL SECURITY;
CREATE POLICY run_metrics_daily_tenant ON run_metrics_daily USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY run_metrics_failures_daily_tenant ON run_metrics_failures_daily USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());

-- The sum of histograms ({"<bucket index>":count}) over rows.
CREATE AGGREGATE run_metrics_hist_sum(json) (SFUNC = run_metrics_hist_add, STYPE = json, INITCOND = '{}', PARALLEL = SAFE);

-- The days of the hourly rows already folded (the fold and the refold keep them from here on).
INSERT INTO run_metrics_daily (org_id, workflow_id, app_id, day, total, scheduled, queued, running, succeeded, failed, cancelled, duration_hist, queue_wait_hist)
SELECT org_id, workflow_id, app_id, date_bin('24 hours', hour, '2000-01-01T00:00:00Z'), sum(total)::int, sum(scheduled)::int, sum(queued)::int, sum(running)::int,
       sum(succeeded)::int, sum(failed)::int, sum(cancelled)::int, run_metrics_hist_sum(duration_hist), run_metrics_hist_sum(queue_wait_hist)
  FROM run_metrics_hourly GROUP BY 1, 2, 3, 4;
INSERT INTO run_metrics_failures_daily (org_id, workflow_id, app_id, day, code, runs, first_at, last_at, last_run_id, last_message)
SELECT org_id, workflow_id, app_id, date_bin('24 hours', hour, '2000-01-01T00:00:00Z'), code, sum(runs)::int, min(first_at), max(last_at),
       (array_agg(last_run_id ORDER BY last_at DESC, last_run_id DESC))[1], (array_agg(last_message ORDER BY last_at DESC, last_run_id DESC))[1]
  FROM run_metrics_failures_hourly GROUP BY 1, 2, 3, 4, 5;

-- Hourly rows are written only with their days: a replica of the version before this migration (a
-- rolling deploy runs the migration first) would fold or refold hours without their days. Its writes are
-- refused, so its pass fails and rolls back (it is retried until that replica is replaced); this version's
-- rollup job says it writes the days too (SET LOCAL orchestra.run_metrics_days = 'on').
CREATE FUNCTION run_metrics_hourly_needs_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('orchestra.run_metrics_days', true), '') <> 'on' THEN
    RAISE EXCEPTION 'run metrics rollup: % written without its day rows (migration 035: set orchestra.run_metrics_days)', TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER run_metrics_hourly_needs_days BEFORE INSERT OR UPDATE OR DELETE ON run_metrics_hourly FOR EACH STATEMENT EXECUTE FUNCTION run_metrics_hourly_needs_days();
CREATE TRIGGER run_metrics_failures_hourly_needs_days BEFORE INSERT OR UPDATE OR DELETE ON run_metrics_failures_hourly FOR EACH STATEMENT EXECUTE FUNCTION run_metrics_hourly_needs_days();
