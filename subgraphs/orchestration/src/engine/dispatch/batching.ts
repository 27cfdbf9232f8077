/** Claims (or results) applied in one transaction, at most. */
export const BATCH_MAX = 64;
/** Claim (or result) transactions under way at once: while one waits on PostgreSQL, the next can start. */
export const BATCHES_AT_ONCE = 2;
