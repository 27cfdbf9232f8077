import { randomUUID } from 'node:crypto';
import { eventually } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * Retention (issue 9 item 13) by the reconciler's periodic sweep, against the real service and
 * PostgreSQL: a finished run loses its events after its organization's days (default 30) and is
 * deleted after its runs' days (default 90); what is newer, or unfinished, stays.
 */

let t: TestOrchestration;
let worker: WorkerHandle;
const orgA = userPrincipal(randomUUID(), 'admin');
const orgB = userPrincipal(randomUUID(), 'admin');

beforeAll(async () => {
  t = await startTestOrchestration({ RETENTION_INTERVAL_MS: '1000' });
  worker = await t.startWorker({ WORKER_SLOTS: '4' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  await t?.stop();
});

const finishedRun = async (principal: typeof orgA, name: string): Promise<string> => {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(principal, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, { input: { name, steps: [{ id: 'a', capability: 'noop' }] } });
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(principal, `mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }`, { input: { workflowId: created.data!.createWorkflow.id } });
  const runId = started.data!.startRun.run.id;
  await eventually(async () => (await t.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [runId])).rows[0]?.status === 'SUCCEEDED', { what: 'the run to succeed', timeoutMs: 20_000 });
  return runId;
};
const events = async (runId: string) => (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM run_events WHERE run_id = $1', [runId])).rows[0]!.n;
const exists = async (runId: string) => ((await t.pool.query('SELECT 1 FROM runs WHERE id = $1', [runId])).rowCount ?? 0) > 0;
const age = (runId: string, days: number) => t.pool.query(`UPDATE runs SET finished_at = now() - make_interval(days => $2) WHERE id = $1`, [runId, days]);

it('prunes old runs\' events after 30 days and old runs after 90 by default, or after the organization\'s own days', async () => {
  const oldA = await finishedRun(orgA, 'old-a');
  const ancientA = await finishedRun(orgA, 'ancient-a');
  const recentA = await finishedRun(orgA, 'recent-a');
  const oldB = await finishedRun(orgB, 'old-b');
  // Organization B keeps runs 10 days.
  await t.pool.query(`INSERT INTO org_quotas (org_id, runs_retention_days, updated_by) VALUES ($1, 10, 'test')`, [orgB.orgId]);
  expect(await events(oldA)).toBeGreaterThan(0);
  await age(oldA, 40);
  await age(ancientA, 100);
  await age(recentA, 1);
  await age(oldB, 40);

  await eventually(async () => (await events(oldA)) === 0 && !(await exists(ancientA)) && !(await exists(oldB)), { what: 'the retention sweep', timeoutMs: 20_000 });
  expect(await exists(oldA)).toBe(true);
  expect(await exists(recentA)).toBe(true);
  expect(await events(recentA)).toBeGreaterThan(0);
  expect((await t.pool.query('SELECT 1 FROM tasks WHERE run_id = ANY($1::uuid[])', [[ancientA, oldB]])).rowCount).toBe(0);
});
