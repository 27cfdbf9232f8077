-- Schedules (issue 10): a workflow started on a cron in an IANA time zone. next_fire_at is the next
-- tick not yet handled; the ticker of any orchestration replica claims a due schedule with
-- FOR UPDATE SKIP LOCKED and, in the same transaction, starts its runs and moves next_fire_at on,
-- so each tick is handled once however many replicas run (src/schedules/ticker.ts).
CREATE TABLE schedules (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  workflow_id uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  cron text NOT NULL,
  timezone text NOT NULL,
  input jsonb NOT NULL,
  overlap text NOT NULL CHECK (overlap IN ('SKIP', 'QUEUE', 'CANCEL_PREVIOUS')),
  catch_up text NOT NULL CHECK (catch_up IN ('NONE', 'LAST', 'ALL')),
  -- ALL: at most this many missed ticks are run after a downtime (the latest ones).
  catch_up_limit integer NOT NULL DEFAULT 1 CHECK (catch_up_limit BETWEEN 1 AND 100),
  paused boolean NOT NULL DEFAULT false,
  next_fire_at timestamptz NOT NULL,
  last_fire_at timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE NOT paused;
CREATE INDEX schedules_workflow ON schedules (org_id, workflow_id);

-- What each handled tick did: STARTED a run, SKIPPED (overlap SKIP, or the run could not start: reason),
-- or QUEUED behind a run still going (overlap QUEUE; started when it ends). One row per tick.
CREATE TABLE schedule_fires (
  schedule_id uuid NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  org_id uuid NOT NULL,
  tick_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('STARTED', 'SKIPPED', 'QUEUED')),
  run_id uuid REFERENCES runs (id) ON DELETE SET NULL,
  reason text,
  fired_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule_id, tick_at)
);
CREATE INDEX schedule_fires_run ON schedule_fires (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX schedule_fires_queued ON schedule_fires (schedule_id, tick_at) WHERE outcome = 'QUEUED';

ALTER TABLE schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE schedule_fires ENABLE ROW LEVEL SECURITY;
CREATE POLICY schedules_tenant ON schedules USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
CREATE POLICY schedule_fires_tenant ON schedule_fires USING (org_id = current_org_id()) WITH CHECK (org_id = current_org_id());
