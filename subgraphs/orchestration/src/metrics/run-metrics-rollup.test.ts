import { randomUUID } from 'node:crypto';
import { eventually, withTenantTransaction, type PoolClient } from '@orchestra/lib';
import { TENANT_ROLE } from '../engine/engine';
import { deleteRuns } from '../store/retention';
import { ALL_GROUPS } from '../store/run-metrics-rollup';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { HIST_RELATIVE_ERROR } from './histogram';
import { RUN_METRICS_FAILURE_CODES } from './resolvers';
import { runMetricsFromRuns, type RunMetrics, type RunMetricsScope } from './run-metrics';
import { runMetrics } from './run-metrics-read';

// The run metrics rollup (issue 12) on the real service and PostgreSQL: runs seeded straight into the
// table as the engine leaves them (finished in the past), folded by the rollup job, then runMetrics
// (rollup for whole hours, runs for the rest) compared with the same question asked of the runs alone.

let t: TestOrchestration;
const orgA = randomUUID();
const orgB = randomUUID();
const HOUR = 3_600_000;
const NOW = Date.now();
/** The first seeded run's hour: 70 hours ago. Runs every 150 s for 62.5 hours, the last ~7.5 hours ago. */
const BASE = Math.floor(NOW / HOUR) * HOUR - 70 * HOUR;
const SEEDED = 1_500;
let workflowA: string;
let workflowA2: string;
let workflowB: string;
const appX = randomUUID();
const appY = randomUUID();
/** Ids of org A's seeded runs, by what they are. */
const runsA: { failed: string[]; all: Array<{ id: string; created: number }> } = { failed: [], all: [] };

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface SeedRun {
  id: string;
  org: string;
  workflow: string;
  app: string | null;
  status: string;
  created: Date;
  startAt: Date | null;
  started: Date | null;
  finished: Date | null;
  error: { code: string; message: string } | null;
}

async function insertRuns(runs: SeedRun[]): Promise<void> {
  await t.pool.query(
    `INSERT INTO "${t.schema}".runs (id, org_id, workflow_id, workflow_version, app_id, status, input, started_by_kind, started_by_id, created_at, start_at, started_at, finished_at, error)
     SELECT r.id, r.org, r.workflow, 1, r.app, r.status, '{}', 'user', 'seed', r.created, r.start_at, r.started, r.finished, r.error
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, org uuid, workflow uuid, app uuid, status text, created timestamptz, start_at timestamptz, started timestamptz, finished timestamptz, error jsonb)`,
    [JSON.stringify(runs.map((r) => ({ ...r, start_at: r.startAt })))],
  );
}

/** Org A: two workflows (one in app X; the other in app Y or none), every status, five failure codes, waits under 1 ms to 20 s. */
function seedOf(org: string, n: number, stepMs: number, seed: number, workflows: [string, string], codes: string[]): SeedRun[] {
  const next = random(seed);
  return Array.from({ length: n }, (_, i) => {
    const created = new Date(BASE + i * stepMs + Math.floor(next() * 1_000));
    const workflow = i % 3 === 0 ? workflows[1] : workflows[0];
    const app = workflow === workflows[0] ? appX : i % 2 === 0 ? appY : null;
    const waitMs = next() ** 3 * 20_000;
    const runMs = 0.3 + next() ** 2 * 120_000;
    let status = 'SUCCEEDED';
    if (i % 17 === 0) status = 'FAILED';
    else if (i % 23 === 0) status = 'CANCELLED';
    else if (i % 41 === 0) status = 'RUNNING';
    else if (i % 53 === 0) status = 'QUEUED';
    else if (i % 59 === 0) status = 'SCHEDULED';
    const startAt = status === 'SCHEDULED' ? new Date(NOW + HOUR) : i % 7 === 0 ? new Date(created.getTime() + 5_000) : null;
    // Cancelled runs: every other one before it started.
    const started = ['QUEUED', 'SCHEDULED'].includes(status) || (status === 'CANCELLED' && i % 2 === 0) ? null : new Date(Math.max(created.getTime(), startAt?.getTime() ?? 0) + waitMs);
    const finished = ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status) ? new Date((started ?? created).getTime() + runMs) : null;
    const code = codes[i % codes.length]!;
    return { id: randomUUID(), org, workflow, app, status, created, startAt, started, finished, error: status === 'FAILED' ? { code, message: `step "a" failed: ${code} (${i})` } : null };
  });
}

