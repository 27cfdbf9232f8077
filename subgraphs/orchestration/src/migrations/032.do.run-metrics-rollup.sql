-- Run metrics rollup (issue 12: runMetrics under 200 ms at 1,000,000 runs). Finished runs are folded,
-- in batches and off the task path (metrics/rollup-job.ts), into one row per organization, UTC hour of
-- creation and grouping: every run of the hour (workflow_id and app_id both the nil UUID), per workflow,
-- per app, and per workflow and app. A row holds the counts by status, and histograms (fixed log-scale
-- buckets, metrics/histogram.ts) of run duration and queue wait; failures by error code have rows of
-- their own. The watermark says what is folded: exactly the finished runs (finished_at set) last written
-- (updated_at) before folded_before. The engine writes updated_at with finished_at when a run finishes;
-- a change to a finished run must queue its hour in run_metrics_refolds (retryRun does).

-- runMetrics reads these rows for a range's whole hours and the runs themselves for the rest (partial
-- hours, runs not finished, runs finished since the watermark). A retried run (finished → RUNNING) and
-- runs deleted by retention queue their hour in run_metrics_refolds, in their own transaction: until the
-- rollup job has refolded that hour from the runs, runMetrics reads the hour from the runs.
--
-- Backfill: the watermark starts at -infinity, so the rollup job's first passes fold every existing
-- finished run, oldest first, in bounded batches, each in its own transaction (runMetrics is exact
-- meanwhile: it reads from the runs whatever is not folded yet).

CREATE TABLE run_metrics_hourly (
  org_id uuid NOT NULL,
  -- The nil UUID: every workflow / every app (and runs of none).
  workflow_id uuid NOT NULL,
  app_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  total integer NOT NULL CHECK (total >= 0),
  scheduled integer NOT NULL DEFAULT 0,
  queued integer NOT NULL DEFAULT 0,
  running integer NOT NULL DEFAULT 0,
  succeeded integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  cancelled integer NOT NULL DEFAULT 0,
  -- {"<bucket index>": runs}: start to finish, and creation (or start_at) to start, in milliseconds.
  duration_hist jsonb NOT NULL DEFAULT '{}',
  queue_wait_hist jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (org_id, workflow_id, app_id, hour)
);

CREATE TABLE run_metrics_failures_hourly (
  org_id uuid NOT NULL,
  workflow_id uuid NOT NULL,
  app_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  code text NOT NULL,
  runs integer NOT NULL CHECK (runs > 0),
  first_at timestamptz NOT NULL,
  -- The latest such run (by created_at, then id) and its message.
  last_at timestamptz NOT NULL,
  last_run_id uuid NOT NULL,
  last_message text,
  PRIMARY KEY (org_id, workflow_id, app_id, hour, code)
);

CREATE TABLE run_metrics_watermark (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  folded_before timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO run_metrics_watermark (folded_before) VALUES ('-infinity');

-- Hours whose rollup rows no longer match their runs (a folded run was retried or deleted). A row per
-- change (never merged), so the job deletes only the rows it has refolded for.
CREATE TABLE run_metrics_refolds (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id uuid NOT NULL,
  hour timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_metrics_refolds_hour ON run_metrics_refolds (org_id, hour);
-- A refold replaces an organization's hour: every grouping of it.
CREATE INDEX run_metrics_hourly_hour ON run_metrics_hourly (org_id, hour);
CREATE INDEX run_metrics_failures_hourly_hour ON run_metrics_failures_hourly (org_id, hour);

ALTER TABLE run_metrics_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_metrics_failures_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_metrics_watermark ENABLE ROW LEVEL SECURITY;
ALTER TABLE run_metrics_refolds ENABLE ROW LEVEL SECURITY;
CREATE POLICY run_metrics_refolds_tenant ON run_metrics_refolds USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY run_metrics_hourly_tenant ON run_metrics_hourly USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY run_metrics_failures_hourly_tenant ON run_metrics_failures_hourly USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
-- One instant, no organization's data: every organization reads it (runMetrics); only system work
-- (the rollup job) moves it.
CREATE POLICY run_metrics_watermark_read ON run_metrics_watermark FOR SELECT USING (true);

-- The runs not finished (a small set at any time), for the whole hours of a range that the rollup
-- cannot answer alone; and the finished runs by last write, for the fold's batches and the runs
-- finished since the watermark (one entry per run, written when it finishes).
CREATE INDEX runs_unfinished_created ON runs (org_id, created_at) WHERE finished_at IS NULL;
CREATE INDEX runs_finished_updated ON runs (updated_at) WHERE finished_at IS NOT NULL;

-- Histogram bucket of a value in milliseconds: 0 for under 1 ms, then 8 buckets per doubling
-- (bucket i >= 1 holds [2^((i-1)/8), 2^(i/8)) ms), the last (288) everything from 2^35.875 ms (~1.9 years).
CREATE FUNCTION run_metrics_hist_index(ms double precision) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
  $$ SELECT CASE WHEN ms IS NULL THEN NULL WHEN ms < 1 THEN 0 ELSE least(288, 1 + floor(ln(ms) / ln(2) * 8))::int END $$;

-- The sum of two histograms ({"<bucket index>": count}).
CREATE FUNCTION run_metrics_hist_add(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
  $$ SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb)
       FROM (SELECT k, sum(v::bigint) AS n FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS e(k, v) GROUP BY k) AS s $$;
