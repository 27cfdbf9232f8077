-- The W3C traceparent of the request that started a run: the dispatcher sends it with every
-- Execute call of the run's tasks, so a worker's log lines carry the same trace id as the gateway's
-- and the subgraphs' lines for that request.
ALTER TABLE runs ADD COLUMN traceparent text CHECK (traceparent ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');
