/** Claims (or results) applied in one transaction, at most. */
export const BATCH_MAX = 64;
/** Claim (or result) transactions under way at once: while one waits on PostgreSQL, the next can start. */
export const BATCHES_AT_ONCE = 2;

/** Where a dispatched attempt's time goes besides its Execute call (task_attempt_duration_seconds), by stage. */
export const DISPATCH_STAGE_METRIC = ['dispatch_stage_seconds', 'Dispatch stages of an attempt: queue (its job added to Redis, after the delay it was added with → taken by the dispatcher that claims it, earlier looks that went back to the queue included), claim (job taken → claimed: local slot waits, its batch waiting, the claim transaction), result (Execute call ended → result committed: its batch waiting, the result transaction)', ['stage'], [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]] as const;
