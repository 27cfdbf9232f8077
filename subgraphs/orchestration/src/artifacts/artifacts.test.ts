import { randomUUID } from 'node:crypto';
import { eventually, grpc, TEST_INTERNAL_TOKEN, toAppError, unaryCall, verifyArtifactUrl, withTenantTransaction } from '@orchestra/lib';
import { orchestrationV1, type automationV1 } from '@orchestra/proto';
import { TENANT_ROLE } from '../engine/engine';
import { artifactReport, failureResult, startArtifactWorker, successResult, type ArtifactWorker } from '../testing/artifact-worker';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';
import { runArtifactRetentionPass } from './retention-job';

// Artifacts reported on the Execute stream by a test worker speaking the protocol (it stands in for
// the browser worker, whose own suites are in workers/ and tests/): recorded per attempt, listed
// under row-level security, size limits re-checked, signed download URLs, and retention.

const URL_KEY = 'u'.repeat(48);
const CAPABILITY = 'test.artifacts';
const MAX_BYTES = 1_000;
const MAX_ATTEMPT_BYTES = 1_500;

let t: TestOrchestration;
let worker: ArtifactWorker;
const deletedKeys: string[] = [];
const orgA = randomUUID();
const orgB = randomUUID();
const adminA = userPrincipal(orgA, 'admin');
const viewerA = userPrincipal(orgA, 'viewer');
const adminB = userPrincipal(orgB, 'admin');

/** What the worker does, by the step's input `mode`. */
function script(request: automationV1.ExecuteRequest): automationV1.ExecuteResponse[] {
  const mode = (request.input as { mode?: string } | undefined)?.mode ?? '';
  const report = (a: Parameters<typeof artifactReport>[1]) => artifactReport(request, a);
  switch (mode) {
    case 'two-files':
      return [report({ name: 'page.png', sizeBytes: 400, sha256: 'a1'.repeat(32) }), report({ name: 'page.pdf', contentType: 'application/pdf', sizeBytes: 500, sha256: 'b2'.repeat(32) }), successResult({ title: 'ok' })];
    case 'flaky':
      // The first attempt leaves a screenshot of the failure and fails (retryable); the second succeeds with its own.
      return request.attempt === 1
        ? [report({ name: 'failure.png', sizeBytes: 10, sha256: 'c3'.repeat(32) }), failureResult('SELECTOR_NOT_FOUND', 'action 2 of 3 (click #go): no element after 100 ms', true)]
        : [report({ name: 'failure.png', sizeBytes: 20, sha256: 'd4'.repeat(32) }), successResult()];
    case 'too-big':
      return [report({ name: 'small.png', sizeBytes: 10 }), report({ name: 'huge.png', sizeBytes: MAX_BYTES + 1 }), successResult()];
    case 'attempt-total':
      return [report({ name: 'one.png', sizeBytes: 900 }), report({ name: 'two.png', sizeBytes: 900 }), successResult()];
    case 'elsewhere':
      return [
        report({ name: 'stolen.png', sizeBytes: 10, storageKey: `${orgB}/${request.runId}/${request.taskId}/${request.attemptId}/stolen.png` }),
        report({ name: '../escape', sizeBytes: 10, storageKey: `${request.orgId}/${request.runId}/${request.taskId}/${request.attemptId}/../escape` }),
        report({ name: 'BAD-SHA.png', sizeBytes: 10, sha256: 'XYZ' }),
        report({ name: 'fine.png', sizeBytes: 10 }),
        successResult(),
      ];
    default:
      return [successResult()];
  }
}

const TASK = `query($id: ID!) { run(id: $id) { status tasks { id status error { code message retryable }
  artifacts { id name contentType sizeBytes sha256 attemptId createdAt downloadUrl }
  attemptHistory { id number status artifacts { name sha256 } } } } }`;
