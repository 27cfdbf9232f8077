-- Runs started for later (issue 10: startRun(..., startAt)): SCHEDULED until start_at, when the
-- schedule ticker makes them QUEUED and queues their first tasks; cancellable before that.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN ('SCHEDULED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'));
ALTER TABLE runs ADD COLUMN start_at timestamptz;
CREATE INDEX runs_scheduled ON runs (start_at) WHERE status = 'SCHEDULED';