const inTenant = <T>(org: string, fn: (tx: PoolClient) => Promise<T>) =>
  withTenantTransaction(t.pool, TENANT_ROLE, { orgId: org }, async (tx) => {
    await tx.query(`SET LOCAL search_path TO "${t.schema}"`);
    return fn(tx);
  });

const rolled = (org: string, scope: RunMetricsScope) => inTenant(org, (tx) => runMetrics(tx, scope, RUN_METRICS_FAILURE_CODES));
const fromRuns = (org: string, scope: RunMetricsScope) => inTenant(org, (tx) => runMetricsFromRuns(tx, scope, RUN_METRICS_FAILURE_CODES));

/** Counts and failure codes exactly as the runs say; percentiles within the histograms' bound (and 1 ms, and rounding). */
function expectSameAnswer(a: RunMetrics, b: RunMetrics): void {
  expect(a.buckets.map((x) => x.start.getTime())).toEqual(b.buckets.map((x) => x.start.getTime()));
  const pairs = [[a.totals, b.totals], ...a.buckets.map((x, i) => [x.counts, b.buckets[i]!.counts])] as const;
  for (const [x, y] of pairs) {
    const { p50DurationMs, p95DurationMs, p50QueueWaitMs, p95QueueWaitMs, ...counts } = x;
    const { p50DurationMs: e50, p95DurationMs: e95, p50QueueWaitMs: q50, p95QueueWaitMs: q95, ...exactCounts } = y;
    expect(counts).toEqual(exactCounts);
    for (const [estimate, exact] of [
      [p50DurationMs, e50],
      [p95DurationMs, e95],
      [p50QueueWaitMs, q50],
      [p95QueueWaitMs, q95],
    ] as const) {
      if (exact === null) expect(estimate).toBeNull();
      else expect(Math.abs(estimate! - exact)).toBeLessThanOrEqual(Math.max(1, exact * HIST_RELATIVE_ERROR) + 1);
    }
  }
  expect(a.failureCodes).toEqual(b.failureCodes);
}

async function watermark(): Promise<number> {
  const { rows } = await t.pool.query<{ w: number }>(`SELECT extract(epoch FROM folded_before) * 1000 AS w FROM "${t.schema}".run_metrics_watermark`);
  return Number(rows[0]!.w);
}

/**
 * Folds until everything written so far is folded: a fold stops short of any transaction still open
 * in the database (another suite's), so it may take more than one. Returns how many runs the folds took in.
 */
async function foldEverything(): Promise<number> {
  const { rows } = await t.pool.query<{ now: number }>('SELECT extract(epoch FROM clock_timestamp()) * 1000 AS now');
  const now = Number(rows[0]!.now);
  let folded = 0;
  await eventually(async () => ((folded += await t.service.runMetricsRollup.foldAll()), (await watermark()) > now), { timeoutMs: 120_000, intervalMs: 200, what: 'the rollup folded everything written' });
  return folded;
}

