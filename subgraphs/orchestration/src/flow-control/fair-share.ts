import type { Queryable } from '@orchestra/lib';
import { PRIORITY, PRIORITY_AGING_MS, QUEUE_EPOCH_MS } from '../domain/flow-control';
import type { EnqueueRequest } from '../engine/effects';
import { laneBacklogs, laneKey, recordFairRanks, refreshFairShareWaits, restoredBacklogs, type LaneBacklog } from '../store/fair-share';

/**
 * Fair dispatch between organizations (issue 10). Each pool has one queue that every organization
 * shares; a queued attempt's place in it (domain/flow-control.ts queueOrder) is the minute it was
 * queued, plus one per priority level below the highest, plus its **fair rank**: how many attempts
 * its own organization already had waiting in that pool at its priority or above, divided by the
 * organization's weight. So an organization with a backlog of 10,000 spreads it over the next 10,000
 * places, and another organization's single task (rank 0) goes in front of all of it but the few
 * that were queued within the same minute or two: it waits about one turnover of the pool's slots,
 * not for the backlog. Work of one organization keeps its order (first come, priority first).
 *
 * Counted in the transaction that queues the attempts (PostgreSQL's outbox is the truth, so every
 * orchestration process counts alike), once per lane for the whole transaction: the attempts of one
 * transaction take consecutive ranks.
 */
export async function assignFairRanks(tx: Queryable, entries: EnqueueRequest[]): Promise<void> {
  if (entries.length === 0) return;
  const priorityOf = (e: EnqueueRequest): number => e.priority ?? PRIORITY.default;
  const lanes = entries.map((e) => ({ orgId: e.orgId, pool: e.pool, priority: priorityOf(e) }));
  const backlogs = await laneBacklogs(
    tx,
    lanes,
    entries.map((e) => e.attemptId),
  );
  /** Per organization and pool: the priorities of this transaction's attempts placed so far. */
  const earlier = new Map<string, number[]>();
  entries.forEach((entry, i) => {
    const lane = lanes[i] as (typeof lanes)[number];
    const backlog: LaneBacklog = backlogs.get(laneKey(lane)) ?? { waiting: 0, weight: 1 };
    const placed = earlier.get(`${lane.orgId}:${lane.pool}`) ?? [];
    entry.rank = fairRank(backlog.waiting + placed.filter((p) => p >= lane.priority).length, backlog.weight);
    placed.push(lane.priority);
    earlier.set(`${lane.orgId}:${lane.pool}`, placed);
  });
  // Kept with the outbox rows: the reconciler says FAIR_SHARE on the tasks other organizations' work goes before.
  await recordFairRanks(
    tx,
    entries.map((e) => ({ attemptId: e.attemptId, rank: e.rank ?? 0 })),
  );
}

/**
 * Fair ranks of waiting attempts the reconciler puts back on the queue (never enqueued after a crash,
 * or lost with Redis): what of their organization waits ahead of each in PostgreSQL now, so a
 * restored backlog is spread out again instead of landing in front of other organizations' work.
 */
export async function withRestoredRanks<T extends EnqueueRequest>(tx: Queryable, entries: T[]): Promise<T[]> {
  const backlogs = await restoredBacklogs(
    tx,
    entries.map((e) => e.attemptId),
  );
  return entries.map((e) => {
    const backlog = backlogs.get(e.attemptId);
    return backlog ? { ...e, rank: fairRank(backlog.waiting, backlog.weight) } : e;
  });
}

/** An attempt's fair rank: its organization's attempts ahead of it, shared out by its weight (weight 2 moves twice as fast). */
export const fairRank = (ahead: number, weight: number): number => Math.floor(ahead / Math.max(1, weight));

/** Wait reasons changed per reconcile pass, at most (a large backlog is labelled over a few passes). */
const FAIR_SHARE_CHANGES_PER_PASS = 5_000;

/**
 * The FAIR_SHARE wait reason (domain/wait-reasons.ts): on each reconcile pass, waiting tasks that
 * other organizations' work goes before because their own organization's backlog pushed them back
 * say so, and those for which that stopped being so lose it. Answers how many tasks changed.
 */
export const refreshFairShareReasons = (tx: Queryable): Promise<number> =>
  refreshFairShareWaits(tx, { epochMs: QUEUE_EPOCH_MS, agingMs: PRIORITY_AGING_MS, maxPriority: PRIORITY.max }, FAIR_SHARE_CHANGES_PER_PASS);
