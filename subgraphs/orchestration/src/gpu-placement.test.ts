import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from './testing/harness';

/**
 * GPU-aware placement through the real dispatcher and real workers (@orchestra/workers), on the
 * test PostgreSQL and Redis. There is no GPU on these machines: each GPU worker runs a stand-in
 * `nvidia-smi` (a shell script given as its NVIDIA_SMI_PATH, where a GPU box finds the real one on
 * its PATH) that prints what nvidia-smi prints for the GPUs it plays. The CPU worker has none.
 */

let t: TestOrchestration;
let dir: string;
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');
const otherOrg = userPrincipal(randomUUID(), 'admin');
const pool = `gpu-${randomUUID().slice(0, 8)}`;
const workerIds = { a100: `a100-${randomUUID().slice(0, 6)}`, rtx: `rtx-${randomUUID().slice(0, 6)}`, cpu: `cpu-${randomUUID().slice(0, 6)}` };

/** A stand-in nvidia-smi printing `lines` (index, name, memory.total MiB, memory.used MiB, utilization %). */
function standInNvidiaSmi(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n# Stand-in for nvidia-smi (no GPU on the test machine): the query's CSV output.\ncat <<'CSV'\n${lines.join('\n')}\nCSV\n`);
  chmodSync(path, 0o755);
  return path;
}

