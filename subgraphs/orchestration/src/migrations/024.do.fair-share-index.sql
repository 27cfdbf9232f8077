-- Tasks that say FAIR_SHARE (flow-control/fair-share.ts): the reconciler looks them up each pass to take
-- the reason off when their pool stopped being shared; the index holds only those, so it is empty most of the time.
CREATE INDEX tasks_fair_share ON tasks (pool) WHERE status = 'QUEUED' AND wait_reason ->> 'kind' = 'FAIR_SHARE';
