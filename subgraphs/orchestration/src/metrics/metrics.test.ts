import { randomUUID } from 'node:crypto';
import { withTenantTransaction } from '@orchestra/lib';
import { TENANT_ROLE } from '../engine/engine';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { runCountsQuery } from './run-metrics';

// runMetrics and usageSeries (issues 12 and 14) on the real service, PostgreSQL and its row-level
// security. Runs and accounting rows are written straight into the tables with the times a test
// needs (days in the past), as the engine would have left them.

let t: TestOrchestration;
const orgA = randomUUID();
const orgB = randomUUID();
const viewerA = userPrincipal(orgA, 'viewer');
const adminA = userPrincipal(orgA, 'admin');
const adminB = userPrincipal(orgB, 'admin');
let workflowA: string;
let workflowA2: string;
let workflowB: string;

const DAY = 86_400_000;
/** A UTC midnight three days from now: every seeded time is before it. */
const END = new Date(Math.floor(Date.now() / DAY) * DAY + 3 * DAY);
const at = (daysBeforeEnd: number, plusMs = 0) => new Date(END.getTime() - daysBeforeEnd * DAY + plusMs);

async function gql<T>(principal: typeof adminA, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.graphql<T>(principal, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!;
}

interface SeedRun {
  org: string;
  workflow: string;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'QUEUED' | 'RUNNING';
  created: Date;
  /** ms from creation to start, and from start to finish. */
  waitMs?: number;
  runMs?: number;
  error?: { code: string; message: string };
}

async function seedRuns(runs: SeedRun[]): Promise<string[]> {
  const ids = runs.map(() => randomUUID());
  await t.pool.query(
    `INSERT INTO "${t.schema}".runs (id, org_id, workflow_id, workflow_version, status, input, started_by_kind, started_by_id, created_at, started_at, finished_at, error)
     SELECT r.id, r.org, r.workflow, 1, r.status, '{}', 'user', 'seed', r.created, r.started, r.finished, r.error
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, org uuid, workflow uuid, status text, created timestamptz, started timestamptz, finished timestamptz, error jsonb)`,
    [
      JSON.stringify(
        runs.map((r, i) => {
          const started = r.waitMs === undefined ? null : new Date(r.created.getTime() + r.waitMs);
          const finished = started && r.runMs !== undefined ? new Date(started.getTime() + r.runMs) : null;
          return { id: ids[i], org: r.org, workflow: r.workflow, status: r.status, created: r.created, started, finished, error: r.error ?? null };
        }),
      ),
    ],
  );
  return ids;
}

const RUN_METRICS = `query($from: DateTime!, $to: DateTime!, $bucket: MetricsBucket!, $workflowId: ID) {
  runMetrics(from: $from, to: $to, bucket: $bucket, workflowId: $workflowId) {
    bucket
    buckets { start counts { total succeeded failed cancelled queued running failureRate p50DurationMs p95DurationMs p95QueueWaitMs } }
    totals { total succeeded failed cancelled queued running failureRate p50DurationMs p95DurationMs p50QueueWaitMs p95QueueWaitMs }
    failureCodes { code runs firstAt lastAt lastMessage lastRunId }
  }
}`;

interface Counts {
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  queued: number;
  running: number;
  failureRate: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
  p50QueueWaitMs?: number | null;
  p95QueueWaitMs: number | null;
}
interface Metrics {
  runMetrics: {
    bucket: string;
    buckets: Array<{ start: string; counts: Counts }>;
    totals: Counts;
    failureCodes: Array<{ code: string; runs: number; firstAt: string; lastAt: string; lastMessage: string; lastRunId: string }>;
  };
}

let lastTimeout: string;

beforeAll(async () => {
  // The rollup job passes once at start (nothing to fold) and not again during the suite: these runs are
  // read from the runs, so their percentiles are exact (run-metrics-rollup.test.ts covers the rollup).
  t = await startTestOrchestration({ RUN_METRICS_ROLLUP_INTERVAL_MS: '3600000' });
  const create = async (principal: typeof adminA, name: string) =>
    (await gql<{ createWorkflow: { id: string } }>(principal, 'mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name, steps: [{ id: 'a', capability: 'noop' }] } })).createWorkflow.id;
  workflowA = await create(adminA, 'nightly');
  workflowA2 = await create(adminA, 'hourly');
  workflowB = await create(adminB, 'theirs');
  // Org A, over seven days: day 6 two successes (1 s and 3 s, waits 100 and 300 ms); day 4 a success and two
  // timeouts; day 1 a failure of another code, a cancelled run and one still queued; the other workflow one success on day 1.
  const ids = await seedRuns([
    { org: orgA, workflow: workflowA, status: 'SUCCEEDED', created: at(6, 1_000), waitMs: 100, runMs: 1_000 },
    { org: orgA, workflow: workflowA, status: 'SUCCEEDED', created: at(6, 2_000), waitMs: 300, runMs: 3_000 },
    { org: orgA, workflow: workflowA, status: 'SUCCEEDED', created: at(4, 1_000), waitMs: 200, runMs: 2_000 },
    { org: orgA, workflow: workflowA, status: 'FAILED', created: at(4, 2_000), waitMs: 200, runMs: 5_000, error: { code: 'TIMEOUT', message: 'step "a" failed: took longer than 5 s' } },
    { org: orgA, workflow: workflowA, status: 'FAILED', created: at(4, 3_000), waitMs: 200, runMs: 5_000, error: { code: 'TIMEOUT', message: 'step "a" failed: took longer than 5 s (again)' } },
    { org: orgA, workflow: workflowA, status: 'FAILED', created: at(1, 1_000), waitMs: 50, runMs: 10, error: { code: 'HTTP_5XX', message: 'step "a" failed: 503' } },
    { org: orgA, workflow: workflowA, status: 'CANCELLED', created: at(1, 2_000), waitMs: 50, runMs: 10 },
    { org: orgA, workflow: workflowA, status: 'QUEUED', created: at(1, 3_000) },
    { org: orgA, workflow: workflowA2, status: 'SUCCEEDED', created: at(1, 4_000), waitMs: 10, runMs: 10 },
    // Org B: failures org A must never see.
    { org: orgB, workflow: workflowB, status: 'FAILED', created: at(4, 1_000), waitMs: 1, runMs: 1, error: { code: 'TIMEOUT', message: 'theirs' } },
    { org: orgB, workflow: workflowB, status: 'FAILED', created: at(1, 1_000), waitMs: 1, runMs: 1, error: { code: 'SECRET_NOT_FOUND', message: 'theirs' } },
  ]);
  lastTimeout = ids[4]!;
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

describe('runMetrics', () => {
  it('counts runs by status per day bucket with durations, queue wait and failure codes, every bucket of the range', async () => {
    const { runMetrics: m } = await gql<Metrics>(viewerA, RUN_METRICS, { from: at(7).toISOString(), to: END.toISOString(), bucket: 'DAY' });
    expect(m.buckets.map((b) => b.start)).toEqual([7, 6, 5, 4, 3, 2, 1].map((d) => at(d).toISOString()));
    expect(m.buckets.map((b) => b.counts.total)).toEqual([0, 2, 0, 3, 0, 0, 4]);
    const day6 = m.buckets[1]!.counts;
    expect(day6).toMatchObject({ succeeded: 2, failed: 0, failureRate: 0, p50DurationMs: 2_000, p95DurationMs: 2_900 });
    expect(day6.p95QueueWaitMs).toBe(290);
    expect(m.buckets[3]!.counts).toMatchObject({ succeeded: 1, failed: 2, failureRate: 0.6667 });
    expect(m.buckets[6]!.counts).toMatchObject({ total: 4, succeeded: 1, failed: 1, cancelled: 1, queued: 1, failureRate: 0.3333 });
    expect(m.buckets[0]!.counts).toMatchObject({ total: 0, failureRate: null, p50DurationMs: null, p95QueueWaitMs: null });
    expect(m.totals).toMatchObject({ total: 9, succeeded: 4, failed: 3, cancelled: 1, queued: 1, running: 0, failureRate: 0.375 });
    // What is failing, since when, and why: most runs first, the latest message and run of each code.
    expect(m.failureCodes).toEqual([
      { code: 'TIMEOUT', runs: 2, firstAt: at(4, 2_000).toISOString(), lastAt: at(4, 3_000).toISOString(), lastMessage: 'step "a" failed: took longer than 5 s (again)', lastRunId: lastTimeout },
      { code: 'HTTP_5XX', runs: 1, firstAt: at(1, 1_000).toISOString(), lastAt: at(1, 1_000).toISOString(), lastMessage: 'step "a" failed: 503', lastRunId: expect.any(String) as unknown },
    ]);
  });

  it('narrows to a workflow and to a chosen range', async () => {
    const { runMetrics: other } = await gql<Metrics>(viewerA, RUN_METRICS, { from: at(7).toISOString(), to: END.toISOString(), bucket: 'DAY', workflowId: workflowA2 });
    expect(other.totals).toMatchObject({ total: 1, succeeded: 1, failed: 0 });
    expect(other.failureCodes).toEqual([]);
    const { runMetrics: twoDays } = await gql<Metrics>(viewerA, RUN_METRICS, { from: at(2).toISOString(), to: END.toISOString(), bucket: 'HOUR' });
    expect(twoDays.buckets).toHaveLength(48);
    expect(twoDays.totals).toMatchObject({ total: 4, failed: 1 });
    expect(twoDays.failureCodes.map((f) => f.code)).toEqual(['HTTP_5XX']);
  });

  it('shows an organization only its own runs (row-level security)', async () => {
    const { runMetrics: theirs } = await gql<Metrics>(adminB, RUN_METRICS, { from: at(7).toISOString(), to: END.toISOString(), bucket: 'DAY' });
    expect(theirs.totals).toMatchObject({ total: 2, failed: 2 });
    expect(theirs.failureCodes.map((f) => [f.code, f.runs, f.lastMessage])).toEqual([
      ['SECRET_NOT_FOUND', 1, 'theirs'],
      ['TIMEOUT', 1, 'theirs'],
    ]);
    // Org B's workflow id does not open org A's runs to org B, nor the other way round.
    const { runMetrics: crossed } = await gql<Metrics>(adminB, RUN_METRICS, { from: at(7).toISOString(), to: END.toISOString(), bucket: 'DAY', workflowId: workflowA });
    expect(crossed.totals.total).toBe(0);
  });

  it('refuses unbounded ranges and too many buckets with BAD_USER_INPUT naming the field', async () => {
    for (const [from, to, bucket, field, reason] of [
      [END, at(1), 'DAY', 'to', 'INVALID_RANGE'],
      [at(100), END, 'DAY', 'to', 'RANGE_TOO_LONG'],
      [at(30), END, 'FIVE_MINUTES', 'bucket', 'TOO_MANY_BUCKETS'],
    ] as const) {
      const res = await t.graphql(viewerA, RUN_METRICS, { from: from.toISOString(), to: to.toISOString(), bucket });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
    const badId = await t.graphql(viewerA, RUN_METRICS, { from: at(2).toISOString(), to: END.toISOString(), bucket: 'DAY', workflowId: 'nightly' });
    expect(badId.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'workflowId' });
  });

  it('reads a busy organization’s range through runs_org_created, not a scan of every run', async () => {
    // 30,000 runs of another organization over 30 days, so the planner sees a table worth an index.
    const busy = randomUUID();
    const busyWorkflow = (await gql<{ createWorkflow: { id: string } }>(userPrincipal(busy, 'admin'), 'mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name: 'busy', steps: [{ id: 'a', capability: 'noop' }] } })).createWorkflow.id;
    await t.pool.query(
      `INSERT INTO "${t.schema}".runs (id, org_id, workflow_id, workflow_version, status, input, started_by_kind, started_by_id, created_at, started_at, finished_at)
       SELECT gen_random_uuid(), $1, $2, 1, 'SUCCEEDED', '{}', 'user', 'seed', $3::timestamptz - (i * interval '86 seconds'), $3::timestamptz - (i * interval '86 seconds') + interval '1 second', $3::timestamptz - (i * interval '86 seconds') + interval '2 seconds'
         FROM generate_series(1, 30000) AS i`,
      [busy, busyWorkflow, END],
    );
    await t.pool.query(`VACUUM ANALYZE "${t.schema}".runs`);
    const plan = await withTenantTransaction(t.pool, TENANT_ROLE, { orgId: busy }, async (tx) => {
      await tx.query(`SET LOCAL search_path TO "${t.schema}"`);
      const q = runCountsQuery({ from: at(1), to: END, bucket: 'HOUR' });
      return (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${q.text}`, q.values)).rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Index (Only )?Scan (using|on) runs_org_created/);
    expect(plan).not.toMatch(/Seq Scan/);
  });
});

describe('usageSeries', () => {
  beforeAll(async () => {
    const [runA] = await seedRuns([{ org: orgA, workflow: workflowA, status: 'SUCCEEDED', created: at(3), waitMs: 1, runMs: 1 }]);
    const [runB] = await seedRuns([{ org: orgB, workflow: workflowB, status: 'SUCCEEDED', created: at(3), waitMs: 1, runMs: 1 }]);
    const call = (org: string, run: string, workflow: string, provider: string, model: string, created: Date, prompt: number, completion: number, cost: number, error: string | null = null) => ({
      id: randomUUID(), org, run, task: randomUUID(), attempt: randomUUID(), workflow, provider, model, prompt, completion, cost, error, created,
    });
    const calls = [
      call(orgA, runA!, workflowA, 'openai', 'gpt-4o', at(3, 1), 100, 50, 0.5),
      call(orgA, runA!, workflowA, 'openai', 'gpt-4o-mini', at(3, 2), 10, 5, 0.01),
      call(orgA, runA!, workflowA, 'local', 'llama', at(3, 3), 1_000, 500, 0, 'PROVIDER_HTTP_5XX'),
      call(orgA, runA!, workflowA, 'openai', 'gpt-4o', at(2, 1), 200, 100, 1),
      call(orgB, runB!, workflowB, 'openai', 'gpt-4o', at(3, 1), 7, 7, 7),
    ];
    await t.pool.query(
      `INSERT INTO "${t.schema}".model_calls (id, org_id, run_id, task_id, attempt_id, workflow_id, provider, model, requested_model, prompt_tokens, completion_tokens, ttft_ms, duration_ms, tokens_per_second, cost_usd, error_code, created_at)
       SELECT c.id, c.org, c.run, c.task, c.attempt, c.workflow, c.provider, c.model, c.model, c.prompt, c.completion, 1, 1, 1, c.cost, c.error, c.created
         FROM jsonb_to_recordset($1::jsonb) AS c(id uuid, org uuid, run uuid, task uuid, attempt uuid, workflow uuid, provider text, model text, prompt bigint, completion bigint, cost numeric, error text, created timestamptz)`,
      [JSON.stringify(calls)],
    );
    await t.pool.query(
      `INSERT INTO "${t.schema}".gpu_usage (attempt_id, org_id, run_id, task_id, workflow_id, worker_id, gpu_count, gpu_models, seconds, gpu_seconds, created_at)
       VALUES ($1, $2, $3, $4, $5, 'w', 2, '{A100}', 30, 60, $6)`,
      [randomUUID(), orgA, runA, randomUUID(), workflowA, at(3, 10)],
    );
  });

  const SERIES = `query($from: DateTime!, $to: DateTime!, $splitBy: UsageSplitBy!) { usageSeries(from: $from, to: $to, splitBy: $splitBy) { day key workflow { name } calls failedCalls promptTokens completionTokens totalTokens costUsd gpuSeconds } }`;
  type Point = { day: string; key: string; workflow: { name: string } | null; calls: number; failedCalls: number; totalTokens: number; costUsd: number; gpuSeconds: number };
  const day = (d: number) => at(d).toISOString().slice(0, 10);

  it('splits each day by provider, model or workflow, GPU time where it belongs', async () => {
    const range = { from: at(7).toISOString(), to: END.toISOString() };
    const byProvider = (await gql<{ usageSeries: Point[] }>(viewerA, SERIES, { ...range, splitBy: 'PROVIDER' })).usageSeries;
    expect(byProvider.map((p) => [p.day, p.key, p.calls, p.failedCalls, p.totalTokens, p.costUsd, p.gpuSeconds])).toEqual([
      [day(3), '', 0, 0, 0, 0, 60],
      [day(3), 'local', 1, 1, 1_500, 0, 0],
      [day(3), 'openai', 2, 0, 165, 0.51, 0],
      [day(2), 'openai', 1, 0, 300, 1, 0],
    ]);
    const byModel = (await gql<{ usageSeries: Point[] }>(viewerA, SERIES, { ...range, splitBy: 'MODEL' })).usageSeries;
    expect(byModel.filter((p) => p.day === day(3)).map((p) => p.key)).toEqual(['', 'gpt-4o', 'gpt-4o-mini', 'llama']);
    const byWorkflow = (await gql<{ usageSeries: Point[] }>(viewerA, SERIES, { ...range, splitBy: 'WORKFLOW' })).usageSeries;
    expect(byWorkflow.map((p) => [p.day, p.workflow?.name, p.calls, p.gpuSeconds])).toEqual([
      [day(3), 'nightly', 3, 60],
      [day(2), 'nightly', 1, 0],
    ]);
  });

  it('shows an organization only its own usage, and refuses a bad range', async () => {
    const theirs = (await gql<{ usageSeries: Point[] }>(adminB, SERIES, { from: at(7).toISOString(), to: END.toISOString(), splitBy: 'PROVIDER' })).usageSeries;
    expect(theirs.map((p) => [p.key, p.calls, p.costUsd])).toEqual([['openai', 1, 7]]);
    const res = await t.graphql(viewerA, SERIES, { from: END.toISOString(), to: at(1).toISOString(), splitBy: 'APP' });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to', reason: 'INVALID_RANGE' });
  });
});
