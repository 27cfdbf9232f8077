import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { dropSchema } from './migrate';
import type { RunEvent } from './run-event-stream';

/** Tests run against the machine's real PostgreSQL and Redis (override with these variables). */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const TEST_INTERNAL_TOKEN = 'test-internal-token-0123456789abcdef';
/** The orchestration service's WORKER_AUTH_SECRETS in tests (worker tokens are minted under it). */
export const TEST_WORKER_AUTH_SECRET = 'test-worker-auth-secret-0123456789abcdef';

/** A name no other test (or test run) uses: `prefix_<random>`, valid as a schema or key prefix. */
export const uniqueName = (prefix: string): string => `${prefix}_t${randomBytes(6).toString('hex')}`;

/** A schema of its own for a suite; `drop()` removes it. */
export function createTestSchema(prefix: string): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = uniqueName(prefix);
  return Promise.resolve({
    schema,
    drop: async () => {
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
      try {
        await dropSchema(pool, schema);
      } finally {
        await pool.end();
      }
    },
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
export * from './openai-stand-in';
export { migrateTestSchema } from './schema-templates';

/** A run event as orchestration records one: what identifies it, the fields given, every other field null. */
export const testRunEvent = (event: Pick<RunEvent, 'runId' | 'orgId' | 'workflowId' | 'seq' | 'kind'> & Partial<RunEvent>): RunEvent => ({
  at: new Date().toISOString(),
  runStatus: null,
  taskId: null,
  stepId: null,
  taskStatus: null,
  attemptId: null,
  attempt: null,
  progress: null,
  message: null,
  level: null,
  error: null,
  ...event,
});
