import { createMemoryLogger, grpc, type GrpcCallContext } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { z } from 'zod';
import { createAttemptTable } from './attempts';
import { createAutomationService } from './automation-service';
import { defineExecutor, type Executor, type ExecutorEnvironment, type JsonValue } from './executors/types';
import { createNoopExecutor } from './executors/noop';
import { createBatchedStdout } from './log';

/**
 * What a noop attempt costs the worker (issue 11: its CPU per task), in counts: the objects an attempt
 * makes only when an executor uses them, the call's abort listener only for an attempt still running
 * at the end of the event loop's turn, and the log lines of one turn in one write.
 */

/** Runs until its signal aborts (a long task). */
const holding: Executor<never> = defineExecutor({
  capability: 'hold',
  description: 'runs until aborted',
  input: z.unknown(),
  run: (_input, ctx) =>
    new Promise<JsonValue>((_resolve, reject) => {
      if (ctx.signal.aborted) reject(new Error('aborted'));
      else ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    }),
});

let counter = 0;
const request = (capability: string) =>
  automationV1.ExecuteRequest.fromPartial({ attemptId: `cost-${(counter += 1)}`, runId: 'run-1', taskId: 'task-1', orgId: 'org-1', stepId: 'a', capability, input: { n: 1 }, timeoutMs: 60_000, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });

// The noop executor uses nothing of its environment.
const table = () =>
  createAttemptTable({ slots: 8, executors: new Map([['noop', createNoopExecutor({} as ExecutorEnvironment)], ['hold', holding]]), log: createMemoryLogger('cost') });

/** Counts the AbortControllers made while `fn` runs. */
async function abortControllersMadeBy(fn: () => Promise<unknown>): Promise<number> {
  const Original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends Original {
    constructor() {
      super();
      made += 1;
    }
  };
  try {
    await fn();
  } finally {
    globalThis.AbortController = Original;
  }
  return made;
}

/** A call context as lib's gRPC server hands it, its signal's listeners counted. */
function callContext() {
  const controller = new AbortController();
  const listeners = { added: 0 };
  const add = controller.signal.addEventListener.bind(controller.signal);
  controller.signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
    listeners.added += 1;
    add(...args);
  };
  const ctx: GrpcCallContext = { requestId: 'req-1', caller: { kind: 'orchestrator' }, principal: undefined, metadata: new grpc.Metadata(), signal: controller.signal, log: createMemoryLogger('call'), deadline: undefined };
  return { ctx, cancel: () => controller.abort(), listeners };
}

describe("a noop attempt's cost on the worker", () => {
  it('makes no AbortController for an attempt whose executor never reads its signal; one that does gets it, aborted on cancel', async () => {
    const attempts = table();
    expect(await abortControllersMadeBy(() => attempts.open(request('noop'), () => undefined).attempt.done)).toBe(0);
    let held: Promise<automationV1.TaskResult> | undefined;
    expect(
      await abortControllersMadeBy(async () => {
        const { attempt } = attempts.open(request('hold'), () => undefined);
        held = attempt.done;
        await new Promise((resolve) => setImmediate(resolve));
        attempts.cancel(attempt.id, 'CANCELLED', 'test');
      }),
    ).toBe(1);
    await expect(held).resolves.toMatchObject({ outcome: { $case: 'failure', value: { code: 'CANCELLED', retryable: false } } });
  });

  it('aborts an attempt cancelled before its executor read the signal', async () => {
    const attempts = table();
    const { attempt } = attempts.open(request('hold'), () => undefined);
    attempts.cancel(attempt.id, 'CANCELLED', 'at once');
    await expect(attempt.done).resolves.toMatchObject({ outcome: { $case: 'failure', value: { code: 'CANCELLED' } } });
  });

  it('adds no abort listener to the call of an attempt that ended within its first turn, and writes its one result', async () => {
    const service = createAutomationService({ attempts: table(), describe: () => Promise.reject(new Error('unused')) });
    const { ctx, listeners } = callContext();
    const written: automationV1.ExecuteResponse[] = [];
    await service.execute(request('noop'), { write: (m) => Promise.resolve(void written.push(m)) }, ctx);
    await new Promise((resolve) => setImmediate(resolve));
    expect(listeners.added).toBe(0);
    expect(written.map((m) => m.event?.$case)).toEqual(['result']);
  });

  it('releases a running attempt when its call is cancelled, before or after the listener is added', async () => {
    for (const when of ['same turn', 'later'] as const) {
      const attempts = table();
      const service = createAutomationService({ attempts, describe: () => Promise.reject(new Error('unused')) });
      const { ctx, cancel, listeners } = callContext();
      const call = service.execute(request('hold'), { write: () => Promise.resolve() }, ctx);
      const id = attempts.runningIds()[0]!;
      if (when === 'later') await new Promise((resolve) => setImmediate(resolve));
      cancel();
      await call;
      expect(listeners.added).toBe(when === 'later' ? 1 : 0);
      expect(attempts.recent(id)?.outcome).toMatchObject({ $case: 'failure', value: { code: 'ABORTED', retryable: true } });
    }
  });
});

describe("the worker's log destination", () => {
  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const writes: string[] = [];
    const out = createBatchedStdout((chunk) => writes.push(chunk));
    for (let i = 0; i < 50; i += 1) out.write(`{"n":${i}}\n`);
    expect(writes).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([Array.from({ length: 50 }, (_, i) => `{"n":${i}}\n`).join('')]);
    out.write('{"n":50}\n');
    out.flush();
    expect(writes).toHaveLength(2);
  });
});
