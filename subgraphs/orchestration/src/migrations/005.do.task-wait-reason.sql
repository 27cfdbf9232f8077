-- Why a task that has not started is waiting (domain/wait-reasons.ts): { kind, message, since, details? },
-- null when it is not waiting for anything in particular. Written by whatever makes it wait (retry
-- backoff, the dispatcher finding no worker, flow control, wait steps, GPU placement); a task shows it
-- only while it has not started (Task.waitReason).
ALTER TABLE tasks ADD COLUMN wait_reason jsonb
  CHECK (wait_reason IS NULL OR (jsonb_typeof(wait_reason -> 'kind') = 'string' AND jsonb_typeof(wait_reason -> 'message') = 'string' AND jsonb_typeof(wait_reason -> 'since') = 'string'));
