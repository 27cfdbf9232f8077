import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Pool as HttpPool } from 'undici';
import { INTERNAL_CHANNEL_OPTIONS, insecureCredentials, TEST_DATABASE_URL, TEST_REDIS_URL, unaryCall } from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import { startPlatform, type Platform } from '@orchestra/tests';
import { fmt, percentile } from './load';
import { costOf, costTable, snapshot, type Cost, type ProbeTargets } from './probe';

/**
 * The task path end to end (issue 11): startRun → PostgreSQL → BullMQ → dispatcher → gRPC Execute on
 * a worker process → result → dependents, with the same run's baselines: raw BullMQ (add+process and
 * drain) and raw PostgreSQL write transactions. Scenarios, selectable by name:
 *   one-step       one-step noop runs through the gateway, 32 callers (startRun)
 *   start-runs     the same started in bulk: GraphQL startRuns, gRPC StartRun (32 callers), gRPC StartRuns
 *   queue-latency  300 one-step runs/s offered through the gateway, slots free: queued → claimed per task
 *   fan-out        1 → 50 → 1 noop DAGs, 100 runs, 64 slots
 * Each reports tasks/s, CPU ms per task per process and SQL statements per task.
 */
export const TASK_PATH_SCENARIOS = ['one-step', 'start-runs', 'queue-latency', 'fan-out'] as const;
export type TaskPathScenario = (typeof TASK_PATH_SCENARIOS)[number];

