import { newRequestId, type Logger, type Principal } from '@orchestra/lib';
import { cancelRunIn } from '../engine/commands';
import { batchesByOrg, createDueRowsLoop, duePass, type DueRows, type DueRowsLoop } from '../engine/due-rows';
import type { Engine } from '../engine/engine';
import { startRunsAsIn, type StartOutcome } from '../engine/run-starts';
import type { TransitionContext } from '../engine/transitions';
import { activeRunsOfSchedules, advanceSchedules, claimSchedules, dueSchedules, tickerDueInMs, pruneFiresOf, queuedFiresOf, recordFires, type ScheduleFireRow, type ScheduleRow } from '../store/schedules';
import { parseCron } from './cron';
import { delayedRuns } from './delayed-runs';
import { missedTicks, planFires, type FirePlan } from './fire-plan';

/**
 * The schedule ticker: every orchestration replica runs one (its loop is engine/due-rows.ts). A pass
 * reads which schedules are due (a system read, no locks), then handles them in transactions of
 * their organization, up to BATCH schedules of one organization per transaction, PARALLEL
 * transactions at once. A transaction claims its schedules in one statement (FOR UPDATE SKIP LOCKED:
 * rows another replica holds are left out), reads their unfinished runs and queued ticks in one
 * statement each, decides every tick by its schedule's overlap policy, starts the runs of all its
 * schedules' ticks together through the start path (one statement for the lot, idempotency key
 * `schedule:<id>:<tick>`, each run started by its own schedule, audit rows included), records each
 * tick in schedule_fires (primary key schedule + tick: STARTED, SKIPPED, QUEUED, or MISSED for a tick
 * the catch-up policy drops; the newest MAX_FIRES_KEPT kept) and moves next_fire_at past them — one
 * commit. A tick is therefore handled once whatever the number of replicas, and a crash before the
 * commit leaves the schedules due for the next pass. A schedule with several ticks in one pass
 * (catch-up, queued ticks) has them decided in rounds, one tick per schedule per round, so a tick
 * sees the run the previous one started. A batch that fails is handled again one schedule per
 * transaction, so one bad schedule delays only itself. (Starting each schedule's run on its own, eight
 * statements a schedule, left 1,000 schedules on one minute up to a minute late on a loaded 2-core
 * machine: docs/benchmarks.md, "schedules".)
 */

/** Ticks queued behind a running run (overlap QUEUE) per schedule, at most; more are SKIPPED. */
export const MAX_QUEUED_TICKS = 10;
/** Handled ticks kept per schedule (the newest; QUEUED ones are always kept): what Schedule.fires and Schedule.runs read. */
export const MAX_FIRES_KEPT = 500;
/** Schedules one pass looks at, at most (a pass that finds this many runs again at once). */
const PASS_SIZE = 500;
/** Transactions (batches) in flight at once in one replica. */
const PARALLEL = 3;
/** Schedules of one organization handled in one transaction, at most. */
const BATCH = 100;

export type ScheduleTicker = DueRowsLoop;

