import { newRequestId, type Logger, type Principal } from '@orchestra/lib';
import { cancelRunIn } from '../engine/commands';
import type { Engine } from '../engine/engine';
import { startRunsIn } from '../engine/run-starts';
import type { TransitionContext } from '../engine/transitions';
import { activeRunsOfSchedule, claimSchedule, countQueuedFires, dueSchedules, pruneFires, queuedFires, recordFires, updateSchedule, type ScheduleFireRow, type ScheduleRow } from '../store/schedules';
import { parseCron } from './cron';
import { startDueDelayedRuns } from './delayed-runs';
import { missedTicks, planFires, type FirePlan } from './fire-plan';

/**
 * The schedule ticker: every orchestration replica runs one. A pass reads which schedules are due
 * (a system read, no locks), then handles them in transactions of their organization, up to BATCH
 * schedules of one organization per transaction: each schedule row is claimed (FOR UPDATE SKIP
 * LOCKED: a row another replica holds is skipped), the tick's runs start through the start path
 * (idempotency key `schedule:<id>:<tick>`), each tick is recorded in schedule_fires (primary key
 * schedule + tick: STARTED, SKIPPED, QUEUED, or MISSED for a tick the catch-up policy drops; the
 * newest MAX_FIRES_KEPT kept) and next_fire_at moves past them — all in one commit. A tick is therefore handled
 * once whatever the number of replicas, and a crash before the commit leaves the schedule due for
 * the next pass. A batch that fails is handled again one schedule per transaction, so one bad
 * schedule delays only itself. (One transaction per schedule handled ~15–20 schedules a second on a
 * loaded 2-core machine: 1,000 schedules on one minute fired up to a minute late.)
 */

/** Ticks queued behind a running run (overlap QUEUE) per schedule, at most; more are SKIPPED. */
export const MAX_QUEUED_TICKS = 10;
/** Handled ticks kept per schedule (the newest; QUEUED ones are always kept): what Schedule.fires and Schedule.runs read. */
export const MAX_FIRES_KEPT = 500;
/** Schedules one pass looks at, at most (a pass that finds this many runs again at once). */
const PASS_SIZE = 200;
/** Transactions (batches) in flight at once in one replica. */
const PARALLEL = 4;
/** Schedules of one organization handled in one transaction, at most. */
const BATCH = 50;

export interface ScheduleTicker {
  start(): void;
  stop(): Promise<void>;
  /** One pass; resolves to the schedules it handled. */
  tickOnce(): Promise<number>;
}

export interface ScheduleTickerOptions {
  engine: Engine;
  log: Logger;
  intervalMs: number;
  /** Ticks at most this late are on time; older ones were missed (catch-up policy). */
  graceMs: number;
}

/** Who starts a schedule's runs (audit and runs show it). */
export const schedulePrincipal = (schedule: Pick<ScheduleRow, 'id' | 'orgId'>): Principal => ({
  kind: 'service',
  id: `schedule:${schedule.id}`,
  orgId: schedule.orgId,
  scopes: [],
  display: `schedule ${schedule.id}`,
  requestId: newRequestId(),
});

export const tickIdempotencyKey = (scheduleId: string, tick: Date): string => `schedule:${scheduleId}:${tick.toISOString()}`;

type Fire = Omit<ScheduleFireRow, 'firedAt'>;

