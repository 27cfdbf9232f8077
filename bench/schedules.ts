import { loadavg } from 'node:os';
import { startPlatform } from '@orchestra/tests';
import { fmt, percentile } from './load';
import { orgClient, sleep } from './org-client';

/**
 * Schedules (issue 10): 1,000 schedules of one organization firing every minute ("* * * * *"), one
 * orchestration process, one worker; for each tick of two whole minutes, the skew from the tick to
 * its fire (schedule_fires.fired_at, the transaction that started the run) and to the run's task
 * starting on a worker. Baseline: one schedule alone, one tick, before the 1,000 are created.
 * The 1-minute load average is sampled every 10 s while the ticks are measured (the machine is shared).
 */
const SCHEDULES = 1_000;
const TICKS = 2;
/** createSchedule calls in flight at once while setting up (one at a time took ~10 minutes under load). */
const CREATE_PARALLEL = 8;

const CREATE_WORKFLOW = 'mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }';
const CREATE_SCHEDULE = 'mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id } }';

interface Skews {
  expected: number;
  fires: number;
  outcomes: Record<string, number>;
  /** ms from tick to fire, sorted. */
  fireMs: number[];
  /** ms from tick to the run's task starting, sorted. */
  startMs: number[];
}

/**
 * Setting up on a machine at load 30+ sees the odd INTERNAL (a PostgreSQL connection that took over
 * 5 s to open): such a call wrote nothing, so it is made again, twice at most. Only the set-up retries.
 */
async function withRetries<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= 3) throw error;
      await sleep(1_000);
    }
  }
}

