import { eventually } from '@orchestra/lib';
import type { Platform } from '../src/platform';
import { as, createWorkflow, logLines, readRun, signUp, startOrchestraPlatform, startRun, waitForRun, type RunView, type Session } from './helpers';

/**
 * Issue 3's failure paths end to end: a worker process killed in the middle of a task, and Redis
 * losing the queue in the middle of a run. Each worker has one slot, so some tasks wait in the queue.
 */

let platform: Platform;
let owner: Session;

interface FleetWorker {
  id: string;
  endpoint: string;
  status: string;
}

const fleet = async (): Promise<FleetWorker[]> => {
  const res = await platform.graphql<{ workers: FleetWorker[] }>('{ workers { id endpoint status } }', {}, as(owner));
  expect(res.errors).toBeUndefined();
  return res.data!.workers;
};

/** Each task completed exactly once: one SUCCEEDED attempt and one TASK_STATUS SUCCEEDED event. */
function expectEachTaskCompletedOnce(run: RunView): void {
  for (const task of run.tasks) {
    expect({ step: task.stepId, succeeded: task.attemptHistory.filter((a) => a.status === 'SUCCEEDED').length }).toEqual({ step: task.stepId, succeeded: 1 });
    const events = run.events.filter((e) => e.taskId === task.id && e.taskStatus === 'SUCCEEDED');
    expect({ step: task.stepId, events: events.length }).toEqual({ step: task.stepId, events: 1 });
  }
}

beforeAll(async () => {
  platform = await startOrchestraPlatform(2, { worker: { WORKER_SLOTS: '1' } });
  owner = await signUp(platform, 'Failures Org');
  await eventually(async () => (await fleet()).filter((w) => w.status === 'ONLINE').length === 2, { timeoutMs: 30_000, what: 'both workers to register' });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

describe('failures', () => {
  it('retries a task on another worker when its worker process is killed mid-task, completing no task twice', async () => {
    const id = await createWorkflow(platform, owner, 'survives-a-crash', [
      { id: 'start', capability: 'noop' },
      { id: 'crunch', capability: 'sleep', dependsOn: ['start'], input: { ms: 3_000, progressEveryMs: 200 } },
      { id: 'finish', capability: 'transform', dependsOn: ['crunch'], input: { value: { slept: '{{ steps.crunch.output.sleptMs }}' } } },
    ]);
    const { id: runId } = await startRun(platform, owner, { workflowId: id });
    const running = await eventually(
      async () => {
        const run = await readRun(platform, owner, runId);
        const crunch = run.tasks.find((t) => t.stepId === 'crunch');
        return crunch?.status === 'RUNNING' && crunch.workerId !== null ? crunch : undefined;
      },
      { timeoutMs: 30_000, what: 'crunch to run on a worker' },
    );
    const busyId = running.workerId!;
    const endpoint = (await fleet()).find((w) => w.id === busyId)!.endpoint;
    const victim = platform.workers.find((w) => w.grpcAddress === endpoint);
    expect(victim).toBeDefined();
    await victim!.kill();

    const run = await waitForRun(platform, owner, runId);
    expect(run.status).toBe('SUCCEEDED');
    const crunch = run.tasks.find((t) => t.stepId === 'crunch')!;
    expect(crunch.attemptHistory.map((a) => a.status)).toEqual(['LOST', 'SUCCEEDED']);
    expect(crunch.attemptHistory[0]?.workerId).toBe(busyId);
    expect(crunch.attemptHistory[1]?.workerId).not.toBe(busyId);
    expect(crunch.attempts).toBe(2);
    expectEachTaskCompletedOnce(run);
    // The dead worker stops heartbeating and is dropped from the fleet.
    await eventually(async () => (await fleet()).find((w) => w.id === busyId)?.status === 'LOST', { timeoutMs: 15_000, what: 'the killed worker to be dropped' });
    // Bring the fleet back to two workers for the next test.
    await platform.startWorker();
    await eventually(async () => (await fleet()).filter((w) => w.status === 'ONLINE').length === 2, { timeoutMs: 30_000, what: 'a replacement worker' });
  });

  it('restores the queue when Redis loses it mid-run, and the run completes', async () => {
    // Six sleeps fan out over two one-slot workers: two run, four wait. While the pool's calls are short the
    // dispatcher takes as many jobs again ahead of its two slots (engine/dispatch/pool-consumers.ts
    // TAKE_AHEAD: they wait in its memory for a slot, holding their BullMQ locks), so at most two of the
    // four are out of Redis and at least two are in the queue the flush loses.
    const sleeps = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `sleep_${x}`);
    const id = await createWorkflow(platform, owner, 'survives-a-flush', [
      { id: 'begin', capability: 'noop' },
      ...sleeps.map((sleep) => ({ id: sleep, capability: 'sleep', dependsOn: ['begin'], input: { ms: 1_500 } })),
      { id: 'end', capability: 'transform', dependsOn: sleeps, input: { value: { done: true } } },
    ]);
    const { id: runId } = await startRun(platform, owner, { workflowId: id });
    await eventually(
      async () => {
        const run = await readRun(platform, owner, runId);
        const statuses = run.tasks.filter((t) => t.stepId.startsWith('sleep_')).map((t) => t.status);
        return statuses.filter((s) => s === 'RUNNING').length === 2 && statuses.filter((s) => s === 'QUEUED').length === 4;
      },
      { timeoutMs: 30_000, what: 'two sleeps running and four queued' },
    );
    // What FLUSHALL does to this platform, without touching other suites that share the machine's Redis.
    const keys = await platform.redis.keys(`${platform.redisPrefix}*`);
    expect(keys.some((k) => k.includes(':tasks-default:'))).toBe(true);
    await platform.redis.del(...keys);

    const run = await waitForRun(platform, owner, runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ end: { done: true } });
    expectEachTaskCompletedOnce(run);
    expect(run.events.map((e) => e.seq)).toEqual(Array.from({ length: run.lastSeq }, (_, i) => i + 1));
    const restored = logLines(platform.services.orchestration!.logFile).filter((l) => l['msg'] === 're-enqueued attempts the queue had lost (Redis flushed or restarted?)');
    expect(restored.length).toBeGreaterThan(0);
  });
});
