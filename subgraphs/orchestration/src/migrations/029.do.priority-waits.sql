-- Tasks that say PRIORITY (flow-control/priority-waits.ts): the reconciler looks them up each pass to take the
-- reason off when their organization's lane in the pool stopped holding work of several priorities (like
-- tasks_fair_share); the index holds only those, so it is empty most of the time.
CREATE INDEX tasks_priority_wait ON tasks (org_id, pool) WHERE status = 'QUEUED' AND wait_reason ->> 'kind' = 'PRIORITY';