/** Handles one claimed schedule's due and queued ticks in `ctx` (its organization's transaction). */
async function handleSchedule(ctx: TransitionContext, engine: Engine, log: Logger, schedule: ScheduleRow, graceMs: number): Promise<Fire[]> {
  const principal = schedulePrincipal(schedule);
  const now = new Date();
  const cron = parseCron(schedule.cron, schedule.timezone, { cron: 'cron', timezone: 'timezone' });
  const plan: FirePlan = schedule.nextFireAt.getTime() <= now.getTime() ? planFires(cron, schedule, now, graceMs) : { fire: [], dropped: 0, missed: [], nextFireAt: schedule.nextFireAt };
  if (plan.dropped > 0) log.warn('schedule ticks missed and not caught up', { scheduleId: schedule.id, orgId: schedule.orgId, dropped: plan.dropped, catchUp: schedule.catchUp });
  const queued = schedule.overlap === 'QUEUE' ? await queuedFires(ctx.tx, schedule.id, MAX_QUEUED_TICKS) : [];
  let queuedCount = queued.length === 0 ? 0 : await countQueuedFires(ctx.tx, schedule.id);
  let active = await activeRunsOfSchedule(ctx.tx, schedule.id);
  const fires: Fire[] = [];
  const fire = (tickAt: Date, outcome: Fire['outcome'], runId: string | null, reason: string | null) => fires.push({ scheduleId: schedule.id, orgId: schedule.orgId, tickAt, outcome, runId, reason });
  // Ticks the catch-up policy drops are recorded too (MISSED, with why), not only logged.
  for (const missed of missedTicks(plan, schedule, graceMs)) fire(missed.tickAt, 'MISSED', null, missed.reason);

  const ticks = [...queued.map((t) => ({ t, wasQueued: true })), ...plan.fire.map((t) => ({ t, wasQueued: false }))];
  for (const { t, wasQueued } of ticks) {
    if (active.length > 0) {
      const running = `run ${active[0]} of this schedule has not ended`;
      if (schedule.overlap === 'SKIP') {
        fire(t, 'SKIPPED', null, running);
        continue;
      }
      if (schedule.overlap === 'QUEUE') {
        if (wasQueued) continue;
        if (queuedCount >= MAX_QUEUED_TICKS) fire(t, 'SKIPPED', null, `${MAX_QUEUED_TICKS} ticks are already queued behind run ${active[0]}`);
        else {
          fire(t, 'QUEUED', null, running);
          queuedCount += 1;
        }
        continue;
      }
      for (const runId of active) await cancelRunIn(ctx, engine, principal, runId, `cancelled by schedule ${schedule.id}: its tick of ${t.toISOString()} started a new run`);
      active = [];
    }
    const [outcome] = await startRunsIn(ctx, engine, principal, [{ workflowId: schedule.workflowId, input: schedule.input, idempotencyKey: tickIdempotencyKey(schedule.id, t) }]);
    if (wasQueued) queuedCount -= 1;
    if (outcome?.ok) {
      fire(t, 'STARTED', outcome.result.run.id, null);
      active = [outcome.result.run.id];
    } else {
      const reason = outcome ? outcome.error.message : 'no outcome';
      log.warn('a schedule tick could not start its run', { scheduleId: schedule.id, orgId: schedule.orgId, tick: t.toISOString(), reason });
      fire(t, 'SKIPPED', null, `the run could not start: ${reason}`);
    }
  }
  const lastFire = fires.filter((f) => f.outcome === 'STARTED').at(-1)?.tickAt;
  if (plan.nextFireAt.getTime() !== schedule.nextFireAt.getTime() || lastFire) {
    await updateSchedule(ctx.tx, schedule.id, { nextFireAt: plan.nextFireAt, ...(lastFire ? { lastFireAt: lastFire } : {}) });
  }
  await recordFires(ctx.tx, fires);
  if (fires.length > 0) await pruneFires(ctx.tx, schedule.id, MAX_FIRES_KEPT);
  return fires;
}

export function createScheduleTicker({ engine, log, intervalMs, graceMs }: ScheduleTickerOptions): ScheduleTicker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;

  /** Handles `refs` (one organization's) in one transaction; resolves to how many it handled. */
  const handleBatch = async (refs: ReadonlyArray<{ id: string; orgId: string }>): Promise<number> => {
    try {
      return await engine.change(schedulePrincipal(refs[0]!), async (ctx) => {
        let handled = 0;
        for (const ref of refs) {
          const schedule = await claimSchedule(ctx.tx, ref.id);
          if (!schedule) continue;
          const fires = await handleSchedule(ctx, engine, log, schedule, graceMs);
          if (fires.length > 0) log.debug('schedule fired', { scheduleId: schedule.id, orgId: schedule.orgId, ticks: fires.map((f) => `${f.tickAt.toISOString()} ${f.outcome}`) });
          handled += 1;
        }
        return handled;
      });
    } catch (err) {
      if (refs.length === 1) {
        log.error('schedule tick failed (retried next pass)', { err, scheduleId: refs[0]!.id, orgId: refs[0]!.orgId });
        return 0;
      }
      log.warn('a batch of schedule ticks failed; handling its schedules one per transaction', { err, orgId: refs[0]!.orgId, schedules: refs.length });
      let handled = 0;
      for (const ref of refs) handled += await handleBatch([ref]);
      return handled;
    }
  };

  const tickOnce = async (): Promise<number> => {
    const due = await engine.inSystem((tx) => dueSchedules(tx, PASS_SIZE));
    const byOrg = new Map<string, Array<{ id: string; orgId: string }>>();
    for (const ref of due) {
      const refs = byOrg.get(ref.orgId);
      if (refs) refs.push(ref);
      else byOrg.set(ref.orgId, [ref]);
    }
    const batches = [...byOrg.values()].flatMap((refs) => Array.from({ length: Math.ceil(refs.length / BATCH) }, (_, i) => refs.slice(i * BATCH, (i + 1) * BATCH)));
    let handled = 0;
    for (let i = 0; i < batches.length; i += PARALLEL) {
      const results = await Promise.all(batches.slice(i, i + PARALLEL).map(handleBatch));
      handled += results.reduce((a, b) => a + b, 0);
    }
    // Runs started for later whose time has come go on the same beat.
    handled += await startDueDelayedRuns(engine, log, PASS_SIZE);
    return handled;
  };

  const loop = async () => {
    if (stopped) return;
    let again = false;
    try {
      again = (await tickOnce()) >= PASS_SIZE;
    } catch (err) {
      log.error('schedule pass failed', { err });
    }
    if (!stopped) timer = setTimeout(() => (running = loop()), again ? 0 : intervalMs);
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      running = loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    tickOnce,
  };
}