interface ArtifactView {
  id: string;
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  attemptId: string;
  downloadUrl: string | null;
}
interface TaskView {
  id: string;
  status: string;
  error: { code: string; message: string; retryable: boolean } | null;
  artifacts: ArtifactView[];
  attemptHistory: Array<{ id: string; number: number; status: string; artifacts: Array<{ name: string; sha256: string }> }>;
}

async function runToEnd(mode: string, maxAttempts = 1): Promise<{ runId: string; task: TaskView }> {
  const name = `wf-${mode}-${randomUUID().slice(0, 8)}`;
  const steps = [{ id: 'browse', capability: CAPABILITY, input: { mode }, retry: { maxAttempts, initialDelayMs: 0 } }];
  const created = await t.graphql(adminA, 'mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name, steps } });
  expect(created.errors).toBeUndefined();
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(adminA, 'mutation($n: String!) { startRun(input: { workflowName: $n }) { run { id } } }', { n: name });
  const runId = started.data!.startRun.run.id;
  const run = await eventually(
    async () => {
      const res = await t.graphql<{ run: { status: string; tasks: TaskView[] } }>(adminA, TASK, { id: runId });
      return ['SUCCEEDED', 'FAILED'].includes(res.data?.run.status ?? '') ? res.data!.run : undefined;
    },
    { timeoutMs: 30_000, what: `the ${mode} run to end` },
  );
  return { runId, task: run.tasks[0]! };
}

beforeAll(async () => {
  t = await startTestOrchestration(
    { ARTIFACT_URL_KEYS: URL_KEY, ARTIFACT_MAX_BYTES: String(MAX_BYTES), ARTIFACT_MAX_ATTEMPT_BYTES: String(MAX_ATTEMPT_BYTES), ARTIFACT_URL_BASE: 'https://orchestra.example' },
    {
      artifactObjects: {
        delete: async (keys) => {
          deletedKeys.push(...keys);
        },
      },
    },
  );
  worker = await startArtifactWorker(t.grpcAddress, CAPABILITY, script);
  // The capability is known once the worker is live.
  await eventually(async () => ((await t.graphql<{ capabilities: string[] }>(adminA, '{ capabilities }')).data?.capabilities.includes(CAPABILITY) ? true : undefined), { what: 'the test worker to register' });
});
afterAll(async () => {
  await worker?.stop();
  await t?.stop();
});

describe('task artifacts', () => {
  let twoFiles: { runId: string; task: TaskView };

  it('records the artifacts an attempt reports, with a signed download URL for the caller org', async () => {
    twoFiles = await runToEnd('two-files');
    const { task } = twoFiles;
    expect(task.status).toBe('SUCCEEDED');
    expect(task.artifacts.map((a) => [a.name, a.contentType, a.sizeBytes, a.sha256])).toEqual([
      ['page.pdf', 'application/pdf', 500, 'b2'.repeat(32)],
      ['page.png', 'image/png', 400, 'a1'.repeat(32)],
    ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))));
    const attemptId = task.attemptHistory[0]!.id;
    expect(task.artifacts.every((a) => a.attemptId === attemptId)).toBe(true);
    expect(task.attemptHistory[0]!.artifacts).toHaveLength(2);
    for (const a of task.artifacts) {
      const url = new URL(a.downloadUrl!);
      expect(url.origin).toBe('https://orchestra.example');
      expect(url.pathname).toBe(`/artifacts/${a.id}`);
      const check = verifyArtifactUrl([URL_KEY], { id: a.id, org: url.searchParams.get('org'), exp: url.searchParams.get('exp'), sig: url.searchParams.get('sig') });
      expect(check).toEqual({ ok: true, grant: { artifactId: a.id, orgId: orgA, expiresAt: expect.any(Number) } });
      // Valid for minutes, not longer.
      if (check.ok) expect(check.grant.expiresAt * 1000 - Date.now()).toBeLessThanOrEqual(300_000);
    }
  });

  it('keeps each attempt of a retried task its own artifacts (a failed attempt included)', async () => {
    const { task } = await runToEnd('flaky', 2);
    expect(task.status).toBe('SUCCEEDED');
    expect(task.attemptHistory.map((a) => [a.number, a.status, a.artifacts])).toEqual([
      [1, 'FAILED', [{ name: 'failure.png', sha256: 'c3'.repeat(32) }]],
      [2, 'SUCCEEDED', [{ name: 'failure.png', sha256: 'd4'.repeat(32) }]],
    ]);
    expect(task.artifacts).toHaveLength(2);
  });

  it('fails the task ARTIFACT_TOO_LARGE (not retried) when one artifact is over ARTIFACT_MAX_BYTES, and deletes the object', async () => {
    const { task } = await runToEnd('too-big', 3);
    expect(task.status).toBe('FAILED');
    expect(task.error).toEqual({ code: 'ARTIFACT_TOO_LARGE', message: expect.stringContaining('"huge.png" is 1001 bytes, over the limit of 1000 bytes per artifact'), retryable: false });
    expect(task.attemptHistory).toHaveLength(1);
    expect(task.artifacts.map((a) => a.name)).toEqual(['small.png']);
    expect(deletedKeys).toContain(`${orgA}/${(await runOf(task)).runId}/${task.id}/${task.attemptHistory[0]!.id}/huge.png`);
  });

  it('fails the task when the attempt total is over ARTIFACT_MAX_ATTEMPT_BYTES', async () => {
    const { task } = await runToEnd('attempt-total');
    expect(task.status).toBe('FAILED');
    expect(task.error?.code).toBe('ARTIFACT_TOO_LARGE');
    expect(task.error?.message).toContain('over the limit of 1500 bytes per attempt (ARTIFACT_MAX_ATTEMPT_BYTES)');
    expect(task.artifacts.map((a) => a.name)).toEqual(['one.png']);
  });

  it('ignores reports whose storage key is not the attempt\'s own, or that are malformed', async () => {
    const { task } = await runToEnd('elsewhere');
    expect(task.status).toBe('SUCCEEDED');
    expect(task.artifacts.map((a) => a.name)).toEqual(['fine.png']);
    expect(t.log.lines.some((l) => l.msg === 'artifact reports ignored' && JSON.stringify(l).includes('stolen.png'))).toBe(true);
    // Never deleted either: the key named another organization's object.
    expect(deletedKeys.some((k) => k.startsWith(orgB))).toBe(false);
  });

  it('shows org B none of org A\'s artifacts, by any query or directly in the table', async () => {
    const { runId, task } = twoFiles;
    const viaRun = await t.graphql<{ run: unknown }>(adminB, TASK, { id: runId });
    expect(viaRun.data?.run).toBeNull();
    const viaTask = await t.graphql<{ task: unknown }>(adminB, 'query($id: ID!) { task(id: $id) { artifacts { id } } }', { id: task.id });
    expect(viaTask.data?.task).toBeNull();
    const rows = await withTenantTransaction(t.pool, TENANT_ROLE, { orgId: orgB }, async (tx) => (await tx.query('SELECT id FROM artifacts')).rows);
    expect(rows).toEqual([]);
    const own = await withTenantTransaction(t.pool, TENANT_ROLE, { orgId: orgA }, async (tx) => (await tx.query('SELECT id FROM artifacts')).rows);
    expect(own.length).toBeGreaterThanOrEqual(2);
  });

  it('answers GetArtifact (what the gateway serves downloads with) only for the acting org', async () => {
    const client = new orchestrationV1.OrchestrationServiceClient(t.grpcAddress, grpc.credentials.createInsecure());
    try {
      const artifact = twoFiles.task.artifacts[0]!;
      const get = async (principal: typeof adminA, artifactId: string) =>
        unaryCall(client, client.getArtifact, { artifactId }, { internalToken: TEST_INTERNAL_TOKEN }, { principalHeader: await t.sign(principal) });
      const found = await get(adminA, artifact.id);
      expect(found.artifact).toEqual({ id: artifact.id, orgId: orgA, name: artifact.name, contentType: artifact.contentType, sizeBytes: artifact.sizeBytes, sha256: artifact.sha256, storageKey: expect.stringMatching(new RegExp(`^${orgA}/`)) });
      for (const [principal, id] of [[adminB, artifact.id], [adminA, randomUUID()], [adminA, 'not-an-id']] as const) {
        const error = await get(principal, id).then(() => undefined, (e: unknown) => e);
        expect(toAppError(error).code).toBe('NOT_FOUND');
      }
    } finally {
      client.close();
    }
  });
});

