import type { Logger, Queryable } from '@orchestra/lib';
import type { Engine } from '../engine/engine';
import { BUCKET_MS, bucketStarts, type MetricsBucket } from './run-metrics';

/**
 * Slot usage per pool over time (issue 12): busy slots / total slots of each pool's ONLINE workers,
 * as the dispatcher holds them (worker_slots: one row per slot, attempt_id set while an attempt runs
 * on it). Every replica samples once per SLOT_USAGE_SAMPLE_MS into pool_slot_usage (one row per pool
 * per minute, migration 028; the busier sample of a minute wins when replicas sample the same minute)
 * and deletes samples past the retention. The fleet is shared: the samples are no organization's.
 */

export const SLOT_USAGE_RETENTION_DAYS = 35;
/** The most pools poolSlotUsage answers with (the busiest first). */
export const SLOT_USAGE_MAX_POOLS = 20;

const ORIGIN = new Date('2000-01-01T00:00:00Z');

/** Samples every pool's slots now (rows for the minute holding `now`); answers the pools sampled. */
export async function samplePoolSlots(db: Queryable, now: Date = new Date()): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO pool_slot_usage (at, pool, busy_slots, total_slots, workers)
     SELECT date_bin('1 minute', $1::timestamptz, $2::timestamptz), w.pool,
            coalesce(sum((SELECT count(*) FROM worker_slots s WHERE s.worker_id = w.id AND s.attempt_id IS NOT NULL)), 0)::int,
            sum(w.slots_total)::int, count(*)::int
       FROM workers w WHERE w.status = 'ONLINE' GROUP BY w.pool
     ON CONFLICT (at, pool) DO UPDATE SET
       busy_slots = greatest(pool_slot_usage.busy_slots, EXCLUDED.busy_slots),
       total_slots = greatest(pool_slot_usage.total_slots, EXCLUDED.total_slots),
       workers = greatest(pool_slot_usage.workers, EXCLUDED.workers)`,
    [now, ORIGIN],
  );
  return rowCount ?? 0;
}

/** Deletes samples older than the retention; answers how many. */
export async function prunePoolSlotUsage(db: Queryable, days = SLOT_USAGE_RETENTION_DAYS, now: Date = new Date()): Promise<number> {
  const { rowCount } = await db.query(`DELETE FROM pool_slot_usage WHERE at < $1::timestamptz - make_interval(days => $2)`, [now, days]);
  return rowCount ?? 0;
}

export interface PoolSlotUsagePoint {
  start: Date;
  /** Mean over the bucket's samples; null: no sample (no ONLINE worker of the pool, or no replica sampling). */
  busySlots: number | null;
  peakBusySlots: number | null;
  totalSlots: number | null;
  /** busy / total of the bucket's means; null when no sample or no slot. */
  utilization: number | null;
}

export interface PoolSlotUsage {
  pool: string;
  points: PoolSlotUsagePoint[];
}

/** Every pool's (or one pool's) usage per bucket of [from, to), every bucket present, the busiest pools first. */
export async function poolSlotUsage(db: Queryable, scope: { from: Date; to: Date; bucket: MetricsBucket; pool?: string | undefined }): Promise<PoolSlotUsage[]> {
  const { rows } = await db.query<{ bucket: Date; pool: string; busy: number; peak: number; total: number }>(
    `WITH pools AS (
       SELECT pool FROM pool_slot_usage WHERE at >= $1 AND at < $2 AND ($5::text IS NULL OR pool = $5)
        GROUP BY pool ORDER BY avg(busy_slots) DESC, pool LIMIT ${SLOT_USAGE_MAX_POOLS})
     SELECT date_bin($3::interval, u.at, $4::timestamptz) AS bucket, u.pool,
            avg(u.busy_slots)::float8 AS busy, max(u.busy_slots)::int AS peak, avg(u.total_slots)::float8 AS total
       FROM pool_slot_usage u JOIN pools p ON p.pool = u.pool
      WHERE u.at >= $1 AND u.at < $2
      GROUP BY 1, 2`,
    [scope.from, scope.to, `${BUCKET_MS[scope.bucket] / 1000} seconds`, ORIGIN, scope.pool ?? null],
  );
  const byPool = new Map<string, Map<number, { busy: number; peak: number; total: number }>>();
  for (const r of rows) {
    const points = byPool.get(r.pool) ?? new Map<number, { busy: number; peak: number; total: number }>();
    points.set(r.bucket.getTime(), { busy: r.busy, peak: r.peak, total: r.total });
    byPool.set(r.pool, points);
  }
  const starts = bucketStarts(scope.from, scope.to, scope.bucket);
  const round = (n: number) => Math.round(n * 100) / 100;
  return [...byPool]
    .map(([pool, points]) => ({
      pool,
      points: starts.map((start): PoolSlotUsagePoint => {
        const p = points.get(start.getTime());
        if (!p) return { start, busySlots: null, peakBusySlots: null, totalSlots: null, utilization: null };
        return { start, busySlots: round(p.busy), peakBusySlots: p.peak, totalSlots: round(p.total), utilization: p.total === 0 ? null : Math.round((p.busy / p.total) * 10_000) / 10_000 };
      }),
    }))
    .sort((a, b) => mean(b.points) - mean(a.points) || a.pool.localeCompare(b.pool));
}

function mean(points: PoolSlotUsagePoint[]): number {
  const sampled = points.filter((p) => p.busySlots !== null);
  return sampled.length === 0 ? 0 : sampled.reduce((sum, p) => sum + p.busySlots!, 0) / sampled.length;
}

export interface SlotUsageSampler {
  start(): void;
  stop(): Promise<void>;
  /** One sample and prune now (tests; the timer calls the same). */
  sampleOnce(): Promise<number>;
}

/** Samples every `intervalMs` (the first right after start), pruning past the retention on the same pass. */
export function createSlotUsageSampler({ engine, log, intervalMs }: { engine: Engine; log: Logger; intervalMs: number }): SlotUsageSampler {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;
  const sampleOnce = () =>
    engine.inSystem(async (tx) => {
      const pools = await samplePoolSlots(tx);
      await prunePoolSlotUsage(tx);
      return pools;
    });
  const tick = () => {
    running = sampleOnce()
      .catch((err: unknown) => log.error('slot usage sample failed', { err }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  return {
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setTimeout(tick, 0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    sampleOnce,
  };
}
