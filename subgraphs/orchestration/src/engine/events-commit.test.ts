import { randomUUID } from 'node:crypto';
import { createMemoryLogger, createMetrics, createPool, TEST_DATABASE_URL, type Pool } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { createEngine, type EngineDeps } from './engine';

/**
 * A change's run events are its transaction's last statement and go with the COMMIT (lib
 * queryThenCommit): a claim or result transaction is one round trip shorter (issue 11). Counted on
 * a pool of its own (orchestra_db_statements_total), BEGIN included.
 */

let t: TestOrchestration;
let counted: Pool;
const metrics = createMetrics('events-commit-test', { defaultMetrics: false });
const admin = userPrincipal(randomUUID(), 'admin');
const statements = async () => (await metrics.registry.getSingleMetric('orchestra_db_statements_total')!.get()).values[0]?.value ?? 0;

beforeAll(async () => {
  t = await startTestOrchestration({ RECONCILE_INTERVAL_MS: '600000' });
  counted = createPool({ url: TEST_DATABASE_URL, schema: t.schema, applicationName: 'events-commit-test', log: createMemoryLogger(), metrics, max: 1 });
});

afterAll(async () => {
  await counted?.end();
  await t?.stop();
});

it("sends a change's run events with its COMMIT: BEGIN and one statement, the events committed and published", async () => {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, 'mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', {
    input: { name: 'events-commit', steps: [{ id: 'a', capability: 'noop' }] },
  });
  const workflowId = created.data!.createWorkflow.id;
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, 'mutation($input: StartRunInput!) { startRun(input: $input) { run { id } } }', { input: { workflowId } });
  const runId = started.data!.startRun.run.id;
  const published: unknown[] = [];
  const engine = createEngine({
    pool: counted,
    config: t.service.engine.config,
    log: createMemoryLogger(),
    metrics,
    hub: { publish: async (events: unknown[]) => void published.push(...events) },
    queues: { enqueue: async () => {} },
    cancellations: { cancel: async () => {} },
  } as unknown as EngineDeps);
  const before = await statements();
  await engine.change(null, async (ctx) => {
    ctx.effects.event({ id: runId, orgId: admin.orgId!, workflowId }, { kind: 'RUN_STATUS', runStatus: 'QUEUED', message: 'noted twice' });
  });
  expect((await statements()) - before).toBe(2); // BEGIN, the events with the COMMIT
  const { rows } = await t.pool.query<{ seq: number; message: string }>("SELECT seq, event->>'message' AS message FROM run_events WHERE run_id = $1 ORDER BY seq", [runId]);
  expect(rows.at(-1)).toMatchObject({ message: 'noted twice', seq: rows.length });
  expect(published).toEqual([expect.objectContaining({ runId, message: 'noted twice', seq: rows.length })]);
  // A change without events commits as before: BEGIN, its statement, COMMIT.
  const without = await statements();
  await engine.change(null, async (ctx) => void (await ctx.tx.query('SELECT 1')));
  expect((await statements()) - without).toBe(3);
});