export async function benchSchedules(): Promise<string> {
  const platform = await startPlatform({ services: ['identity', 'orchestration'], workers: 1, env: { worker: { WORKER_SLOTS: '64' } } });
  const schema = platform.schemas.orchestration;
  try {
    const many = orgClient(platform);
    const lone = orgClient(platform);
    const create = async (org: typeof many, n: number): Promise<void> => {
      const { createWorkflow } = await org.graphql<{ createWorkflow: { id: string } }>(CREATE_WORKFLOW, { i: { name: 'tick', steps: [{ id: 'tick', capability: 'noop' }] } });
      // catchUp LAST: a tick handled later than the misfire grace (5 s) still fires, so its lateness is measured.
      let next = 0;
      const creator = async () => {
        for (let i = next++; i < n; i = next++) await withRetries(() => org.graphql(CREATE_SCHEDULE, { i: { workflowId: createWorkflow.id, cron: '* * * * *', input: { i }, catchUp: 'LAST' } }));
      };
      await Promise.all(Array.from({ length: Math.min(n, CREATE_PARALLEL) }, creator));
    };
    /** Whole minutes from now on (the first at least a second away). */
    const nextTicks = (n: number): Date[] => {
      const first = Math.ceil((Date.now() + 1_000) / 60_000) * 60_000;
      return Array.from({ length: n }, (_, i) => new Date(first + i * 60_000));
    };
    const loads: number[] = [];
    const measure = async (orgId: string, ticks: readonly Date[], expected: number): Promise<Skews> => {
      const last = ticks[ticks.length - 1]!.getTime();
      const sampler = setInterval(() => loads.push(loadavg()[0] ?? NaN), 10_000);
      try {
        return await measureTicks(orgId, ticks, expected, last);
      } finally {
        clearInterval(sampler);
      }
    };
    const measureTicks = async (orgId: string, ticks: readonly Date[], expected: number, last: number): Promise<Skews> => {
      await sleep(Math.max(0, last - Date.now()));
      for (;;) {
        const { rows } = await platform.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".schedule_fires WHERE org_id = $1 AND tick_at = ANY($2::timestamptz[])`, [orgId, ticks]);
        if ((rows[0]?.n ?? 0) >= expected || Date.now() > last + 120_000) break;
        await sleep(500);
      }
      await sleep(5_000); // the last runs' tasks start
      const { rows } = await platform.pool.query<{ outcome: string; fire_ms: number; start_ms: number | null }>(
        `SELECT f.outcome, extract(epoch FROM f.fired_at - f.tick_at) * 1000 AS fire_ms,
                (SELECT extract(epoch FROM min(a.started_at) - f.tick_at) * 1000 FROM "${schema}".task_attempts a WHERE a.run_id = f.run_id) AS start_ms
           FROM "${schema}".schedule_fires f WHERE f.org_id = $1 AND f.tick_at = ANY($2::timestamptz[])`,
        [orgId, ticks],
      );
      const outcomes: Record<string, number> = {};
      for (const r of rows) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      return {
        expected,
        fires: rows.length,
        outcomes,
        // A MISSED row records a dropped tick (no fire): it has no skew.
        fireMs: rows.filter((r) => r.outcome !== 'MISSED').map((r) => Number(r.fire_ms)).sort((x, y) => x - y),
        startMs: rows.flatMap((r) => (r.start_ms === null ? [] : [Number(r.start_ms)])).sort((x, y) => x - y),
      };
    };
    // Baseline: one schedule alone, one tick.
    await create(lone, 1);
    const loneResult = await measure(lone.orgId, nextTicks(1), 1);
    const creating = Date.now();
    await create(many, SCHEDULES);
    const createSeconds = (Date.now() - creating) / 1000;
    const manyResult = await measure(many.orgId, nextTicks(TICKS), SCHEDULES * TICKS);
    const row = (what: string, s: Skews) =>
      `| ${what} | ${s.fires} of ${s.expected} (${Object.entries(s.outcomes).map(([k, v]) => `${v} ${k}`).join(', ')}) | ${fmt(percentile(s.fireMs, 50), 0)} | ${fmt(percentile(s.fireMs, 99), 0)} | ${fmt(s.fireMs[s.fireMs.length - 1] ?? NaN, 0)} | ${fmt(percentile(s.startMs, 50), 0)} | ${fmt(percentile(s.startMs, 99), 0)} |`;
    const late = manyResult.fireMs.filter((ms) => ms > 5_000).length;
    const sortedLoads = loads.slice().sort((x, y) => x - y);
    return [
      `### Schedules: ${SCHEDULES.toLocaleString('en')} schedules firing every minute (one orchestration process, ticker every 500 ms; ${TICKS} ticks)`,
      '',
      '| schedules | fires | tick → fire p50 ms | p99 ms | max ms | tick → task started p50 ms | p99 ms |',
      '|---|---|---|---|---|---|---|',
      row('1, alone (baseline)', loneResult),
      row(SCHEDULES.toLocaleString('en'), manyResult),
      '',
      `- Fire-time skew with ${SCHEDULES.toLocaleString('en')} schedules on one tick: p50 **${fmt(percentile(manyResult.fireMs, 50) / 1000, 2)} s**, p99 **${fmt(percentile(manyResult.fireMs, 99) / 1000, 2)} s** (one schedule alone: p50 ${fmt(percentile(loneResult.fireMs, 50), 0)} ms). The ticker handles up to 50 schedules of one organization per transaction (claim each, start its run, record the fire), 4 transactions at a time.`,
      `- ${late} of ${manyResult.fires} fires came later than the 5 s misfire grace (SCHEDULE_MISFIRE_GRACE_MS): the schedules here use catchUp LAST, so they still fired; with the default catchUp NONE those ticks are not run and are recorded as MISSED.`,
      `- Creating the ${SCHEDULES.toLocaleString('en')} schedules took ${fmt(createSeconds, 1)} s (one createSchedule call each, ${CREATE_PARALLEL} at a time).`,
      `- 1-minute load average while measuring (2 cores, shared): min ${fmt(sortedLoads[0] ?? NaN, 1)}, median ${fmt(percentile(sortedLoads, 50), 1)}, max ${fmt(sortedLoads.at(-1) ?? NaN, 1)} (${sortedLoads.length} samples, every 10 s).`,
      '',
    ].join('\n');
  } finally {
    await platform.stop();
  }
}
