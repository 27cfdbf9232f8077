-- The FAIR_SHARE wait reason (issue 10): a waiting attempt's fair rank (flow-control/fair-share.ts)
-- is kept with its outbox row, so the reconciler can tell which waiting tasks other organizations'
-- work goes before because of their organization's backlog, and say so on them.
ALTER TABLE dispatch_outbox ADD COLUMN fair_rank integer NOT NULL DEFAULT 0 CHECK (fair_rank >= 0);
