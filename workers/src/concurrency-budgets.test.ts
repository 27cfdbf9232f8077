import { AppError, createGuardedFetch, createMemoryLogger } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { z } from 'zod';
import { createAttemptTable } from './attempts';
import { BROWSER_BUDGET, defineExecutor, type Executor, type ExecutorConcurrency, type JsonValue } from './executors/types';
import { createExecutorRegistry } from './executors/registry';
import { testExecutorEnvironment } from './test-support';

/**
 * Concurrency budgets shared between executors (browser and browser.agent drive one Chromium): the
 * attempt table counts every executor naming a budget against its one limit, besides the slots.
 */

/** An executor that runs until its attempt is aborted (a page that takes its time). */
const holding = (capability: string, concurrency?: ExecutorConcurrency): Executor<never> =>
  defineExecutor({
    capability,
    description: 'runs until aborted',
    input: z.unknown(),
    ...(concurrency ? { concurrency } : {}),
    run: (_input, ctx) =>
      new Promise<JsonValue>((_resolve, reject) => {
        // Cancelled before it ran (the test cancels in the same tick it opened): already aborted.
        if (ctx.signal.aborted) reject(new Error('aborted'));
        else ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
  });

let counter = 0;
const request = (capability: string) => automationV1.ExecuteRequest.fromPartial({ attemptId: `budget-${(counter += 1)}`, capability, input: {}, timeoutMs: 60_000 });

describe('a concurrency budget shared by executors', () => {
  const budget = { budget: 'canvas', limit: 2 };
  const table = createAttemptTable({
    slots: 8,
    executors: new Map([
      ['paint', holding('paint', budget)],
      ['paint.agent', holding('paint.agent', budget)],
      ['other', holding('other')],
    ]),
    log: createMemoryLogger('budgets'),
  });
  const open = (capability: string) => table.open(request(capability), () => undefined).attempt;
  const refusal = (capability: string): unknown => {
    try {
      open(capability);
      return undefined;
    } catch (error) {
      return error;
    }
  };

  it('refuses an attempt of either executor once the budget is spent by the two together, and takes it again when one ends', async () => {
    const first = open('paint');
    const second = open('paint.agent');
    for (const capability of ['paint', 'paint.agent']) {
      const error = refusal(capability);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'RATE_LIMITED', reason: 'NO_FREE_SLOT', message: 'this worker runs at most 2 paint + paint.agent attempts at once (its canvas budget)' });
    }
    // The other slots are not the budget's.
    const others = [open('other'), open('other'), open('other')];
    expect(table.freeSlots()).toBe(3);

    table.cancel(first.id, 'CANCELLED', 'done with it');
    await first.done;
    const third = open('paint.agent');
    expect(refusal('paint')).toMatchObject({ reason: 'NO_FREE_SLOT' });
    for (const attempt of [second, third, ...others]) table.cancel(attempt.id, 'CANCELLED', 'test over');
    await Promise.all([second, third, ...others].map((a) => a.done));
  });
});

describe('the built-in browser executors', () => {
  it('name one budget (the worker has one Chromium): browser + browser.agent, not each on its own', () => {
    // Any executable file passes the browser's presence check; nothing here launches it.
    const env = { ...testExecutorEnvironment(createGuardedFetch({ allowPrivate: false })), browser: { executablePath: process.execPath, maxContexts: 3, allowPrivateNetwork: false } };
    try {
      const registry = createExecutorRegistry(env, { capabilities: ['browser', 'browser.agent'] });
      expect(registry.get('browser')?.concurrency).toEqual({ budget: BROWSER_BUDGET, limit: 3 });
      expect(registry.get('browser.agent')?.concurrency).toEqual({ budget: BROWSER_BUDGET, limit: 3 });
    } finally {
      env.llm.models.stop();
    }
  });

  it('refuses a registry where two executors give one budget different limits', () => {
    const env = testExecutorEnvironment(createGuardedFetch({ allowPrivate: false }));
    try {
      expect(() => createExecutorRegistry(env, { capabilities: [], extra: [() => holding('a', { budget: 'gpu', limit: 1 }), () => holding('b', { budget: 'gpu', limit: 2 })] })).toThrow(
        'executors a and b share budget gpu with different limits (1, 2)',
      );
    } finally {
      env.llm.models.stop();
    }
  });
});
