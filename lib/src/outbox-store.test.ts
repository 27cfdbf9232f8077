import { join } from 'node:path';
import { createPool, withSystemTransaction, type Pool, type PoolClient } from './db';
import { newId } from './ids';
import { createMemoryLogger } from './log';
import { runMigrations } from './migrate';
import { createOutboxStore } from './outbox-store';
import { createTestSchema, TEST_DATABASE_URL } from './testing';

// The relay keeps its transaction open across the call to the receiver (which may take up to its
// deadline), so the outbox's times must be read from the wall clock when they are written, not from
// the transaction's start: a 500 ms back-off computed from a start 5 s ago would already be over.

const log = createMemoryLogger();
let pool: Pool;
let drop: () => Promise<void>;
const store = createOutboxStore<{ note: string }>('audit_outbox', 'BAD_USER_INPUT');

beforeAll(async () => {
  const test = await createTestSchema('liboutbox');
  drop = test.drop;
  pool = createPool({ url: TEST_DATABASE_URL, schema: test.schema, applicationName: 'lib-outbox-store-test', log });
  await runMigrations({ pool, schema: test.schema, dir: join(__dirname, '__fixtures__', 'migrations'), tenantRole: 'orchestra_libtest_tenant', log });
});

beforeEach(async () => {
  await pool.query('DELETE FROM audit_outbox');
});

afterAll(async () => {
  await pool.end();
  await drop();
});

const insertEvent = async (): Promise<string> => {
  const id = newId();
  await pool.query('INSERT INTO audit_outbox (id, event) VALUES ($1, $2)', [id, JSON.stringify({ note: 'hello' })]);
  return id;
};

/** The database's wall clock inside a transaction (now() there is the transaction's start). */
const wallClock = async (tx: PoolClient): Promise<Date> => (await tx.query<{ t: Date }>('SELECT clock_timestamp() AS t')).rows[0]!.t;

const row = async (id: string) =>
  (await pool.query<{ next_attempt_at: Date; delivered_at: Date | null; attempts: number }>('SELECT next_attempt_at, delivered_at, attempts FROM audit_outbox WHERE id = $1', [id])).rows[0]!;

describe('outbox store', () => {
  it('counts a failed attempt’s back-off from when it is recorded, not from the start of a long transaction', async () => {
    const id = await insertEvent();
    const delayMs = 60_000;
    const { before, after } = await withSystemTransaction(pool, async (tx) => {
      expect(await store.claim(tx, 10, false)).toHaveLength(1);
      // The call to the receiver, standing in: the transaction stays open while it runs.
      await tx.query('SELECT pg_sleep(0.3)');
      const before = await wallClock(tx);
      await store.markFailed(tx, [{ id, delayMs }], { message: 'audit unreachable', code: 'UNAVAILABLE' });
      return { before, after: await wallClock(tx) };
    });
    const { next_attempt_at: next, attempts } = await row(id);
    expect(attempts).toBe(1);
    expect(next.getTime()).toBeGreaterThanOrEqual(before.getTime() + delayMs);
    expect(next.getTime()).toBeLessThanOrEqual(after.getTime() + delayMs);
  });

  it('stamps a delivery with when it was delivered, not with the start of the transaction that claimed it', async () => {
    const id = await insertEvent();
    const { before, after } = await withSystemTransaction(pool, async (tx) => {
      expect(await store.claim(tx, 10, false)).toHaveLength(1);
      await tx.query('SELECT pg_sleep(0.3)');
      const before = await wallClock(tx);
      await store.markDelivered(tx, [id]);
      return { before, after: await wallClock(tx) };
    });
    const { delivered_at: delivered } = await row(id);
    expect(delivered).not.toBeNull();
    expect(delivered!.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(delivered!.getTime()).toBeLessThanOrEqual(after.getTime());
  });
});
