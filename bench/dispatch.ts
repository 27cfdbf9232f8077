import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '@orchestra/lib';
import { startPlatform, type Platform } from '@orchestra/tests';
import { fmt, percentile } from './load';

interface Phase {
  name: string;
  tasks: number;
  seconds: number;
  runLatencyMs: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runMany(platform: Platform, token: string, workflowName: string, runs: number, tasksPerRun: number, concurrency: number): Promise<Phase> {
  const tag = randomBytes(4).toString('hex');
  const started = Date.now();
  let next = 0;
  const ids: string[] = [];
  const starter = async () => {
    while (next < runs) {
      const i = (next += 1);
      const res = await platform.graphql<{ startRun: { run: { id: string } } }>(
        'mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }',
        { i: { workflowName, input: { i }, idempotencyKey: `bench-${tag}-${i}` } },
        { token },
      );
      if (!res.data) throw new Error(`startRun failed: ${JSON.stringify(res.errors)}`);
      ids.push(res.data.startRun.run.id);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, starter));
  const schema = platform.schemas.orchestration;
  for (;;) {
    const { rows } = await platform.pool.query<{ done: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'SUCCEEDED')::int AS done, count(*) FILTER (WHERE status IN ('FAILED', 'CANCELLED'))::int AS failed FROM "${schema}".runs WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    if (rows[0]!.failed > 0) throw new Error(`${rows[0]!.failed} bench runs failed`);
    if (rows[0]!.done === runs) break;
    if (Date.now() - started > 10 * 60_000) throw new Error('bench runs did not finish within 10 minutes');
    await sleep(50);
  }
  const seconds = (Date.now() - started) / 1000;
  const { rows } = await platform.pool.query<{ ms: number }>(
    `SELECT extract(epoch FROM finished_at - created_at) * 1000 AS ms FROM "${schema}".runs WHERE id = ANY($1::uuid[]) ORDER BY 1`,
    [ids],
  );
  return { name: workflowName, tasks: runs * tasksPerRun, seconds, runLatencyMs: rows.map((r) => Number(r.ms)) };
}

/** Raw BullMQ on the same Redis: add `jobs` jobs, process them with a no-op at `concurrency`. */
async function bullmqBaseline(jobs: number, concurrency: number): Promise<{ seconds: number }> {
  const prefix = `bench:${randomBytes(4).toString('hex')}`;
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('baseline', { connection, prefix });
  let done = 0;
  let allDone = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const workerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(
    'baseline',
    async () => {
      done += 1;
      if (done === jobs) allDone();
    },
    { connection: workerConnection, prefix, concurrency },
  );
  const started = Date.now();
  await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'noop', data: { i }, opts: { jobId: `j${i}`, removeOnComplete: true } })));
  await finished;
  const seconds = (Date.now() - started) / 1000;
  await worker.close();
  workerConnection.disconnect();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { seconds };
}

/**
 * Tasks per second through the whole engine (startRun → PostgreSQL → BullMQ → dispatcher → gRPC
 * Execute on a worker process → result transaction → dependents), for one-step runs and for a
 * fan-out/fan-in DAG, against raw BullMQ jobs on the same Redis (the floor a queue hop sets).
 */
export async function benchDispatch({ runs = 200, fanRuns = 30, concurrency = 16 } = {}): Promise<string> {
  const email = 'bench@orchestra.local';
  const password = 'Quiet-Lantern-Harbor-71!';
  const platform = await startPlatform({
    services: ['identity', 'orchestration'],
    workers: 2,
    env: {
      identity: { ADMIN_EMAIL: email, ADMIN_PASSWORD: password },
      orchestration: {},
      worker: { WORKER_SLOTS: '32' },
      gateway: { RATE_LIMIT_PER_MINUTE: '100000000' },
    },
  });
  try {
    const login = await platform.graphql<{ login: { accessToken: string } }>('mutation($i: LoginInput!) { login(input: $i) { accessToken } }', { i: { email, password } });
    const token = login.data!.login.accessToken;
    for (;;) {
      const res = await platform.graphql<{ workers: Array<{ status: string }> }>('{ workers { status } }', {}, { token });
      if ((res.data?.workers ?? []).length >= 2) break;
      await sleep(200);
    }
    const create = async (name: string, steps: unknown[]) => {
      const res = await platform.graphql('mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', { i: { name, steps } }, { token });
      if (!res.data) throw new Error(`createWorkflow failed: ${JSON.stringify(res.errors)}`);
    };
    await create('one-step', [{ id: 'a', capability: 'noop' }]);
    const branches = Array.from({ length: 8 }, (_, i) => ({ id: `b${i}`, capability: 'noop', dependsOn: ['a'] }));
    await create('fan-out-in', [{ id: 'a', capability: 'noop' }, ...branches, { id: 'c', capability: 'noop', dependsOn: branches.map((b) => b.id) }]);

    await runMany(platform, token, 'one-step', 20, 1, concurrency); // warm-up
    const oneStep = await runMany(platform, token, 'one-step', runs, 1, concurrency);
    const fan = await runMany(platform, token, 'fan-out-in', fanRuns, 10, concurrency);
    const baseline = await bullmqBaseline(runs, 64);

    const tps = (p: Phase) => p.tasks / p.seconds;
    const baseTps = runs / baseline.seconds;
    const row = (p: Phase, what: string) =>
      `| ${what} | ${p.tasks} | ${fmt(p.seconds, 2)} | ${fmt(tps(p), 0)} | ${fmt(percentile(p.runLatencyMs, 50), 0)} | ${fmt(percentile(p.runLatencyMs, 95), 0)} |`;
    return [
      `### Dispatch throughput (2 worker processes × 32 slots, ${concurrency} concurrent startRun callers)`,
      '',
      '| what | tasks | seconds | tasks/s | run p50 ms | run p95 ms |',
      '|---|---|---|---|---|---|',
      `| raw BullMQ no-op jobs, same Redis (baseline) | ${runs} | ${fmt(baseline.seconds, 2)} | ${fmt(baseTps, 0)} | – | – |`,
      row(oneStep, `${runs} one-step runs (noop)`),
      row(fan, `${fanRuns} fan-out/fan-in runs (1 → 8 → 1 noop)`),
      '',
      `- One-step runs: **${fmt(tps(oneStep) / baseTps, 3)}×** the raw queue's rate; the fan-out/fan-in DAG: **${fmt(tps(fan) / baseTps, 3)}×**.`,
      '- Each task costs a PostgreSQL transaction to start, one to claim, batched event writes, a gRPC stream to a worker process and one to complete (plus the Redis event stream); the baseline is only the queue.',
      '',
    ].join('\n');
  } finally {
    await platform.stop();
  }
}
