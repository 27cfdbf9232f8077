import { createDispatchSchema, type DispatchSchema } from '../testing/dispatch-schema';
import { foldSettledRuns, lockRollup, tryLockRollup } from './run-metrics-rollup';

/**
 * The run metrics rollup's transaction compiles nothing with JIT (store/run-metrics-rollup.ts NO_JIT):
 * without statistics its bounds statement is priced above jit_above_cost, and compiling it cost
 * seconds of PostgreSQL CPU a pass for a statement that runs in milliseconds. Only for the rollup's
 * transaction: the connection's setting is as before once it ends.
 */

let t: DispatchSchema;

beforeAll(async () => {
  t = await createDispatchSchema('orch_rollup_jit', 'orchestration-rollup-jit-test');
});

afterAll(async () => {
  await t?.drop();
});

const jit = async (db: { query: (q: string) => Promise<{ rows: Array<{ jit: string }> }> }): Promise<string> => (await db.query(`SELECT current_setting('jit') AS jit`)).rows[0]!.jit;

describe('the rollup transaction and JIT', () => {
  it.each([
    ['tryLockRollup', tryLockRollup],
    ['lockRollup', lockRollup],
  ])('%s turns JIT off for its transaction only', async (_name, lock) => {
    const client = await t.pool.connect();
    try {
      const before = await jit(client);
      await client.query('BEGIN');
      await lock(client);
      const inside = await jit(client);
      await foldSettledRuns(client, { maxRuns: 20_000, settleMs: 0 });
      await client.query('COMMIT');
      expect(inside).toBe('off');
      expect(await jit(client)).toBe(before);
    } finally {
      client.release();
    }
  });
});
