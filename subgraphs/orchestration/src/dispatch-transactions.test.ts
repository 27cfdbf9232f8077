import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { eventually } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * The dispatcher's transactions per dispatched task, counted (issue 11): fan-outs 1 → 16 → 1 on a
 * worker with fewer slots than tasks, so a slot's result and the next claim are pending together.
 * Claims and results pending together go in one transaction (engine/dispatch/transactions.ts): some
 * transaction carries both (before, each kind had its own stream and never did), a slot's next claim
 * rides with the result that frees it, and every claim and result still ends once — each task
 * SUCCEEDED by one attempt. Counted, not timed: the statements
 * this process sent, by text (the claim's and the result's run lock goes with their BEGIN).
 *
 * FAN_OUT_SLOTS / FAN_OUT_WIDTH / FAN_OUT_RUNS size it for a measurement (e.g. 32 / 50 / 10, the bench's
 * shape); the test's own is small and quick.
 */

let t: TestOrchestration;
const admin = userPrincipal(randomUUID(), 'admin');
/** The statements this process sent (every pool's clients), as text or prepared name, with their client; `commits`: sent with the COMMIT (lib queryThenCommit). */
const sent: Array<{ client: Client; text: string; name: string | undefined; commits?: boolean }> = [];
const query = Client.prototype.query;
/** The run lock sent with the BEGIN of a dispatch transaction (store/dispatch.ts lockRunsStatement). */
const DISPATCH_BEGIN = /^BEGIN[^;]*; SELECT to_jsonb\(r\) AS run FROM runs r WHERE r\.id = ANY\('\{/;

beforeAll(async () => {
  (Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: Client, ...args: unknown[]) {
    const q = args[0] as string | { text?: string; name?: string; commits?: boolean };
    sent.push(typeof q === 'string' ? { client: this, text: q, name: undefined } : { client: this, text: q.text ?? '', name: q.name, commits: q.commits === true });
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  };
  t = await startTestOrchestration();
  await t.startWorker({ WORKER_SLOTS: process.env['FAN_OUT_SLOTS'] ?? '4' });
}, 60_000);

afterAll(async () => {
  Client.prototype.query = query;
  await t?.stop();
});

const WIDTH = Number(process.env['FAN_OUT_WIDTH'] ?? 16);
const RUNS = Number(process.env['FAN_OUT_RUNS'] ?? 6);

it('claims and results pending together share a transaction, and every task ends once', async () => {
  const branches = Array.from({ length: WIDTH }, (_, i) => ({ id: `b${i}`, capability: 'noop', dependsOn: ['a'] }));
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`, {
    i: { name: `fan-${randomUUID().slice(0, 8)}`, steps: [{ id: 'a', capability: 'noop' }, ...branches, { id: 'c', capability: 'noop', dependsOn: branches.map((b) => b.id) }] },
  });
  expect(created.errors).toBeUndefined();
  const workflowId = created.data!.createWorkflow.id;
  sent.length = 0;
  const runIds = await Promise.all(
    Array.from({ length: RUNS }, async () => {
      const res = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, { i: { workflowId } });
      expect(res.errors).toBeUndefined();
      return res.data!.startRun.run.id;
    }),
  );
  await eventually(
    async () => {
      const { rows } = await t.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM runs WHERE id = ANY($1::uuid[]) AND status = 'SUCCEEDED'`, [runIds]);
      return Number(rows[0]?.n) === RUNS;
    },
    { what: 'the fan-outs to succeed', timeoutMs: 60_000 },
  );
  const tasks = RUNS * (WIDTH + 2);
  const attempts = await t.pool.query<{ status: string; n: string }>(`SELECT status, count(*)::text AS n FROM task_attempts WHERE run_id = ANY($1::uuid[]) GROUP BY status`, [runIds]);
  expect(attempts.rows).toEqual([{ status: 'SUCCEEDED', n: String(tasks) }]);

  const dispatch = transactionsOf(sent).filter((tx) => DISPATCH_BEGIN.test(tx[0]?.text ?? ''));
  // A claim reads its attempts (claimedAttemptsWithTasks); successes are applied by succeedAttemptsAndAdvance.
  const sends = (tx: typeof sent, name: string) => tx.some((s) => s.name?.endsWith(`.${name}`));
  const both = dispatch.filter((tx) => sends(tx, 'claimedAttemptsWithTasks') && sends(tx, 'succeedAttemptsAndAdvance')).length;
  const claimsOnly = dispatch.filter((tx) => sends(tx, 'claimedAttemptsWithTasks') && !sends(tx, 'succeedAttemptsAndAdvance')).length;
  console.log(`dispatch transactions ${dispatch.length} for ${tasks} tasks (${(dispatch.length / tasks).toFixed(2)} per task), ${both} with results and claims, ${claimsOnly} with claims only; their statements ${dispatch.flat().length} (${(dispatch.flat().length / tasks).toFixed(2)} per task)`);
  expect(both).toBeGreaterThan(0);
  // Fewer than one per claim and one per result (2 × tasks), whatever the batches' sizes.
  expect(dispatch.length).toBeLessThan(2 * tasks);
  // A slot's next claim rides in the transaction of the result that frees it (jobs taken ahead, parked
  // until a result takes them along: engine/dispatch/slot-waits.ts): few claims have a transaction of
  // their own — the runs' first tasks, and a job taken while a slot was free. Before: 74–79 of 108
  // tasks' claims went without a result (6 runs 1 → 16 → 1 on 4 slots), now 10–12.
  expect(claimsOnly).toBeLessThan(tasks / 4);
}, 90_000);

/** The transactions in `texts`: each client's statements from a BEGIN to its COMMIT or ROLLBACK (or the statement sent with its COMMIT). */
function transactionsOf(texts: typeof sent): Array<typeof sent> {
  const open = new Map<Client, typeof sent>();
  const done: Array<typeof sent> = [];
  for (const s of texts) {
    if (/^BEGIN/.test(s.text)) open.set(s.client, []);
    const tx = open.get(s.client);
    if (!tx) continue;
    tx.push(s);
    if (s.commits === true || /^(COMMIT|ROLLBACK)/.test(s.text)) {
      done.push(tx);
      open.delete(s.client);
    }
  }
  return done;
}