/** A statement on the rollup tables as the rollup job writes them (migration 035 refuses hourly writes that do not keep the days). */
async function asRollupJob(sql: string, params: unknown[]): Promise<void> {
  const client = await t.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT set_config('orchestra.run_metrics_days', 'on', true)`);
    await client.query(sql, params);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/** Rollup rows of an organization's hour (every workflow and app). */
async function cellOf(org: string, hour: number): Promise<{ total: number; succeeded: number; failed: number; running: number } | undefined> {
  const { rows } = await t.pool.query(`SELECT total, succeeded, failed, running FROM "${t.schema}".run_metrics_hourly WHERE org_id = $1 AND workflow_id = $2 AND app_id = $2 AND hour = $3`, [org, ALL_GROUPS, new Date(hour)]);
  return rows[0] as { total: number; succeeded: number; failed: number; running: number } | undefined;
}

const DAY = 24 * HOUR;
const dayFloor = (t: number) => Math.floor(t / DAY) * DAY;
/** The first whole UTC day of the seeded runs (at least 24 h of runs follow it). */
const WHOLE_DAY = dayFloor(BASE + 5 * HOUR + 17 * 60_000) + DAY;

/** Day rows that are not the sum of their day's hourly rows (counts, histograms, failure rows); none when the rollup is consistent. */
async function daysOffTheirHours(): Promise<unknown[]> {
  const { rows } = await t.pool.query(
    `WITH h AS (
       SELECT org_id, workflow_id, app_id, date_bin('24 hours', hour, '2000-01-01T00:00:00Z') AS day, sum(total)::int AS total, sum(succeeded)::int AS succeeded, sum(failed)::int AS failed,
              run_metrics_hist_sum(duration_hist)::jsonb AS dh, run_metrics_hist_sum(queue_wait_hist)::jsonb AS qh
         FROM "${t.schema}".run_metrics_hourly GROUP BY 1, 2, 3, 4
     ), hf AS (
       SELECT org_id, workflow_id, app_id, date_bin('24 hours', hour, '2000-01-01T00:00:00Z') AS day, code, sum(runs)::int AS runs, max(last_at) AS last_at
         FROM "${t.schema}".run_metrics_failures_hourly GROUP BY 1, 2, 3, 4, 5
     )
     SELECT 'cell' AS kind, coalesce(h.day, d.day) AS day, h.total, d.total AS day_total FROM h FULL JOIN "${t.schema}".run_metrics_daily d USING (org_id, workflow_id, app_id, day)
      WHERE h.total IS DISTINCT FROM d.total OR h.succeeded IS DISTINCT FROM d.succeeded OR h.failed IS DISTINCT FROM d.failed
         OR h.dh IS DISTINCT FROM d.duration_hist::jsonb OR h.qh IS DISTINCT FROM d.queue_wait_hist::jsonb
     UNION ALL
     SELECT 'failure', coalesce(hf.day, d.day), hf.runs, d.runs FROM hf FULL JOIN "${t.schema}".run_metrics_failures_daily d USING (org_id, workflow_id, app_id, day, code)
      WHERE hf.runs IS DISTINCT FROM d.runs OR hf.last_at IS DISTINCT FROM d.last_at`,
  );
  return rows;
}

const ranges = (): Array<[string, RunMetricsScope]> => {
  const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
  const day = 24 * HOUR;
  return [
    ['72 h by hour, to now', { from: new Date(Math.floor(NOW / HOUR) * HOUR - 72 * HOUR), to, bucket: 'HOUR' }],
    ['7 d by day', { from: new Date(Math.floor(NOW / day) * day - 6 * day), to: new Date(Math.floor(NOW / day) * day + day), bucket: 'DAY' }],
    ['custom, partial hours at both ends', { from: new Date(BASE + 10 * HOUR + 17 * 60_000), to: new Date(BASE + 50 * HOUR + 43 * 60_000), bucket: 'HOUR' }],
    // 57 h 26 min: at least one whole UTC day (day rows) between partial days (hourly rows) with partial hours (runs).
    ['by hour, partial days and hours at both ends', { from: new Date(BASE + 5 * HOUR + 17 * 60_000), to: new Date(BASE + 62 * HOUR + 43 * 60_000), bucket: 'HOUR' }],
    ['by day, partial days and hours at both ends', { from: new Date(BASE + 5 * HOUR + 17 * 60_000), to: new Date(BASE + 62 * HOUR + 43 * 60_000), bucket: 'DAY' }],
    ['by day, partial days at both ends, one workflow', { from: new Date(BASE + 3 * HOUR), to: new Date(BASE + 61 * HOUR), bucket: 'DAY', workflowId: workflowA }],
    ['inside one hour', { from: new Date(BASE + 20 * HOUR + 5 * 60_000), to: new Date(BASE + 20 * HOUR + 50 * 60_000), bucket: 'HOUR' }],
    ['one workflow, by day', { from: new Date(BASE - day), to, bucket: 'DAY', workflowId: workflowA }],
    ['one app, by hour', { from: new Date(BASE), to, bucket: 'HOUR', appId: appX }],
    ['a workflow and an app', { from: new Date(BASE - day), to, bucket: 'DAY', workflowId: workflowA2, appId: appY }],
  ];
};

async function gqlWorkflow(principal: ReturnType<typeof userPrincipal>, name: string): Promise<string> {
  const res = await t.graphql<{ createWorkflow: { id: string } }>(principal, 'mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name, steps: [{ id: 'a', capability: 'noop' }] } });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.createWorkflow.id;
}

beforeAll(async () => {
  t = await startTestOrchestration({ RUN_METRICS_ROLLUP_INTERVAL_MS: '3600000', RUN_METRICS_SETTLE_MS: '0' });
  // The job's own loop stops (after its first pass, which folds nothing); the tests fold with foldAll.
  await t.service.runMetricsRollup.stop();
  workflowA = await gqlWorkflow(userPrincipal(orgA, 'admin'), 'nightly');
  workflowA2 = await gqlWorkflow(userPrincipal(orgA, 'admin'), 'hourly');
  workflowB = await gqlWorkflow(userPrincipal(orgB, 'admin'), 'theirs');
  const a = seedOf(orgA, SEEDED, 150_000, 7, [workflowA, workflowA2], ['TIMEOUT', 'HTTP_5XX', 'WORKER_LOST', 'SECRET_NOT_FOUND', 'INVALID_OUTPUT']);
  runsA.all = a.map((r) => ({ id: r.id, created: r.created.getTime() }));
  runsA.failed = a.filter((r) => r.status === 'FAILED').map((r) => r.id);
  // Org B: the same hours, other codes, and its runs in the same apps (app ids are the catalog's, not per organization).
  await insertRuns([...a, ...seedOf(orgB, 400, 560_000, 8, [workflowB, workflowB], ['THEIRS_ONLY', 'TIMEOUT'])]);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('run metrics rollup', () => {
  it('answers before any fold exactly as the runs do (nothing folded is read from the runs)', async () => {
    for (const [name, scope] of ranges().slice(0, 3)) {
      const [a, b] = await Promise.all([rolled(orgA, scope), fromRuns(orgA, scope)]);
      expect({ name, ...a }).toEqual({ name, ...b });
    }
  }, 120_000);

  it('folds every finished run (the backfill), then answers every range and filter with the same counts and failure codes, percentiles within the bound', async () => {
    // The first fold may take nothing in while another suite's transaction is open: count every fold's runs.
    const folded = await foldEverything();
    expect(folded).toBeGreaterThan(0);
    const { rows } = await t.pool.query<{ runs: number }>(`SELECT sum(total)::int AS runs FROM "${t.schema}".run_metrics_hourly WHERE org_id = $1 AND workflow_id = $2 AND app_id = $2`, [orgA, ALL_GROUPS]);
    const { rows: finished } = await t.pool.query<{ runs: number }>(`SELECT count(*)::int AS runs FROM "${t.schema}".runs WHERE org_id = $1 AND finished_at IS NOT NULL`, [orgA]);
    expect(rows[0]!.runs).toBe(finished[0]!.runs);
    expect(await daysOffTheirHours()).toEqual([]);
    for (const [name, scope] of ranges()) {
      const [a, b] = await Promise.all([rolled(orgA, scope), fromRuns(orgA, scope)]);
      expect(b.totals.total).toBeGreaterThan(0);
      try {
        expectSameAnswer(a, b);
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
    }
  }, 180_000);

  it('reads whole hours from the rollup rows (a changed row changes the answer)', async () => {
    const hour = BASE + 20 * HOUR;
    const scope: RunMetricsScope = { from: new Date(hour - HOUR), to: new Date(hour + 2 * HOUR), bucket: 'HOUR' };
    const before = await rolled(orgA, scope);
    await asRollupJob(`UPDATE "${t.schema}".run_metrics_hourly SET succeeded = succeeded + 1000, total = total + 1000 WHERE org_id = $1 AND hour = $2 AND workflow_id = $3 AND app_id = $3`, [orgA, new Date(hour), ALL_GROUPS]);
    try {
      const after = await rolled(orgA, scope);
      expect(after.buckets[1]!.counts.succeeded).toBe(before.buckets[1]!.counts.succeeded + 1000);
      expect(after.totals.total).toBe(before.totals.total + 1000);
      expect(after.buckets[0]!.counts).toEqual(before.buckets[0]!.counts);
    } finally {
      await asRollupJob(`UPDATE "${t.schema}".run_metrics_hourly SET succeeded = succeeded - 1000, total = total - 1000 WHERE org_id = $1 AND hour = $2 AND workflow_id = $3 AND app_id = $3`, [orgA, new Date(hour), ALL_GROUPS]);
    }
  }, 60_000);

  it('reads whole days from the day rows, the partial days from the hourly rows (a changed row changes the answer where it is read)', async () => {
    // By day: WHOLE_DAY is one bucket read from its day row; the partial first day from hourly rows.
    const byDay: RunMetricsScope = { from: new Date(WHOLE_DAY - 5 * HOUR - 30 * 60_000), to: new Date(WHOLE_DAY + DAY + 2 * HOUR), bucket: 'DAY' };
    const byHour: RunMetricsScope = { ...byDay, bucket: 'HOUR' };
    const [dayBefore, hourBefore] = [await rolled(orgA, byDay), await rolled(orgA, byHour)];
    expectSameAnswer(dayBefore, await fromRuns(orgA, byDay));
    expectSameAnswer(hourBefore, await fromRuns(orgA, byHour));
    const bump = (n: number) =>
      t.pool.query(`UPDATE "${t.schema}".run_metrics_daily SET succeeded = succeeded + $4, total = total + $4 WHERE org_id = $1 AND day = $2 AND workflow_id = $3 AND app_id = $3`, [orgA, new Date(WHOLE_DAY), ALL_GROUPS, n]);
    const bumpFailures = (n: number) =>
      t.pool.query(`UPDATE "${t.schema}".run_metrics_failures_daily SET runs = runs + $4 WHERE org_id = $1 AND day = $2 AND workflow_id = $3 AND app_id = $3 AND code = 'TIMEOUT'`, [orgA, new Date(WHOLE_DAY), ALL_GROUPS, n]);
    const bumpHour = (n: number) =>
      asRollupJob(`UPDATE "${t.schema}".run_metrics_hourly SET succeeded = succeeded + $4, total = total + $4 WHERE org_id = $1 AND hour = $2 AND workflow_id = $3 AND app_id = $3`, [orgA, new Date(WHOLE_DAY - 3 * HOUR), ALL_GROUPS, n]);
    await bump(1000);
    await bumpFailures(100);
    await bumpHour(10);
    try {
      const [dayAfter, hourAfter] = [await rolled(orgA, byDay), await rolled(orgA, byHour)];
      // The day bucket is its day row; the partial day's bucket its hourly rows; the failure codes the day rows whatever the bucket.
      expect(dayAfter.buckets.map((b) => b.counts.succeeded)).toEqual(dayBefore.buckets.map((b, i) => b.counts.succeeded + [10, 1000, 0][i]!));
      expect(dayAfter.totals.total).toBe(dayBefore.totals.total + 1010);
      expect(hourAfter.totals.total).toBe(hourBefore.totals.total + 10);
      for (const answer of [dayAfter, hourAfter]) {
        expect(answer.failureCodes.find((f) => f.code === 'TIMEOUT')!.runs).toBe(dayBefore.failureCodes.find((f) => f.code === 'TIMEOUT')!.runs + 100);
      }
      // An hour of the day queued for a refold: the day is read from its hourly rows, that hour from the runs.
      await t.pool.query(`INSERT INTO "${t.schema}".run_metrics_refolds (org_id, hour) VALUES ($1, $2)`, [orgA, new Date(WHOLE_DAY + 7 * HOUR)]);
      const pending = await rolled(orgA, byDay);
      expect(pending.buckets.map((b) => b.counts.succeeded)).toEqual(dayBefore.buckets.map((b, i) => b.counts.succeeded + [10, 0, 0][i]!));
      expect(pending.failureCodes).toEqual(dayBefore.failureCodes);
    } finally {
      await bump(-1000);
      await bumpFailures(-100);
      await bumpHour(-10);
    }
    // The job refolds the queued hour and rebuilds its day from the hours.
    await t.service.runMetricsRollup.foldAll();
    expect(await daysOffTheirHours()).toEqual([]);
    expectSameAnswer(await rolled(orgA, byDay), dayBefore);
    // A writer that does not keep the days (a replica of the version before the day rows, mid-deploy) is refused.
    for (const table of ['run_metrics_hourly', 'run_metrics_failures_hourly']) {
      await expect(t.pool.query(`DELETE FROM "${t.schema}".${table} WHERE org_id = $1 AND hour = $2`, [orgA, new Date(WHOLE_DAY)])).rejects.toThrow(/without its day rows/);
    }
    expect(await cellOf(orgA, WHOLE_DAY)).toBeDefined();
  }, 120_000);

  it('counts a run that finishes hours after the hour it was created in: running, then succeeded from the runs, then folded into its creation hour', async () => {
    const hour = Math.floor(NOW / HOUR) * HOUR - 3 * HOUR;
    const [late] = seedOf(orgA, 1, 0, 99, [workflowA, workflowA2], ['X']);
    late!.created = new Date(hour + 10 * 60_000);
    late!.status = 'RUNNING';
    late!.started = new Date(hour + 11 * 60_000);
    late!.finished = null;
    late!.error = null;
    late!.startAt = null;
    await insertRuns([late!]);
    const scope: RunMetricsScope = { from: new Date(hour - 2 * HOUR), to: new Date(Math.ceil(Date.now() / 60_000) * 60_000), bucket: 'HOUR' };
    const running = await rolled(orgA, scope);
    expect(running.buckets[2]!.counts).toMatchObject({ total: 1, running: 1, succeeded: 0 });
    // It finishes now (finished_at and updated_at = the finishing transaction's start, as the engine writes them): three hours after it was created.
    await t.pool.query(`UPDATE "${t.schema}".runs SET status = 'SUCCEEDED', finished_at = now(), updated_at = now() WHERE id = $1`, [late!.id]);
    const finished = await rolled(orgA, scope);
    expect(finished.buckets[2]!.counts).toMatchObject({ total: 1, running: 0, succeeded: 1 });
    expectSameAnswer(finished, await fromRuns(orgA, scope));
    expect(await cellOf(orgA, hour)).toBeUndefined();
    await foldEverything();
    expect(await cellOf(orgA, hour)).toMatchObject({ total: 1, succeeded: 1, running: 0 });
    const after = await rolled(orgA, scope);
    expect(after.buckets[2]!.counts).toMatchObject({ total: 1, running: 0, succeeded: 1 });
    expectSameAnswer(after, await fromRuns(orgA, scope));
  }, 120_000);

  it('takes a retried run out of its folded hour at once (retryRun), and refolds the hour', async () => {
    await foldEverything();
    const runId = runsA.failed[10]!;
    const created = runsA.all.find((r) => r.id === runId)!.created;
    const hour = Math.floor(created / HOUR) * HOUR;
    const scope: RunMetricsScope = { from: new Date(hour), to: new Date(hour + HOUR), bucket: 'HOUR' };
    const cell = (await cellOf(orgA, hour))!;
    const before = await rolled(orgA, scope);
    const res = await t.graphql<{ retryRun: { status: string } }>(userPrincipal(orgA, 'operator'), 'mutation($id: ID!) { retryRun(id: $id) { status } }', { id: runId });
    expect(res.errors).toBeUndefined();
    expect(res.data!.retryRun.status).toBe('RUNNING');
    const retried = await rolled(orgA, scope);
    expect(retried.totals).toMatchObject({ total: before.totals.total, failed: before.totals.failed - 1, running: before.totals.running + 1 });
    expectSameAnswer(retried, await fromRuns(orgA, scope));
    // The job rebuilds the hour from its runs: the retried run is no longer in it until it finishes again.
    await t.service.runMetricsRollup.foldAll();
    expect(await cellOf(orgA, hour)).toMatchObject({ total: cell.total - 1, failed: cell.failed - 1 });
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM "${t.schema}".run_metrics_refolds`);
    expect(rows[0]).toEqual({ n: 0 });
    expect(await daysOffTheirHours()).toEqual([]);
    expectSameAnswer(await rolled(orgA, scope), await fromRuns(orgA, scope));
  }, 120_000);

  it('drops deleted runs (retention) from the rollup: read from the runs until refolded, then gone from their hour', async () => {
    await foldEverything();
    const hour = BASE + 5 * HOUR;
    const doomed = runsA.all.filter((r) => r.created >= hour && r.created < hour + HOUR).map((r) => r.id);
    expect(doomed.length).toBeGreaterThan(10);
    const scope: RunMetricsScope = { from: new Date(hour - HOUR), to: new Date(hour + 2 * HOUR), bucket: 'HOUR' };
    expect((await cellOf(orgA, hour))?.total).toBeGreaterThan(0);
    expect(await t.service.engine.inSystem((tx) => deleteRuns(tx, doomed))).toBe(doomed.length);
    const pending = await rolled(orgA, scope);
    expect(pending.buckets[1]!.counts.total).toBe(0);
    expectSameAnswer(pending, await fromRuns(orgA, scope));
    // Its whole day (and the next): not from the day row until the hour is refolded.
    const days: RunMetricsScope = { from: new Date(dayFloor(hour)), to: new Date(dayFloor(hour) + 2 * DAY), bucket: 'DAY' };
    expectSameAnswer(await rolled(orgA, days), await fromRuns(orgA, days));
    await t.service.runMetricsRollup.foldAll();
    expect(await daysOffTheirHours()).toEqual([]);
    expectSameAnswer(await rolled(orgA, days), await fromRuns(orgA, days));
    expect(await cellOf(orgA, hour)).toBeUndefined();
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM "${t.schema}".run_metrics_failures_hourly WHERE org_id = $1 AND hour = $2`, [orgA, new Date(hour)]);
    expect(rows[0]).toEqual({ n: 0 });
    expectSameAnswer(await rolled(orgA, scope), await fromRuns(orgA, scope));
  }, 120_000);

  it('never counts another organization’s runs, and keeps rollup rows to their organization (row-level security)', async () => {
    await foldEverything();
    const [, week] = ranges()[1]!;
    const [a, b] = await Promise.all([rolled(orgB, week), fromRuns(orgB, week)]);
    expectSameAnswer(a, b);
    expect(a.totals.total).toBe(400);
    expect(a.failureCodes.map((f) => f.code).sort()).toEqual(['THEIRS_ONLY', 'TIMEOUT']);
    const ours = await rolled(orgA, week);
    expect(ours.failureCodes.map((f) => f.code)).not.toContain('THEIRS_ONLY');
    // Org B asking with org A's workflow sees nothing.
    expect((await rolled(orgB, { ...week, workflowId: workflowA })).totals.total).toBe(0);
    // Through GraphQL too.
    const res = await t.graphql<{ runMetrics: { totals: { total: number }; failureCodes: Array<{ code: string }> } }>(
      userPrincipal(orgB, 'viewer'),
      'query($from: DateTime!, $to: DateTime!) { runMetrics(from: $from, to: $to, bucket: DAY) { totals { total } failureCodes { code } } }',
      { from: week.from.toISOString(), to: week.to.toISOString() },
    );
    expect(res.data?.runMetrics.totals.total).toBe(400);
    // The tables: a tenant sees and writes only its own rows.
    await inTenant(orgA, async (tx) => {
      const { rows } = await tx.query<{ orgs: string[] }>('SELECT array_agg(DISTINCT org_id) AS orgs FROM run_metrics_hourly');
      expect(rows[0]!.orgs).toEqual([orgA]);
      const { rows: failures } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM run_metrics_failures_hourly WHERE org_id = $1', [orgB]);
      expect(failures[0]!.n).toBe(0);
      const { rows: days } = await tx.query<{ orgs: string[] }>('SELECT array_agg(DISTINCT org_id) AS orgs FROM run_metrics_daily');
      expect(days[0]!.orgs).toEqual([orgA]);
      const { rows: dayFailures } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM run_metrics_failures_daily WHERE org_id = $1', [orgB]);
      expect(dayFailures[0]!.n).toBe(0);
    });
    // Org B's day rows exist (the rows above were hidden, not missing).
    const { rows: theirs } = await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t.schema}".run_metrics_failures_daily WHERE org_id = $1`, [orgB]);
    expect(theirs[0]!.n).toBeGreaterThan(0);
    await expect(
      inTenant(orgA, (tx) => tx.query(`INSERT INTO run_metrics_daily (org_id, workflow_id, app_id, day, total) VALUES ($1, $2, $2, now(), 1)`, [orgB, ALL_GROUPS])),
    ).rejects.toThrow(/row-level security/);
    await expect(
      inTenant(orgA, async (tx) => {
        // As the rollup job writes (past migration 035's refusal of writers that do not keep the days): row-level security still refuses.
        await tx.query(`SELECT set_config('orchestra.run_metrics_days', 'on', true)`);
        return tx.query(`INSERT INTO run_metrics_hourly (org_id, workflow_id, app_id, hour, total) VALUES ($1, $2, $2, now(), 1)`, [orgB, ALL_GROUPS]);
      }),
    ).rejects.toThrow(/row-level security/);
    await expect(inTenant(orgA, (tx) => tx.query(`INSERT INTO run_metrics_refolds (org_id, hour) VALUES ($1, now())`, [orgB]))).rejects.toThrow(/row-level security/);
    await expect(inTenant(orgA, (tx) => tx.query(`UPDATE run_metrics_watermark SET folded_before = now()`))).resolves.toMatchObject({ rowCount: 0 });
  }, 120_000);
});
