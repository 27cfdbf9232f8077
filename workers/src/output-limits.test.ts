import { createMemoryLogger, MAX_TASK_VALUE_BYTES } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { z } from 'zod';
import { createAttemptTable } from './attempts';
import { defineExecutor, type Executor, type JsonValue } from './executors/types';

/** An executor that answers whatever output the test gives it (an embedding application's, say). */
const answering = (output: () => JsonValue): Executor<never> => defineExecutor({ capability: 'answer', description: 'answers a fixed output', input: z.unknown(), run: () => Promise.resolve(output()) });

const resultFor = async (output: () => JsonValue) => {
  const table = createAttemptTable({ slots: 1, executors: new Map([['answer', answering(output)]]), log: createMemoryLogger('output-limits') });
  const { attempt } = table.open(automationV1.ExecuteRequest.fromPartial({ attemptId: `a-${Math.random()}`, capability: 'answer', input: {}, timeoutMs: 60_000 }), () => undefined);
  return (await attempt.done).outcome;
};

const nested = (levels: number): JsonValue => {
  let value: JsonValue = 'leaf';
  for (let i = 0; i < levels; i += 1) value = [value];
  return value;
};

describe("a task's output is bounded where it leaves the worker (issue 9 items 7, 8)", () => {
  it('fails an output over the limit with a non-retryable RESULT_TOO_LARGE naming size and limit', async () => {
    const outcome = await resultFor(() => ({ body: 'x'.repeat(MAX_TASK_VALUE_BYTES) }));
    expect(outcome).toMatchObject({ $case: 'failure', value: { code: 'RESULT_TOO_LARGE', retryable: false, message: expect.stringContaining(`limit of ${MAX_TASK_VALUE_BYTES} bytes`) } });
  });

  it('fails an output nested deeper than protobuf decodes with a non-retryable OUTPUT_TOO_DEEP (even 10,000 levels)', async () => {
    for (const levels of [33, 10_000]) {
      const outcome = await resultFor(() => nested(levels));
      expect(outcome).toMatchObject({ $case: 'failure', value: { code: 'OUTPUT_TOO_DEEP', retryable: false, message: expect.stringContaining('more than 32 levels') } });
    }
    await expect(resultFor(() => nested(32))).resolves.toMatchObject({ $case: 'success' });
  });

  it('replaces NUL characters and lone surrogates (which PostgreSQL cannot store) in outputs with U+FFFD', async () => {
    const outcome = await resultFor(() => ({ page: 'a\u0000b', ['k\uD800']: 'ok 😀' }));
    expect(outcome).toEqual({ $case: 'success', value: { output: { page: 'a\uFFFDb', ['k\uFFFD']: 'ok 😀' } } });
  });
});
