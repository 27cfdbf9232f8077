import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * Poison inputs (issue 9 items 7, 8, 9) against the real service, PostgreSQL, Redis and a worker:
 * refused where they enter, naming the field, or failing their task once without a retry — never
 * INTERNAL, never a worker taken for dead.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
const admin = userPrincipal(randomUUID(), 'admin');

const CREATE = `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`;
const START = `mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`;

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i += 1) value = { d: value };
  return value;
};

beforeAll(async () => {
  t = await startTestOrchestration();
  worker = await t.startWorker({ WORKER_SLOTS: '4' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  await t?.stop();
});

describe('poison inputs', () => {
  it('refuses NUL characters, lone surrogates and deep nesting in workflows and run inputs with BAD_USER_INPUT naming the field', async () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      [CREATE, { input: { name: 'nul-step', steps: [{ id: 'a', capability: 'noop', input: { text: 'a\u0000b' } }] } }, { reason: 'INVALID_TEXT', field: 'input.steps[0].input.text' }],
      [CREATE, { input: { name: 'nul-description', description: 'x\u0000', steps: [{ id: 'a', capability: 'noop' }] } }, { reason: 'INVALID_TEXT', field: 'input.description' }],
      [CREATE, { input: { name: 'deep-step', steps: [{ id: 'a', capability: 'noop', input: nested(40) }] } }, { reason: 'JSON_TOO_DEEP', field: expect.stringMatching(/^input\.steps\[0\]\.input(\.d)+$/) }],
    ];
    const ok = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, { input: { name: 'plain', steps: [{ id: 'a', capability: 'noop' }] } });
    const workflowId = ok.data!.createWorkflow.id;
    cases.push(
      [START, { input: { workflowId, input: { name: 'x\uD800y' } } }, { reason: 'INVALID_TEXT', field: 'input.input.name' }],
      [START, { input: { workflowId, input: { value: nested(33) } } }, { reason: 'JSON_TOO_DEEP', field: expect.stringMatching(/^input\.input\.value(\.d)+$/) }],
    );
    for (const [query, variables, extensions] of cases) {
      const res = await t.graphql(admin, query, variables);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', ...extensions });
    }
  });

  it('fails a task whose resolved input a worker could not decode once, without a retry, with INPUT_TOO_DEEP (not six lost attempts)', async () => {
    // 31 levels from a transform, placed two levels down: 33.
    const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, {
      input: {
        name: 'deep-downstream',
        steps: [
          { id: 'deep', capability: 'transform', input: { value: nested(31) } },
          { id: 'use', capability: 'noop', dependsOn: ['deep'], input: { a: { b: '{{ steps.deep.output }}' } }, retry: { maxAttempts: 5 } },
        ],
      },
    });
    expect(created.errors).toBeUndefined();
    const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, START, { input: { workflowId: created.data!.createWorkflow.id } });
    const runId = started.data!.startRun.run.id;
    await eventually(async () => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]?.status === 'FAILED', { what: 'the run to fail', timeoutMs: 30_000 });
    const attempts = await t.pool.query<{ status: string; code: string; retryable: boolean }>(
      `SELECT a.status, a.error->>'code' AS code, (a.error->>'retryable')::boolean AS retryable FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE t.run_id = $1 AND t.step_id = 'use'`,
      [runId],
    );
    expect(attempts.rows).toEqual([{ status: 'FAILED', code: 'INPUT_TOO_DEEP', retryable: false }]);
  });

  it('writes a chatty task\'s progress at most once a second, the last report kept (issue 9 item 13)', async () => {
    const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, {
      input: { name: 'chatty', steps: [{ id: 'tick', capability: 'sleep', input: { ms: 2_500, progressEveryMs: 10 } }] },
    });
    const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, START, { input: { workflowId: created.data!.createWorkflow.id } });
    const runId = started.data!.startRun.run.id;
    await eventually(async () => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]?.status === 'SUCCEEDED', { what: 'the run to succeed', timeoutMs: 30_000 });
    const progress = await t.pool.query<{ progress: number }>(`SELECT (event->>'progress')::float AS progress FROM run_events WHERE run_id = $1 AND kind = 'TASK_PROGRESS' ORDER BY seq`, [runId]);
    // ~250 reports sent in 2.5 s; at most one a second written (and the held last one).
    expect(progress.rows.length).toBeGreaterThanOrEqual(2);
    expect(progress.rows.length).toBeLessThanOrEqual(5);
    expect(progress.rows.at(-1)?.progress).toBe(1);
  });
});