/** BENCH_TASK_PATH_SCENARIOS (comma-separated names of TASK_PATH_SCENARIOS), or every scenario when unset. */
export function taskPathScenariosFromEnv(): TaskPathScenario[] {
  const raw = process.env['BENCH_TASK_PATH_SCENARIOS'];
  if (raw === undefined || raw.trim() === '') return [...TASK_PATH_SCENARIOS];
  const names = raw.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !(TASK_PATH_SCENARIOS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`BENCH_TASK_PATH_SCENARIOS: unknown ${unknown.join(', ')} (have: ${TASK_PATH_SCENARIOS.join(', ')})`);
  return names as TaskPathScenario[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Phase {
  name: string;
  tasks: number;
  seconds: number;
  cost: Cost;
  /** Run latency (created → finished), sorted, ms. */
  runMs: number[];
  /** 1-minute load average when the phase started and when it ended. */
  load: [number, number];
  note?: string;
}

interface Bench {
  platform: Platform;
  targets: ProbeTargets;
  gql: <T>(query: string, variables: Record<string, unknown>) => Promise<{ data?: T; errors?: Array<{ message: string }> }>;
  grpc: orchestrationV1.OrchestrationServiceClient;
  principalHeader: () => string;
  internalToken: string;
}

/**
 * Waits until every run succeeded; resolves to when the last one finished (ms) and the run latencies.
 * It asks only about the runs not yet seen finished (the bench's own polling competes for the same CPU;
 * the time measured is the runs' finished_at, not when the poll saw them).
 */
async function finished(b: Bench, ids: readonly string[], since: number): Promise<{ lastFinishedAt: number; runMs: number[] }> {
  const schema = b.platform.schemas.orchestration;
  const pending = new Set(ids);
  while (pending.size > 0) {
    const { rows } = await b.platform.pool.query<{ id: string; status: string }>(
      `SELECT id, status FROM "${schema}".runs WHERE id = ANY($1::uuid[]) AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')`,
      [[...pending]],
    );
    const failed = rows.filter((r) => r.status !== 'SUCCEEDED').length;
    if (failed > 0) throw new Error(`${failed} bench runs failed`);
    for (const r of rows) pending.delete(r.id);
    if (pending.size === 0) break;
    if (Date.now() - since > 10 * 60_000) throw new Error('bench runs did not finish within 10 minutes');
    await sleep(200);
  }
  const { rows } = await b.platform.pool.query<{ ms: number; finished: Date }>(
    `SELECT extract(epoch FROM finished_at - created_at) * 1000 AS ms, finished_at AS finished FROM "${schema}".runs WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return { lastFinishedAt: Math.max(...rows.map((r) => r.finished.getTime())), runMs: rows.map((r) => Number(r.ms)).sort((x, y) => x - y) };
}

/** `callers` loops, each taking the next index until `count` are done; `start(i)` starts runs and returns their ids. */
async function callersLoop(count: number, callers: number, step: number, start: (from: number, n: number) => Promise<string[]>): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const caller = async () => {
    while (next < count) {
      const from = next;
      const n = Math.min(step, count - from);
      next += n;
      ids.push(...(await start(from, n)));
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  return ids;
}

/** Runs a phase: snapshots, starts the runs, waits for them to finish. */
async function phase(b: Bench, name: string, tasksPerRun: number, startAll: () => Promise<string[]>, note?: string): Promise<Phase> {
  const loadBefore = loadavg()[0] as number;
  const before = await snapshot(b.targets);
  const started = Date.now();
  const ids = await startAll();
  const done = await finished(b, ids, started);
  const after = await snapshot(b.targets);
  const seconds = (done.lastFinishedAt - started) / 1000;
  return { name, tasks: ids.length * tasksPerRun, seconds, cost: costOf(before, after), runMs: done.runMs, load: [loadBefore, loadavg()[0] as number], ...(note ? { note } : {}) };
}

const startRunMutation = 'mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }';
const startRunsMutation = 'mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }';

async function viaGateway(b: Bench, workflowName: string, i: number): Promise<string> {
  const res = await b.gql<{ startRun: { run: { id: string } } }>(startRunMutation, { i: { workflowName, input: { i } } });
  if (!res.data) throw new Error(`startRun failed: ${JSON.stringify(res.errors)}`);
  return res.data.startRun.run.id;
}

async function viaGrpc(b: Bench, workflow: string, i: number): Promise<string> {
  const res = await unaryCall(b.grpc, b.grpc.startRun, { workflow, version: 0, input: { i }, idempotencyKey: '' }, { internalToken: b.internalToken }, { principalHeader: b.principalHeader() });
  return res.run!.id;
}

type StartRunsMethod = (request: { items: orchestrationV1.StartRunRequest[] }, ...rest: never[]) => unknown;

async function viaGrpcBulk(b: Bench, workflow: string, from: number, n: number): Promise<string[]> {
  const client = b.grpc as unknown as { startRuns: StartRunsMethod };
  const items = Array.from({ length: n }, (_, k) => ({ workflow, version: 0, input: { i: from + k }, idempotencyKey: '' }));
  const res = await unaryCall<{ items: orchestrationV1.StartRunRequest[] }, { results: Array<{ run?: { id: string } }> }>(b.grpc, client.startRuns as never, { items }, { internalToken: b.internalToken }, { principalHeader: b.principalHeader() });
  return res.results.map((r) => r.run!.id);
}

async function oneStep(b: Bench, runs: number): Promise<Phase> {
  return phase(b, `${runs} one-step runs, gateway startRun, 32 callers`, 1, () => callersLoop(runs, 32, 1, async (i) => [await viaGateway(b, 'one-step', i)]));
}

async function startRunsPhases(b: Bench, runs: number): Promise<Phase[]> {
  const phases: Phase[] = [];
  const probe = await b.gql(startRunsMutation, { i: [{ workflowName: 'one-step', input: { i: -1 } }] });
  if (probe.data) {
    phases.push(
      await phase(b, `${runs} one-step runs, gateway startRuns × 50, 8 callers`, 1, () =>
        callersLoop(runs, 8, 50, async (from, n) => {
          const res = await b.gql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(startRunsMutation, {
            i: Array.from({ length: n }, (_, k) => ({ workflowName: 'one-step', input: { i: from + k } })),
          });
          if (!res.data) throw new Error(`startRuns failed: ${JSON.stringify(res.errors)}`);
          return res.data.startRuns.runs.map((r) => r.run.id);
        }),
      ),
    );
  }
  phases.push(await phase(b, `${runs} one-step runs, gRPC StartRun, 32 callers`, 1, () => callersLoop(runs, 32, 1, async (i) => [await viaGrpc(b, 'one-step', i)])));
  if (typeof (b.grpc as unknown as { startRuns?: unknown }).startRuns === 'function') {
    phases.push(await phase(b, `${runs} one-step runs, gRPC StartRuns × 50, 8 callers`, 1, () => callersLoop(runs, 8, 50, (from, n) => viaGrpcBulk(b, 'one-step', from, n))));
  }
  return phases;
}

interface LatencyResult {
  phase: Phase;
  offered: number;
  queuedToClaimedMs: number[];
  /** The dispatcher's stages over the phase, mean ms per attempt. */
  stages: Record<Stage, number>;
}

/** Offers `rate` one-step runs per second through the gateway for `seconds` (open loop), then reads queued → claimed per task from the run events. */
async function queueLatency(b: Bench, rate: number, seconds: number): Promise<LatencyResult> {
  const total = rate * seconds;
  let ids: string[] = [];
  const before = await stageTotals(b);
  const p = await phase(b, `${total} one-step runs offered at ${rate}/s through the gateway`, 1, async () => {
    const pending: Array<Promise<string>> = [];
    const started = Date.now();
    for (let i = 0; i < total; i += 1) {
      const due = started + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 1) await sleep(wait);
      pending.push(viaGateway(b, 'one-step', i));
    }
    ids = await Promise.all(pending);
    return ids;
  });
  const schema = b.platform.schemas.orchestration;
  const { rows } = await b.platform.pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM max(at) FILTER (WHERE event->>'taskStatus' = 'RUNNING') - min(at) FILTER (WHERE event->>'taskStatus' = 'QUEUED')) * 1000 AS ms
       FROM "${schema}".run_events WHERE run_id = ANY($1::uuid[]) AND kind = 'TASK_STATUS' GROUP BY task_id`,
    [ids],
  );
  return { phase: p, offered: rate, queuedToClaimedMs: rows.map((r) => Number(r.ms)).sort((x, y) => x - y), stages: stageMeans(before, await stageTotals(b)) };
}

/**
 * Where a fan-out task's time went, from its attempt's timestamps (ms, sorted): queued (the start of
 * the transaction that queued it) → started (the claim statement's clock) → finished (the start of
 * the result's transaction); `worker` is the attempt's duration_ms: the worker's own time, or when it
 * reports 0 ms (a noop) the Execute call as the dispatcher timed it.
 */
interface FanOutBreakdown {
  queuedToStarted: number[];
  startedToFinished: number[];
  worker: number[];
  /** Mean ms per attempt of the dispatcher's stages over the phase (orchestration's /metrics): claim, Execute call, result. */
  stages: Record<Stage, number>;
}

type Stage = 'queue' | 'claim' | 'execute' | 'result';
type StageTotals = Record<Stage, { sum: number; count: number }>;

/** Mean ms per attempt of each stage between two stageTotals. */
const stageMeans = (before: StageTotals, after: StageTotals): Record<Stage, number> => {
  const mean = (k: Stage) => ((after[k].sum - before[k].sum) * 1000) / Math.max(1, after[k].count - before[k].count);
  return { queue: mean('queue'), claim: mean('claim'), execute: mean('execute'), result: mean('result') };
};

/** Sum and count of the dispatcher's stage histograms (dispatch_stage_seconds by stage, task_attempt_duration_seconds) in orchestration's /metrics. */
async function stageTotals(b: Bench): Promise<StageTotals> {
  const text = await fetch(`${b.platform.services.orchestration!.httpUrl}/metrics`).then((r) => r.text());
  const totals: StageTotals = { queue: { sum: 0, count: 0 }, claim: { sum: 0, count: 0 }, execute: { sum: 0, count: 0 }, result: { sum: 0, count: 0 } };
  for (const line of text.split('\n')) {
    const m = /^orchestra_(dispatch_stage_seconds|task_attempt_duration_seconds)_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const stage = m[1] === 'task_attempt_duration_seconds' ? 'execute' : /stage="(queue|claim|result)"/.exec(m[3]!)?.[1];
    if (stage === 'queue' || stage === 'claim' || stage === 'execute' || stage === 'result') totals[stage][m[2] as 'sum' | 'count'] += Number(m[4]);
  }
  return totals;
}

async function fanOutBreakdown(b: Bench, ids: readonly string[], before: StageTotals): Promise<FanOutBreakdown> {
  const stages = stageMeans(before, await stageTotals(b));
  const schema = b.platform.schemas.orchestration;
  const { rows } = await b.platform.pool.query<{ wait: number; exec: number; worker: number | null }>(
    `SELECT extract(epoch FROM started_at - queued_at) * 1000 AS wait, extract(epoch FROM finished_at - started_at) * 1000 AS exec, duration_ms AS worker
       FROM "${schema}".task_attempts WHERE run_id = ANY($1::uuid[]) AND status = 'SUCCEEDED'`,
    [ids],
  );
  const sorted = (xs: number[]) => xs.sort((x, y) => x - y);
  return {
    queuedToStarted: sorted(rows.map((r) => Number(r.wait))),
    startedToFinished: sorted(rows.map((r) => Number(r.exec))),
    worker: sorted(rows.filter((r) => r.worker !== null).map((r) => Number(r.worker))),
    stages,
  };
}

async function fanOut(b: Bench, runs: number): Promise<{ phase: Phase; breakdown: FanOutBreakdown }> {
  let ids: string[] = [];
  const before = await stageTotals(b);
  const p = await phase(b, `${runs} fan-out runs 1 → 50 → 1 (52 tasks each), gRPC StartRun`, 52, async () => {
    ids = await callersLoop(runs, 32, 1, async (i) => [await viaGrpc(b, 'fan-50', i)]);
    return ids;
  });
  return { phase: p, breakdown: await fanOutBreakdown(b, ids, before) };
}

/** The offered rates of the queue-latency scenario: BENCH_QUEUE_RATES (tasks/s, comma-separated, each 1–2,000), 300 by default. */
function queueRates(): number[] {
  const rates = (process.env['BENCH_QUEUE_RATES'] ?? '300').split(',').map((r) => Number(r.trim()));
  if (rates.length === 0 || rates.length > 8 || rates.some((r) => !Number.isInteger(r) || r < 1 || r > 2_000)) throw new Error('BENCH_QUEUE_RATES: 1 to 8 whole rates of 1–2,000 tasks/s');
  return rates;
}

const SLOTS = 64;

function fanOutLine(p: Phase, d: FanOutBreakdown): string {
  const ms = (xs: number[]) => `p50 ${fmt(percentile(xs, 50), 1)} / p95 ${fmt(percentile(xs, 95), 1)} ms`;
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
  const cycle = (SLOTS * p.seconds * 1000) / p.tasks;
  return (
    `- Fan-out, where a task's time went (${d.startedToFinished.length} attempts; from their rows): queued → claimed ${ms(d.queuedToStarted)} (most of it waiting for one of the ${SLOTS} slots); ` +
    `claimed → result's transaction ${ms(d.startedToFinished)}, mean ${fmt(mean(d.startedToFinished), 1)} ms (of it the Execute call by the dispatcher's clock, a noop's 0 ms on the worker being no duration: ${ms(d.worker)}); ` +
    `a slot's cycle ${fmt(cycle, 1)} ms (${SLOTS} slots × phase time / tasks), so ${fmt(cycle - mean(d.startedToFinished), 1)} ms of it between a result's transaction starting and the slot's next claim. ` +
    `The dispatcher's stages, mean per attempt (orchestration's /metrics): job added → taken ${fmt(d.stages.queue, 0)} ms (the wait for a slot), job taken → claimed ${fmt(d.stages.claim, 1)} ms, Execute call ${fmt(d.stages.execute, 1)} ms, call ended → result committed ${fmt(d.stages.result, 1)} ms; ` +
    `the rest of the cycle, ${fmt(cycle - d.stages.claim - d.stages.execute - d.stages.result, 1)} ms, is the job's hand-off (completion, the next job's fetch) and slots left idle.`
  );
}

/** Raw BullMQ on the same Redis: no-op jobs at concurrency 64, added while processing, and drained after all were added. */
async function bullmqBaseline(jobs: number): Promise<{ addAndProcess: number; drain: number }> {
  const prefix = `bench:${randomBytes(4).toString('hex')}`;
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('baseline', { connection, prefix });
  const run = async (addFirst: boolean): Promise<number> => {
    let done = 0;
    let allDone = () => {};
    const finishedAll = new Promise<void>((resolve) => (allDone = resolve));
    const add = async () => {
      for (let i = 0; i < jobs; i += 1_000) {
        await queue.addBulk(Array.from({ length: Math.min(1_000, jobs - i) }, (_, k) => ({ name: 'noop', data: { i: i + k }, opts: { removeOnComplete: true } })));
      }
    };
    if (addFirst) await add();
    const workerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const started = Date.now();
    const worker = new Worker(
      'baseline',
      async () => {
        done += 1;
        if (done === jobs) allDone();
      },
      { connection: workerConnection, prefix, concurrency: 64 },
    );
    if (!addFirst) await add();
    await finishedAll;
    const rate = jobs / ((Date.now() - started) / 1000);
    await worker.close();
    workerConnection.disconnect();
    return rate;
  };
  const addAndProcess = await run(false);
  const drain = await run(true);
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { addAndProcess, drain };
}

/** Raw PostgreSQL write transactions (BEGIN; INSERT; COMMIT) from 32 connections for `ms`, on a schema of its own. */
async function postgresBaseline(ms: number): Promise<number> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 32 });
  try {
    await pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (id bigserial PRIMARY KEY, body jsonb NOT NULL)`);
    let count = 0;
    const end = Date.now() + ms;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        const client = await pool.connect();
        try {
          while (Date.now() < end) {
            await client.query('BEGIN');
            await client.query(`INSERT INTO ${schema}.t (body) VALUES ($1)`, [JSON.stringify({ at: Date.now() })]);
            await client.query('COMMIT');
            count += 1;
          }
        } finally {
          client.release();
        }
      }),
    );
    return count / ((Date.now() - started) / 1000);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

export async function benchTaskPath(
  scenarios: readonly TaskPathScenario[] = TASK_PATH_SCENARIOS,
  { runs = Number(process.env['BENCH_TASK_RUNS'] ?? 2_000), command = scenarios.join(' ') }: { runs?: number; command?: string } = {},
): Promise<string> {
  const email = 'bench@orchestra.local';
  const password = 'Quiet-Lantern-Harbor-71!';
  const startLoad = loadavg()[0] as number;
  const platform = await startPlatform({
    services: ['identity', 'orchestration', 'audit'],
    workers: 2,
    env: {
      identity: { ADMIN_EMAIL: email, ADMIN_PASSWORD: password },
      orchestration: { LOG_LEVEL: 'info' },
      worker: { WORKER_SLOTS: '32' },
      gateway: { RATE_LIMIT_PER_MINUTE: '100000000' },
    },
  });
  const http = new HttpPool(new URL(platform.gatewayUrl).origin, { connections: 40 });
  const grpc = new orchestrationV1.OrchestrationServiceClient(platform.services.orchestration!.grpcAddress!, insecureCredentials(), INTERNAL_CHANNEL_OPTIONS);
  let refresher: NodeJS.Timeout | undefined;
  try {
    const login = await platform.graphql<{ login: { accessToken: string; user: { id: string }; organization: { id: string } } }>(
      'mutation($i: LoginInput!) { login(input: $i) { accessToken user { id } organization { id } } }',
      { i: { email, password } },
    );
    const session = login.data!.login;
    const sign = () =>
      platform.signPrincipal({ kind: 'user', id: session.user.id, userId: session.user.id, orgId: session.organization.id, role: 'owner', scopes: [], display: email, requestId: `bench-${randomBytes(4).toString('hex')}` });
    let header = await sign();
    refresher = setInterval(() => void sign().then((h) => (header = h)), 20_000);
    const path = new URL(platform.gatewayUrl).pathname;
    const b: Bench = {
      platform,
      grpc,
      internalToken: platform.internalToken,
      principalHeader: () => header,
      gql: async (query, variables) => {
        const res = await http.request({ path, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` }, body: JSON.stringify({ query, variables }) });
        return (await res.body.json()) as never;
      },
      targets: {
        processes: [
          { label: 'gateway', pids: [platform.gateway.process.pid!] },
          { label: 'orchestration', pids: [platform.services.orchestration!.process.pid!] },
          { label: 'identity', pids: [platform.services.identity!.process.pid!] },
          { label: 'audit', pids: [platform.services.audit!.process.pid!] },
          { label: 'workers', pids: platform.workers.map((w) => w.process.pid!) },
        ],
        pool: platform.pool,
        metricsUrls: (['orchestration', 'identity', 'audit'] as const).map((s) => `${platform.services[s]!.httpUrl}/metrics`),
      },
    };
    for (;;) {
      const res = await b.gql<{ workers: Array<{ status: string }> }>('{ workers { status } }', {});
      if ((res.data?.workers ?? []).length >= 2) break;
      await sleep(200);
    }
    const create = async (name: string, steps: unknown[]) => {
      const res = await b.gql('mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', { i: { name, steps } });
      if (!res.data) throw new Error(`createWorkflow failed: ${JSON.stringify(res.errors)}`);
    };
    await create('one-step', [{ id: 'a', capability: 'noop' }]);
    const branches = Array.from({ length: 50 }, (_, i) => ({ id: `b${i}`, capability: 'noop', dependsOn: ['a'] }));
    await create('fan-50', [{ id: 'a', capability: 'noop' }, ...branches, { id: 'c', capability: 'noop', dependsOn: branches.map((x) => x.id) }]);
    // Warm-up: every path once, prepared statements planned, connections open.
    await callersLoop(200, 32, 1, async (i) => [await viaGateway(b, 'one-step', i)]);
    await callersLoop(100, 32, 1, async (i) => [await viaGrpc(b, 'one-step', i)]);
    await sleep(1_000);

    const baselineQueue = await bullmqBaseline(10_000);
    const baselinePg = await postgresBaseline(4_000);
    const phases: Phase[] = [];
    const latencies: LatencyResult[] = [];
    let fan: { phase: Phase; breakdown: FanOutBreakdown } | undefined;
    if (scenarios.includes('one-step')) phases.push(await oneStep(b, runs));
    if (scenarios.includes('start-runs')) phases.push(...(await startRunsPhases(b, runs)));
    if (scenarios.includes('fan-out')) {
      fan = await fanOut(b, 100);
      phases.push(fan.phase);
    }
    if (scenarios.includes('queue-latency')) {
      for (const rate of queueRates()) {
        const latency = await queueLatency(b, rate, 10);
        latencies.push(latency);
        phases.push(latency.phase);
      }
    }

    const tps = (p: Phase) => p.tasks / p.seconds;
    const lines = [
      `### Task path (${scenarios.join(', ')}; 2 worker processes × 32 slots; identity, orchestration, audit, gateway, each its own process)`,
      '',
      `- Command: \`npm run bench -- ${command}\` (BENCH_TASK_RUNS=${runs})`,
      `- Baselines in the same run: raw BullMQ no-op jobs at concurrency 64 on the same Redis: **${fmt(baselineQueue.addAndProcess, 0)}/s** added while processing, **${fmt(baselineQueue.drain, 0)}/s** draining; raw PostgreSQL write transactions (BEGIN; INSERT; COMMIT, 32 connections): **${fmt(baselinePg, 0)}/s**.`,
      '',
      '| phase | tasks | seconds | tasks/s | × raw BullMQ (add+process) | × raw PostgreSQL tx/s | run p50 ms | run p95 ms |',
      '|---|---|---|---|---|---|---|---|',
      ...phases.map(
        (p) =>
          `| ${p.name} | ${p.tasks} | ${fmt(p.seconds, 2)} | **${fmt(tps(p), 0)}** | ${fmt(tps(p) / baselineQueue.addAndProcess, 3)} | ${fmt(tps(p) / baselinePg, 3)} | ${fmt(percentile(p.runMs, 50), 0)} | ${fmt(percentile(p.runMs, 95), 0)} |`,
      ),
      '',
      ...latencies.flatMap((latency) => [
        `- Queue latency at ${latency.offered} tasks/s offered (queued — the QUEUED event, in the startRun transaction — to claimed — the RUNNING event, in the claim transaction, just before the Execute call): p50 **${fmt(percentile(latency.queuedToClaimedMs, 50), 1)} ms**, p95 **${fmt(percentile(latency.queuedToClaimedMs, 95), 1)} ms**, p99 ${fmt(percentile(latency.queuedToClaimedMs, 99), 1)} ms over ${latency.queuedToClaimedMs.length} tasks. Of it, mean per attempt (orchestration's /metrics): job added to Redis → taken by the dispatcher ${fmt(latency.stages.queue, 1)} ms, job taken → claimed ${fmt(latency.stages.claim, 1)} ms (the batch's wait and the claim transaction, whose start is the RUNNING event's time); the rest is the startRun transaction and its commit's publish and enqueue.`,
        '',
      ]),
      ...(fan ? [fanOutLine(fan.phase, fan.breakdown), ''] : []),
      'CPU time per task, by process (from /proc; PostgreSQL backends are those serving the platform\'s connections; Redis is the machine\'s, shared with whatever else runs), and SQL statements per task (orchestra_db_statements_total of every service, BEGIN/COMMIT included):',
      '',
      ...costTable(phases),
      '',
      `- Load average (1 min) of this 2-core machine at the start of the bench: ${fmt(startLoad, 1)}; per phase, at its start → its end: ${phases.map((p) => `${p.name.split(',')[0]}: ${fmt(p.load[0], 1)} → ${fmt(p.load[1], 1)}`).join('; ')}.`,
      '',
    ];
    return lines.join('\n');
  } finally {
    if (refresher) clearInterval(refresher);
    grpc.close();
    await http.close();
    await platform.stop();
  }
}
