import type { Queryable } from '@orchestra/lib';
import { PRIORITY, PRIORITY_AGING_MS, QUEUE_EPOCH_MS } from '../domain/flow-control';
import { refreshPriorityWaits } from '../store/priority-waits';

/** Wait reasons changed per reconcile pass, at most (a large backlog is labelled over a few passes). */
const PRIORITY_CHANGES_PER_PASS = 5_000;

/**
 * The PRIORITY wait reason (domain/wait-reasons.ts): on each reconcile pass (before FAIR_SHARE's),
 * waiting tasks that a live worker of their pool could run but that their organization's
 * higher-priority work goes before say so, naming how many tasks of which priority ("3 tasks of
 * priority 5 go first"), and those for which that stopped being so lose it. It is taken off when the
 * task starts (the claim clears every reason).
 *
 * Starvation is bounded by aging (domain/flow-control.ts queueOrder): a place is the minute queued plus
 * one per level below 5, so work of priority p passes a task of priority q < p only if it was queued
 * at most p − q minutes after it (4 minutes for priority 5 over priority 1). The reason follows the same
 * places, so once the higher-priority work queued ahead of it has started, PRIORITY goes away.
 */
export const refreshPriorityReasons = (tx: Queryable): Promise<number> =>
  refreshPriorityWaits(tx, { epochMs: QUEUE_EPOCH_MS, agingMs: PRIORITY_AGING_MS, maxPriority: PRIORITY.max }, PRIORITY_CHANGES_PER_PASS);