export interface ScheduleTickerOptions {
  engine: Engine;
  log: Logger;
  intervalMs: number;
  /**
   * How long it sleeps at most while nothing is due (engine/due-rows.ts IdleBackoff): it wakes at the
   * next tick or delayed start it knows of, within intervalMs of a change this process commits, and
   * sees a change made elsewhere (another replica, SQL by hand) within this.
   */
  idleMaxMs: number;
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

/** A claimed schedule while its batch is handled. */
interface ScheduleState {
  schedule: ScheduleRow;
  principal: Principal;
  plan: FirePlan;
  /** Ticks still to decide, oldest queued ones first. */
  ticks: Array<{ t: Date; wasQueued: boolean }>;
  /** Its runs that have not ended, oldest first. */
  active: string[];
  queuedCount: number;
  fires: Fire[];
}

const fire = (state: ScheduleState, tickAt: Date, outcome: Fire['outcome'], runId: string | null, reason: string | null): void => {
  state.fires.push({ scheduleId: state.schedule.id, orgId: state.schedule.orgId, tickAt, outcome, runId, reason });
};

/** A claimed schedule's ticks this pass: its due ones (per catch-up) after its queued ones; dropped ticks recorded as MISSED. */
function planSchedule(schedule: ScheduleRow, now: Date, graceMs: number, log: Logger, active: string[], queued: { ticks: Date[]; count: number } | undefined): ScheduleState {
  const cron = parseCron(schedule.cron, schedule.timezone, { cron: 'cron', timezone: 'timezone' });
  const plan: FirePlan = schedule.nextFireAt.getTime() <= now.getTime() ? planFires(cron, schedule, now, graceMs) : { fire: [], dropped: 0, missed: [], nextFireAt: schedule.nextFireAt };
  if (plan.dropped > 0) log.warn('schedule ticks missed and not caught up', { scheduleId: schedule.id, orgId: schedule.orgId, dropped: plan.dropped, catchUp: schedule.catchUp });
  const queuedTicks = schedule.overlap === 'QUEUE' ? (queued?.ticks ?? []) : [];
  const state: ScheduleState = {
    schedule,
    principal: schedulePrincipal(schedule),
    plan,
    ticks: [...queuedTicks.map((t) => ({ t, wasQueued: true })), ...plan.fire.map((t) => ({ t, wasQueued: false }))],
    active,
    queuedCount: queuedTicks.length === 0 ? 0 : (queued?.count ?? 0),
    fires: [],
  };
  // Ticks the catch-up policy drops are recorded too (MISSED, with why), not only logged.
  for (const missed of missedTicks(plan, schedule, graceMs)) fire(state, missed.tickAt, 'MISSED', null, missed.reason);
  return state;
}

/**
 * Decides one tick by the schedule's overlap policy while one of its runs has not ended: SKIP records
 * it SKIPPED, QUEUE leaves a queued tick queued or queues a new one (SKIPPED past MAX_QUEUED_TICKS),
 * CANCEL_PREVIOUS cancels the unfinished runs. Resolves to whether the tick starts a run now.
 */
async function decideTick(ctx: TransitionContext, engine: Engine, state: ScheduleState, t: Date, wasQueued: boolean): Promise<boolean> {
  const { schedule, active } = state;
  if (active.length === 0) return true;
  const running = `run ${active[0]} of this schedule has not ended`;
  switch (schedule.overlap) {
    case 'SKIP':
      fire(state, t, 'SKIPPED', null, running);
      return false;
    case 'QUEUE':
      if (wasQueued) return false;
      if (state.queuedCount >= MAX_QUEUED_TICKS) fire(state, t, 'SKIPPED', null, `${MAX_QUEUED_TICKS} ticks are already queued behind run ${active[0]}`);
      else {
        fire(state, t, 'QUEUED', null, running);
        state.queuedCount += 1;
      }
      return false;
    case 'CANCEL_PREVIOUS':
      for (const runId of active) await cancelRunIn(ctx, engine, state.principal, runId, `cancelled by schedule ${schedule.id}: its tick of ${t.toISOString()} started a new run`);
      state.active = [];
      return true;
  }
}

function recordStart(log: Logger, state: ScheduleState, t: Date, wasQueued: boolean, outcome: StartOutcome | undefined): void {
  if (wasQueued) state.queuedCount -= 1;
  if (outcome?.ok) {
    fire(state, t, 'STARTED', outcome.result.run.id, null);
    state.active = [outcome.result.run.id];
    return;
  }
  const reason = outcome ? outcome.error.message : 'no outcome';
  log.warn('a schedule tick could not start its run', { scheduleId: state.schedule.id, orgId: state.schedule.orgId, tick: t.toISOString(), reason });
  fire(state, t, 'SKIPPED', null, `the run could not start: ${reason}`);
}

/** Handles claimed schedules (one organization's) in `ctx`: decides their ticks, starts their runs together, records it all. */
async function handleSchedules(ctx: TransitionContext, engine: Engine, log: Logger, claimed: readonly ScheduleRow[], graceMs: number): Promise<ScheduleState[]> {
  const now = new Date();
  const ids = claimed.map((s) => s.id);
  const active = await activeRunsOfSchedules(ctx.tx, ids);
  const queueing = claimed.filter((s) => s.overlap === 'QUEUE').map((s) => s.id);
  const queued = queueing.length === 0 ? new Map<string, { ticks: Date[]; count: number }>() : await queuedFiresOf(ctx.tx, queueing, MAX_QUEUED_TICKS);
  const states = claimed.map((schedule) => planSchedule(schedule, now, graceMs, log, active.get(schedule.id) ?? [], queued.get(schedule.id)));

  // Rounds: each schedule's next tick that starts a run; all of a round's runs start in one statement.
  for (;;) {
    const starts: Array<{ state: ScheduleState; t: Date; wasQueued: boolean }> = [];
    for (const state of states) {
      for (let next = state.ticks.shift(); next; next = state.ticks.shift()) {
        if (await decideTick(ctx, engine, state, next.t, next.wasQueued)) {
          starts.push({ state, ...next });
          break;
        }
      }
    }
    if (starts.length === 0) break;
    const outcomes = await startRunsAsIn(
      ctx,
      engine,
      starts.map(({ state, t }) => ({ principal: state.principal, input: { workflowId: state.schedule.workflowId, input: state.schedule.input, idempotencyKey: tickIdempotencyKey(state.schedule.id, t) }, field: 'input' })),
    );
    starts.forEach(({ state, t, wasQueued }, i) => recordStart(log, state, t, wasQueued, outcomes[i]));
  }

  await advanceSchedules(
    ctx.tx,
    states.flatMap(({ schedule, plan, fires }) => {
      const lastFire = fires.filter((f) => f.outcome === 'STARTED').at(-1)?.tickAt ?? null;
      return plan.nextFireAt.getTime() !== schedule.nextFireAt.getTime() || lastFire ? [{ id: schedule.id, nextFireAt: plan.nextFireAt, lastFireAt: lastFire }] : [];
    }),
  );
  await recordFires(
    ctx.tx,
    states.flatMap((s) => s.fires),
  );
  await pruneFiresOf(
    ctx.tx,
    states.filter((s) => s.fires.length > 0).map((s) => s.schedule.id),
    MAX_FIRES_KEPT,
  );
  return states;
}

export function createScheduleTicker({ engine, log, intervalMs, idleMaxMs, graceMs }: ScheduleTickerOptions): ScheduleTicker {
  const schedules: DueRows<{ id: string; orgId: string }> = {
    passSize: PASS_SIZE,
    // One statement, no transaction (a pass at idle is this read alone).
    findDue: (limit) => dueSchedules(engine.pool, limit),
    batches: (due) => batchesByOrg(due, BATCH),
    parallel: PARALLEL,
    handle: (refs) =>
      engine.change(schedulePrincipal(refs[0]!), async (ctx) => {
        const claimed = await claimSchedules(
          ctx.tx,
          refs.map((r) => r.id),
        );
        if (claimed.length === 0) return 0;
        const states = await handleSchedules(ctx, engine, log, claimed, graceMs);
        for (const { schedule, fires } of states) {
          if (fires.length > 0) log.debug('schedule fired', { scheduleId: schedule.id, orgId: schedule.orgId, ticks: fires.map((f) => `${f.tickAt.toISOString()} ${f.outcome}`) });
        }
        return states.length;
      }),
    describe: (ref) => ({ scheduleId: ref.id, orgId: ref.orgId }),
    describeBatch: (refs) => ({ orgId: refs[0]?.orgId }),
    messages: { rowFailed: 'schedule tick failed (retried next pass)', batchFailed: 'a batch of schedule ticks failed; handling its schedules one per transaction' },
  };
  const later = delayedRuns(engine, log, PASS_SIZE);
  return createDueRowsLoop({
    // Runs started for later whose time has come go on the same beat.
    passes: [
      { pass: duePass(schedules, log), passSize: PASS_SIZE },
      { pass: duePass(later, log), passSize: PASS_SIZE },
    ],
    log,
    intervalMs,
    // A read outside a transaction: one statement per idle pass.
    idle: { maxMs: idleMaxMs, nextDueInMs: () => tickerDueInMs(engine.pool) },
    passFailed: 'schedule pass failed',
  });
}
