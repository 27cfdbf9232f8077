import { randomUUID } from 'node:crypto';
import { createMemoryLogger, createPool, createRedis, eventually, listenService, TEST_DATABASE_URL, TEST_REDIS_URL, type Pool, type Redis } from '@orchestra/lib';
import { createOrchestrationService, type OrchestrationService } from './service';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * A named rate limit holds across two dispatchers (issue 10): two orchestration services, each with
 * its own dispatcher, connections and BullMQ consumers, on one database and one Redis, start tasks
 * that consume a limit of 5 per second; the window is never exceeded, and the tasks that wait say why.
 */

let t: TestOrchestration;
let second: { service: OrchestrationService; pool: Pool; redis: Redis };
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');

beforeAll(async () => {
  t = await startTestOrchestration();
  const log = createMemoryLogger('orchestration-2');
  const pool = createPool({ url: TEST_DATABASE_URL, schema: t.schema, applicationName: 'orchestration-test-2', log });
  const redis = createRedis({ url: TEST_REDIS_URL, name: 'orchestration-test-2', log });
  const service = createOrchestrationService({ config: t.service.engine.config, pool, redis, log });
  await listenService(service, { host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
  second = { service, pool, redis };
  await t.startWorker({ WORKER_SLOTS: '16' });
}, 60_000);

afterAll(async () => {
  await second?.service.stop();
  await second?.pool.end();
  await second?.redis.quit();
  await t?.stop();
});

it('a limit of 5 per second holds across two dispatchers; waiting tasks show RATE_LIMIT', async () => {
  const limit = await t.graphql<{ createRateLimit: { id: string } }>(admin, `mutation($i: CreateRateLimitInput!) { createRateLimit(input: $i) { id } }`, { i: { name: 'provider', limit: 5, per: 'SECOND' } });
  expect(limit.errors).toBeUndefined();
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
    i: { name: 'calls-provider', steps: [{ id: 'call', capability: 'noop', rateLimits: [{ name: 'provider', units: 1 }] }] },
  });
  expect(created.errors).toBeUndefined();
  const workflowId = created.data!.createWorkflow.id;
  const started = await t.graphql<{ startRuns: { runs: Array<{ run: { id: string } }> } }>(admin, `mutation($i: [StartRunInput!]!) { startRuns(inputs: $i) { runs { run { id } } } }`, {
    i: Array.from({ length: 20 }, () => ({ workflowId })),
  });
  expect(started.errors).toBeUndefined();
  const ids = started.data!.startRuns.runs.map((r) => r.run.id);

  // Past the first 5, tasks wait for the window, saying so.
  const waiting = await eventually(
    async () => {
      const { rows } = await t.pool.query<{ wait_reason: { kind: string; message: string; details: Record<string, unknown> } | null }>(
        `SELECT wait_reason FROM tasks WHERE run_id = ANY($1::uuid[]) AND status = 'QUEUED' AND wait_reason ->> 'kind' = 'RATE_LIMIT' LIMIT 1`,
        [ids],
      );
      return rows[0]?.wait_reason ?? undefined;
    },
    { timeoutMs: 20_000, what: 'a task waiting for the rate limit' },
  );
  expect(waiting.message).toMatch(/^rate limit "provider": \d+ of 5 units per second used; it needs 1$/);
  expect(waiting.details).toMatchObject({ name: 'provider', limit: 5, period: 'SECOND', units: 1 });

  await eventually(
    async () => {
      const { rows } = await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE id = ANY($1::uuid[]) AND status = 'SUCCEEDED'`, [ids]);
      return rows[0]?.n === ids.length ? true : undefined;
    },
    { timeoutMs: 60_000, what: 'every run to succeed' },
  );

  // Every start consumed its unit, and no second-long window holds more than 5.
  const { rows: uses } = await t.pool.query<{ at: Date; attempt_id: string }>(
    `SELECT u.at, u.attempt_id FROM rate_limit_usage u JOIN task_attempts a ON a.id = u.attempt_id WHERE a.run_id = ANY($1::uuid[]) ORDER BY u.at`,
    [ids],
  );
  const { rows: startedAttempts } = await t.pool.query<{ dispatcher_id: string }>(`SELECT dispatcher_id FROM task_attempts WHERE run_id = ANY($1::uuid[]) AND started_at IS NOT NULL`, [ids]);
  expect(uses).toHaveLength(startedAttempts.length);
  expect(startedAttempts.length).toBeGreaterThanOrEqual(20);
  const times = uses.map((u) => u.at.getTime());
  for (const [i, at] of times.entries()) {
    const inWindow = times.filter((other, j) => j <= i && other > at - 1_000).length;
    expect(inWindow).toBeLessThanOrEqual(5);
  }
  // Both dispatchers started tasks: the limit held between them.
  expect(new Set(startedAttempts.map((a) => a.dispatcher_id))).toEqual(new Set([t.service.dispatcherId, second.service.dispatcherId]));
}, 90_000);
