import { randomUUID } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactConfigSchema, artifactKey, createArtifactStore, eventually, loadConfig, type ArtifactStore } from '@orchestra/lib';
import type { WorkerHandle } from '@orchestra/workers';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * Retention (issue 9 item 13) by the reconciler's periodic sweep, against the real service and
 * PostgreSQL: a finished run loses its events after its organization's days (default 30) and is
 * deleted after its runs' days (default 90); what is newer, or unfinished, stays. A deleted run's
 * artifacts leave the artifact store too (the real filesystem store, in a directory of this suite).
 */

let t: TestOrchestration;
let worker: WorkerHandle;
let artifactDir: string;
let store: ArtifactStore;
const orgA = userPrincipal(randomUUID(), 'admin');
const orgB = userPrincipal(randomUUID(), 'admin');

beforeAll(async () => {
  artifactDir = await mkdtemp(join(tmpdir(), 'orchestra-retention-artifacts-'));
  store = createArtifactStore(loadConfig(artifactConfigSchema, { ARTIFACT_DIR: artifactDir }));
  t = await startTestOrchestration({ RETENTION_INTERVAL_MS: '1000' }, { artifactObjects: store });
  worker = await t.startWorker({ WORKER_SLOTS: '4' });
  await eventually(() => worker.registered, { what: 'the worker to register' });
});

afterAll(async () => {
  await t?.stop();
  if (artifactDir) await rm(artifactDir, { recursive: true, force: true });
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

/** Stores a file in the artifact store for the run's first attempt and records it, as dispatch would. */
const withArtifact = async (runId: string, name: string): Promise<string> => {
  const { rows } = await t.pool.query<{ org_id: string; task_id: string; attempt_id: string }>(
    'SELECT a.org_id, a.task_id, a.id AS attempt_id FROM task_attempts a JOIN tasks k ON k.id = a.task_id WHERE k.run_id = $1 LIMIT 1',
    [runId],
  );
  const at = rows[0]!;
  const key = artifactKey({ orgId: at.org_id, runId, taskId: at.task_id, attemptId: at.attempt_id, name });
  const { sizeBytes, sha256 } = await store.put(key, Buffer.from(`bytes of ${name}`), 'image/png');
  await t.pool.query(
    `INSERT INTO artifacts (id, org_id, run_id, task_id, attempt_id, name, content_type, size_bytes, sha256, storage_key) VALUES ($1, $2, $3, $4, $5, $6, 'image/png', $7, $8, $9)`,
    [randomUUID(), at.org_id, runId, at.task_id, at.attempt_id, name, sizeBytes, sha256, key],
  );
  return join(artifactDir, 'objects', key);
};
const onDisk = (path: string) => access(path).then(() => true, () => false);

it('deletes an expired run\'s artifact files from the store with its rows, and leaves a kept run\'s files', async () => {
  const expired = await finishedRun(orgA, 'expired-with-files');
  const kept = await finishedRun(orgA, 'kept-with-files');
  const expiredFiles = [await withArtifact(expired, 'page.png'), await withArtifact(expired, 'report.pdf')];
  const keptFile = await withArtifact(kept, 'page.png');
  for (const file of [...expiredFiles, keptFile]) expect(await onDisk(file)).toBe(true);
  await age(expired, 100);
  await age(kept, 5);

  await eventually(async () => !(await exists(expired)), { what: 'the retention sweep to delete the run', timeoutMs: 30_000 });
  for (const file of expiredFiles) expect(await onDisk(file)).toBe(false);
  expect((await t.pool.query('SELECT 1 FROM artifacts WHERE run_id = $1', [expired])).rowCount).toBe(0);
  expect(await onDisk(keptFile)).toBe(true);
  expect((await t.pool.query('SELECT 1 FROM artifacts WHERE run_id = $1', [kept])).rowCount).toBe(1);
});