async function runOf(task: TaskView): Promise<{ runId: string }> {
  const { rows } = await t.pool.query<{ run_id: string }>('SELECT run_id FROM tasks WHERE id = $1', [task.id]);
  return { runId: rows[0]!.run_id };
}

describe('artifact retention', () => {
  const RETENTION = '{ artifactRetention { days isDefault } }';
  const SET = 'mutation($d: Int!) { setArtifactRetention(days: $d) { days isDefault } }';

  it('is 30 days by default; admins set 1..365 (BAD_USER_INPUT naming days otherwise); others may not', async () => {
    expect((await t.graphql(viewerA, RETENTION)).data).toEqual({ artifactRetention: { days: 30, isDefault: true } });
    for (const d of [0, 366]) {
      const bad = await t.graphql(adminA, SET, { d });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'days' });
    }
    const denied = await t.graphql(viewerA, SET, { d: 5 });
    expect(denied.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await t.graphql(adminA, SET, { d: 2 })).data).toEqual({ setArtifactRetention: { days: 2, isDefault: false } });
    expect((await t.graphql(viewerA, RETENTION)).data).toEqual({ artifactRetention: { days: 2, isDefault: false } });
    // Org B still has the default.
    expect((await t.graphql(adminB, RETENTION)).data).toEqual({ artifactRetention: { days: 30, isDefault: true } });
  });

  it('deletes artifacts older than their org\'s retention from the store and the table, and nothing else', async () => {
    const { rows: all } = await t.pool.query<{ id: string; storage_key: string }>('SELECT id, storage_key FROM artifacts WHERE org_id = $1 ORDER BY id', [orgA]);
    expect(all.length).toBeGreaterThanOrEqual(4);
    const [old1, old2, ...young] = all;
    // Older than org A's 2 days, younger than the default 30.
    await t.pool.query(`UPDATE artifacts SET created_at = now() - interval '3 days' WHERE id = ANY($1::uuid[])`, [[old1!.id, old2!.id]]);
    deletedKeys.length = 0;
    const pass = await runArtifactRetentionPass(t.service.engine, { delete: async (keys) => void deletedKeys.push(...keys) }, t.log);
    expect(pass).toEqual({ deleted: 2, byOrg: { [orgA]: 2 } });
    expect(deletedKeys.sort()).toEqual([old1!.storage_key, old2!.storage_key].sort());
    const { rows: left } = await t.pool.query<{ id: string }>('SELECT id FROM artifacts WHERE org_id = $1 ORDER BY id', [orgA]);
    expect(left.map((r) => r.id)).toEqual(young.map((r) => r.id));
    expect(t.log.lines.some((l) => l.msg === 'expired artifacts deleted' && l['orgId'] === orgA && l['count'] === 2)).toBe(true);
  });

  it('keeps the rows when the store cannot delete (the next pass tries again)', async () => {
    const { rows } = await t.pool.query<{ id: string }>('SELECT id FROM artifacts WHERE org_id = $1 LIMIT 1', [orgA]);
    await t.pool.query(`UPDATE artifacts SET created_at = now() - interval '3 days' WHERE id = $1`, [rows[0]!.id]);
    await expect(
      runArtifactRetentionPass(
        t.service.engine,
        {
          delete: () => Promise.reject(new Error('store down')),
        },
        t.log,
      ),
    ).rejects.toThrow('store down');
    expect((await t.pool.query('SELECT 1 FROM artifacts WHERE id = $1', [rows[0]!.id])).rowCount).toBe(1);
  });
});