const CREATE = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id versions { steps { id resources { gpus gpuMemoryMiB gpuModel } queueTimeoutMs } } } }`;
const TASKS = `query($id: ID!) { run(id: $id) { status tasks { id stepId status workerId gpus { index model memoryMiB } error { code message }
  waitReason { kind message details } attemptHistory { workerId startedAt finishedAt gpus { index } } logs { message } } } }`;

interface TaskView {
  id: string;
  stepId: string;
  status: string;
  workerId: string | null;
  gpus: Array<{ index: number; model: string; memoryMiB: number }>;
  error: { code: string; message: string } | null;
  waitReason: { kind: string; message: string; details: Record<string, unknown> | null } | null;
  attemptHistory: Array<{ workerId: string | null; startedAt: string | null; finishedAt: string | null; gpus: Array<{ index: number }> }>;
  logs: Array<{ message: string }>;
}

async function startRun(name: string, steps: unknown[]): Promise<string> {
  const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE, { i: { name, steps } });
  expect(created.errors).toBeUndefined();
  const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, {
    i: { workflowId: created.data!.createWorkflow.id },
  });
  expect(started.errors).toBeUndefined();
  return started.data!.startRun.run.id;
}

async function runOf(runId: string): Promise<{ status: string; tasks: TaskView[] }> {
  const res = await t.graphql<{ run: { status: string; tasks: TaskView[] } }>(admin, TASKS, { id: runId });
  expect(res.errors).toBeUndefined();
  return res.data!.run;
}

const finished = (runId: string, timeoutMs = 60_000) =>
  eventually(
    async () => {
      const run = await runOf(runId);
      return run.status === 'SUCCEEDED' || run.status === 'FAILED' ? run : undefined;
    },
    { timeoutMs, what: `run ${runId} to finish` },
  );

const gpuStep = (id: string, resources: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ id, capability: 'sleep', pool, input: { ms: 300 }, resources, ...extra });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'orchestra-nvidia-smi-'));
  t = await startTestOrchestration();
  await t.grantPool(orgId, pool);
  const a100 = standInNvidiaSmi('a100', ['0, NVIDIA A100-SXM4-40GB, 40960, 0, 3']);
  const rtx = standInNvidiaSmi('rtx', ['0, NVIDIA GeForce RTX 4090, 24564, 1024, 0']);
  const started = await Promise.all([
    t.startWorker({ WORKER_ID: workerIds.a100, WORKER_POOL: pool, WORKER_SLOTS: '4', WORKER_CAPABILITIES: 'sleep', NVIDIA_SMI_PATH: a100 }),
    t.startWorker({ WORKER_ID: workerIds.rtx, WORKER_POOL: pool, WORKER_SLOTS: '4', WORKER_CAPABILITIES: 'sleep', NVIDIA_SMI_PATH: rtx }),
    t.startWorker({ WORKER_ID: workerIds.cpu, WORKER_POOL: pool, WORKER_SLOTS: '4', WORKER_CAPABILITIES: 'sleep' }),
  ]);
  await eventually(() => started.every((w) => w.registered), { what: 'the workers to register' });
});

afterAll(async () => {
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('GPU placement', () => {
  it('refuses bad resources at createWorkflow, naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ resources: { gpus: 0, gpuMemoryMiB: 1024 } }, 'input.steps[0].resources.gpus', /resources\.gpus must be an integer between 1 and 16/],
      [{ resources: { gpus: 17, gpuMemoryMiB: 1024 } }, 'input.steps[0].resources.gpus', /between 1 and 16 \(got 17\)/],
      [{ resources: { gpus: 1, gpuMemoryMiB: 0 } }, 'input.steps[0].resources.gpuMemoryMiB', /gpuMemoryMiB must be an integer between 1 and 1048576/],
      [{ resources: { gpus: 1, gpuMemoryMiB: 2_000_000 } }, 'input.steps[0].resources.gpuMemoryMiB', /got 2000000/],
      [{ resources: { gpus: 1, gpuMemoryMiB: 1024, gpuModel: 'A100; DROP' } }, 'input.steps[0].resources.gpuModel', /gpuModel must be/],
      [{ resources: { gpus: 1, gpuMemoryMiB: 1024, gpuModel: 'x'.repeat(101) } }, 'input.steps[0].resources.gpuModel', /at most|1 to 100/],
      [{ queueTimeoutMs: 0 }, 'input.steps[0].queueTimeoutMs', /queueTimeoutMs must be an integer between 1 and 86400000/],
    ];
    for (const [extra, field, message] of cases) {
      const res = await t.graphql(admin, CREATE, { i: { name: `bad-${randomUUID().slice(0, 6)}`, steps: [{ id: 'infer', capability: 'sleep', pool, input: { ms: 1 }, ...extra }] } });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(res.errors?.[0]?.message).toMatch(message);
    }
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM workflows WHERE org_id = $1 AND name LIKE 'bad-%'`, [orgId]);
    expect(rows[0].n).toBe(0);
  });

  it('stores the request on the step; a GPU step gets the default queue timeout', async () => {
    const res = await t.graphql<{ createWorkflow: { versions: Array<{ steps: unknown[] }> } }>(admin, CREATE, {
      i: { name: `shown-${randomUUID().slice(0, 6)}`, steps: [gpuStep('infer', { gpus: 1, gpuMemoryMiB: 8192, gpuModel: ' A100 ' }), { id: 'cpu', capability: 'sleep', input: { ms: 1 } }] },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.createWorkflow.versions[0]!.steps).toEqual([
      { id: 'infer', resources: { gpus: 1, gpuMemoryMiB: 8192, gpuModel: 'A100' }, queueTimeoutMs: 3_600_000 },
      { id: 'cpu', resources: null, queueTimeoutMs: null },
    ]);
  });

  it('lands a step only on the worker whose GPU fits, never on the CPU worker, and says which GPU it ran on', async () => {
    // 30 GiB fits only the A100 (40 GiB); the RTX 4090 has 24 GiB, the CPU worker none. All three have free slots.
    const runIds = await Promise.all([0, 1, 2].map((i) => startRun(`fits-a100-${i}-${randomUUID().slice(0, 4)}`, [gpuStep('infer', { gpus: 1, gpuMemoryMiB: 30_720 }, { input: { ms: 50 } })])));
    for (const runId of runIds) {
      const run = await finished(runId);
      expect(run.status).toBe('SUCCEEDED');
      const task = run.tasks[0]!;
      expect(task.workerId).toBe(workerIds.a100);
      expect(task.gpus).toEqual([{ index: 0, model: 'NVIDIA A100-SXM4-40GB', memoryMiB: 30_720 }]);
      expect(task.attemptHistory.map((a) => a.gpus)).toEqual([[{ index: 0 }]]);
      // The worker wrote it on the task's log.
      expect(task.logs.map((l) => l.message)).toContain('running on GPU 0 of this worker');
    }
    // Asking for the model places it on that model's worker, even where a bigger GPU is free.
    const onRtx = await finished(await startRun(`rtx-${randomUUID().slice(0, 6)}`, [gpuStep('infer', { gpus: 1, gpuMemoryMiB: 16_384, gpuModel: 'rtx 4090' })]));
    expect(onRtx.tasks[0]).toMatchObject({ status: 'SUCCEEDED', workerId: workerIds.rtx, gpus: [{ index: 0, model: 'NVIDIA GeForce RTX 4090', memoryMiB: 16_384 }] });
    // A step that asks for no GPU may still run anywhere, and shows none.
    const cpu = await finished(await startRun(`cpu-${randomUUID().slice(0, 6)}`, [{ id: 'plain', capability: 'sleep', pool, input: { ms: 1 } }]));
    expect(cpu.tasks[0]).toMatchObject({ status: 'SUCCEEDED', gpus: [] });
    // Another organization sees none of it.
    const foreign = await t.graphql<{ run: unknown }>(otherOrg, `query($id: ID!) { run(id: $id) { id tasks { gpus { index } } } }`, { id: runIds[0] });
    expect(foreign.data?.run).toBeNull();
  }, 240_000);

  it('does not run two steps at once on a GPU whose memory they exceed together', async () => {
    // 25 GiB each: either fits the A100 alone (not the 24 GiB RTX), both together (50 GiB) do not.
    const runId = await startRun(`two-on-one-${randomUUID().slice(0, 6)}`, [
      gpuStep('first', { gpus: 1, gpuMemoryMiB: 25_600 }, { input: { ms: 4_000 } }),
      gpuStep('second', { gpus: 1, gpuMemoryMiB: 25_600 }, { input: { ms: 4_000 } }),
    ]);
    // While one runs, the other says why it waits.
    const waiting = await eventually(
      async () => {
        const run = await runOf(runId);
        return run.tasks.some((task) => task.status === 'RUNNING') ? run.tasks.find((task) => task.status === 'QUEUED' && task.waitReason?.kind === 'GPU') : undefined;
      },
      { timeoutMs: 60_000, what: 'one step to run while the other waits for GPU memory' },
    );
    expect(waiting.waitReason!.message).toBe('every worker with 1 GPU of 25 GiB is busy or has too little GPU memory free now (1 online)');
    expect(waiting.waitReason!.details).toMatchObject({ gpus: 1, gpuMemoryMiB: 25_600, fittingWorkers: 1 });
    const run = await finished(runId);
    expect(run.status).toBe('SUCCEEDED');
    const [a, b] = run.tasks.map((task) => task.attemptHistory[0]!).sort((x, y) => Date.parse(x.startedAt!) - Date.parse(y.startedAt!));
    expect([a!.workerId, b!.workerId]).toEqual([workerIds.a100, workerIds.a100]);
    // One after the other: the second started when the first had finished.
    expect(Date.parse(b!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a!.finishedAt!));
    // Two that fit together (15 GiB each) do run there at once.
    const both = await startRun(`fit-together-${randomUUID().slice(0, 6)}`, [
      gpuStep('first', { gpus: 1, gpuMemoryMiB: 15_360, gpuModel: 'A100' }, { input: { ms: 6_000 } }),
      gpuStep('second', { gpus: 1, gpuMemoryMiB: 15_360, gpuModel: 'A100' }, { input: { ms: 6_000 } }),
    ]);
    await eventually(async () => ((await runOf(both)).tasks.every((task) => task.status === 'RUNNING') ? true : undefined), { timeoutMs: 60_000, what: 'both 15 GiB steps to run at once' });
    expect((await finished(both)).status).toBe('SUCCEEDED');
  }, 180_000);

  it('says no worker could ever run a step, and fails it after its queue timeout', async () => {
    const runId = await startRun(`too-big-${randomUUID().slice(0, 6)}`, [gpuStep('huge', { gpus: 2, gpuMemoryMiB: 40_960 }, { queueTimeoutMs: 4_000 })]);
    const waiting = await eventually(
      async () => {
        const task = (await runOf(runId)).tasks[0];
        return task?.waitReason?.kind === 'GPU' ? task : undefined;
      },
      { timeoutMs: 60_000, what: 'the step to wait for GPUs' },
    );
    expect(waiting.waitReason!.message).toBe(`no worker with 2 GPUs of 40 GiB online (pool "${pool}", sleep)`);
    expect(waiting.waitReason!.details).toMatchObject({ fittingWorkers: 0, gpus: 2, gpuMemoryMiB: 40_960 });
    const run = await finished(runId);
    expect(run.status).toBe('FAILED');
    expect(run.tasks[0]!.error!.code).toBe('QUEUE_TIMEOUT');
    expect(run.tasks[0]!.error!.message).toMatch(/^step "huge" waited \d+ s to start, past its queue timeout of 4 s: no worker with 2 GPUs of 40 GiB online/);
    expect(run.tasks[0]!.attemptHistory.map((a) => a.workerId)).toEqual([null]);
  }, 120_000);
});
