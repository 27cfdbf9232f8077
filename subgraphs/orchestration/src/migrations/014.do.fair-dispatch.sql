-- Fair dispatch between organizations (issue 10): a queued attempt's place in its pool's queue
-- counts the attempts its organization already has waiting in that pool at its priority or above
-- (flow-control/fair-share.ts). The outbox carries its task's priority so that count is one index scan.
ALTER TABLE dispatch_outbox ADD COLUMN priority smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5);
UPDATE dispatch_outbox o SET priority = t.priority FROM tasks t WHERE t.id = o.task_id AND t.priority <> 3;
CREATE INDEX dispatch_outbox_org_pool ON dispatch_outbox (org_id, pool, priority);
