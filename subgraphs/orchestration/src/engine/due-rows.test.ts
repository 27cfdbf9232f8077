import { createMemoryLogger, createPool, createTestSchema, eventually, TEST_DATABASE_URL, withSystemTransaction, type Pool } from '@orchestra/lib';
import { batchesByOrg, createDueRowsLoop, duePass, sleepAfterPass, type DueRows, type IdleBackoff } from './due-rows';

/**
 * The due-rows loop the tickers share, against the real PostgreSQL: a table of due rows of its own
 * (in a schema of its own), handled as the tickers handle theirs — read unlocked, then claimed
 * FOR UPDATE SKIP LOCKED in a transaction that moves each row out of due.
 */

let pool: Pool;
let drop: () => Promise<void>;
const log = createMemoryLogger('due-rows-test');

interface Ref {
  id: number;
  orgId: string;
}

beforeAll(async () => {
  const created = await createTestSchema('orch_due_rows');
  drop = created.drop;
  pool = createPool({ url: TEST_DATABASE_URL, schema: created.schema, applicationName: 'orchestration-due-rows-test', log, max: 8 });
  await pool.query(`CREATE SCHEMA ${created.schema}`);
  await pool.query(`CREATE TABLE ${created.schema}.due (id int PRIMARY KEY, org_id text NOT NULL, due_at timestamptz NOT NULL, handled int NOT NULL DEFAULT 0, handled_by text[] NOT NULL DEFAULT '{}')`);
});

afterAll(async () => {
  await pool?.end();
  await drop?.();
});

/** `n` due rows, spread over three organizations. */
async function seed(n: number): Promise<void> {
  await pool.query('TRUNCATE due');
  await pool.query(`INSERT INTO due (id, org_id, due_at) SELECT g, 'org-' || (g % 3), now() - interval '1 second' FROM generate_series(1, $1::int) g`, [n]);
}

/** The rows as a ticker would see them: `failing` makes a row's handling throw inside its transaction (after its claim and write). */
function dueRows(name: string, { batch = 1, failing = new Set<number>(), passSize = 1_000, afterFind }: { batch?: number; failing?: Set<number>; passSize?: number; afterFind?: () => Promise<void> } = {}): DueRows<Ref> {
  return {
    passSize,
    findDue: async (limit) => {
      const found = (await pool.query<Ref>(`SELECT id, org_id AS "orgId" FROM due WHERE due_at <= now() ORDER BY id LIMIT $1`, [limit])).rows;
      await afterFind?.();
      return found;
    },
    batches: (due) => batchesByOrg(due, batch),
    parallel: 3,
    handle: (refs) =>
      withSystemTransaction(pool, async (tx) => {
        const { rows } = await tx.query<{ id: number }>(`SELECT id FROM due WHERE id = ANY($1::int[]) AND due_at <= now() ORDER BY id FOR UPDATE SKIP LOCKED`, [refs.map((r) => r.id)]);
        // Long enough for the other loop's pass to reach the same rows while these are held.
        await tx.query('SELECT pg_sleep(0.02)');
        await tx.query(`UPDATE due SET handled = handled + 1, handled_by = handled_by || $2::text, due_at = now() + interval '1 hour' WHERE id = ANY($1::int[])`, [rows.map((r) => r.id), name]);
        const bad = rows.find((r) => failing.has(r.id));
        if (bad) throw new Error(`row ${bad.id} cannot be handled`);
        return rows.length;
      }),
    describe: (ref) => ({ rowId: ref.id, orgId: ref.orgId }),
    describeBatch: (refs) => ({ orgId: refs[0]?.orgId }),
    messages: { rowFailed: 'row failed', batchFailed: 'batch failed' },
  };
}

/** Resolves the first `parties` calls together, once all of them have arrived; later calls at once. */
function rendezvous(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const met = new Promise<void>((resolve) => (release = resolve));
  return () => {
    arrived += 1;
    if (arrived === parties) release();
    return arrived > parties ? Promise.resolve() : met;
  };
}

const handledCounts = async () => (await pool.query<{ id: number; handled: number; handled_by: string[] }>('SELECT id, handled, handled_by FROM due ORDER BY id')).rows;

describe('due rows', () => {
  it('claims each due row once across two loops passing at the same time', async () => {
    await seed(60);
    // The two passes meet after their reads, so both hold every row before either claims one (on a
    // busy machine one pass could otherwise handle rows before the other has read them).
    const afterFind = rendezvous(2);
    const a = duePass(dueRows('a', { batch: 4, afterFind }), log);
    const b = duePass(dueRows('b', { batch: 4, afterFind }), log);
    const [ra, rb] = await Promise.all([a(), b()]);
    // Both read every row; between them they handled each exactly once.
    expect(ra.found).toBe(60);
    expect(rb.found).toBe(60);
    expect(ra.handled + rb.handled).toBe(60);
    const rows = await handledCounts();
    expect(rows.map((r) => r.handled)).toEqual(Array.from({ length: 60 }, () => 1));
    expect(rows.filter((r) => r.handled_by[0] === 'a').length).toBe(ra.handled);
    // Nothing is due any more: another pass handles nothing.
    expect(await a()).toEqual({ found: 0, handled: 0 });
  });

  it('with two running loops, handles every row once as rows come due', async () => {
    await seed(0);
    const loops = ['a', 'b'].map((name) => createDueRowsLoop({ passes: [{ pass: duePass(dueRows(name, { batch: 5, passSize: 7 }), log), passSize: 7 }], log, intervalMs: 20, passFailed: 'pass failed' }));
    for (const loop of loops) loop.start();
    try {
      await pool.query(`INSERT INTO due (id, org_id, due_at) SELECT g, 'org-' || (g % 2), now() + (g % 5) * interval '100 milliseconds' FROM generate_series(1, 40) g`);
      await eventually(async () => (await handledCounts()).every((r) => r.handled > 0), { timeoutMs: 20_000, what: 'every row handled' });
    } finally {
      await Promise.all(loops.map((loop) => loop.stop()));
    }
    expect((await handledCounts()).map((r) => r.handled)).toEqual(Array.from({ length: 40 }, () => 1));
  });

  it('survives an error in one row: its batch goes one row per transaction, the others are handled, it stays due', async () => {
    await seed(12);
    log.lines.length = 0;
    const failing = new Set([5]);
    const pass = duePass(dueRows('a', { batch: 4, failing }), log);
    const result = await pass();
    expect(result).toEqual({ found: 12, handled: 11 });
    const rows = await handledCounts();
    // The failed row's write was rolled back with its transaction: it is still due, never counted.
    expect(rows.find((r) => r.id === 5)).toMatchObject({ handled: 0 });
    expect(rows.filter((r) => r.id !== 5).every((r) => r.handled === 1)).toBe(true);
    // Row 5 is of org-2 (5 % 3), batched with 2, 8 and 11: that batch failed once, then row 5 alone.
    expect(log.lines.filter((l) => l['msg'] === 'batch failed')).toEqual([expect.objectContaining({ orgId: 'org-2', rows: 4 })]);
    expect(log.lines.filter((l) => l['msg'] === 'row failed')).toEqual([expect.objectContaining({ rowId: 5, orgId: 'org-2' })]);
    // The next pass, the fault gone, handles it.
    failing.clear();
    expect(await pass()).toEqual({ found: 1, handled: 1 });
    expect((await handledCounts()).every((r) => r.handled === 1)).toBe(true);
  });

  it('keeps looping after a pass fails as a whole', async () => {
    await seed(3);
    log.lines.length = 0;
    let calls = 0;
    const rows = dueRows('a');
    const flaky: DueRows<Ref> = {
      ...rows,
      findDue: (limit) => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error('database away')) : rows.findDue(limit);
      },
    };
    const loop = createDueRowsLoop({ passes: [{ pass: duePass(flaky, log), passSize: flaky.passSize }], log, intervalMs: 20, passFailed: 'pass failed' });
    loop.start();
    try {
      await eventually(async () => (await handledCounts()).every((r) => r.handled === 1), { timeoutMs: 10_000, what: 'the rows handled after the failed pass' });
    } finally {
      await loop.stop();
    }
    expect(log.lines.filter((l) => l['msg'] === 'pass failed')).toHaveLength(1);
  });

  describe('while idle (issue 11)', () => {
    const empty = { found: 0, full: false };
    const policy = (idle: IdleBackoff | undefined, idleMs: number, nextDueInMs?: number) => sleepAfterPass(empty, { intervalMs: 100, idle, idleMs, nextDueInMs });

    it('without due times, doubles its sleep after each empty pass up to maxMs; a pass that finds rows goes back to the interval', () => {
      const idle = { maxMs: 1_000 };
      const sleeps: number[] = [];
      let idleMs = 100;
      for (let i = 0; i < 6; i += 1) {
        const next = policy(idle, idleMs);
        sleeps.push(next.sleepMs);
        idleMs = next.nextIdleMs;
      }
      expect(sleeps).toEqual([100, 200, 400, 800, 1_000, 1_000]);
      expect(sleepAfterPass({ found: 3, full: false }, { intervalMs: 100, idle, idleMs, nextDueInMs: undefined })).toEqual({ sleepMs: 100, nextIdleMs: 100 });
      expect(sleepAfterPass({ found: 7, full: true }, { intervalMs: 100, idle, idleMs, nextDueInMs: undefined })).toEqual({ sleepMs: 0, nextIdleMs: 100 });
      // A failed pass looks again after the interval.
      expect(sleepAfterPass(undefined, { intervalMs: 100, idle, idleMs, nextDueInMs: undefined }).sleepMs).toBe(100);
      // Without idle settings: the interval, always.
      expect(policy(undefined, 800).sleepMs).toBe(100);
    });

    it('with due times, sleeps until the next one (at most maxMs), and never spins on one already due', () => {
      const idle = { maxMs: 60_000, nextDueInMs: () => Promise.resolve(undefined) };
      expect(policy(idle, 100, 2_500).sleepMs).toBe(2_500);
      expect(policy(idle, 100, 30).sleepMs).toBe(30);
      expect(policy(idle, 100, 600_000).sleepMs).toBe(60_000);
      expect(policy(idle, 100, undefined).sleepMs).toBe(60_000);
      expect(policy(idle, 100, 0).sleepMs).toBe(100);
      expect(policy(idle, 100, -5_000).sleepMs).toBe(100);
    });

    /** Handled counts once the rows are in; `findCalls` counts the loop's passes. */
    function counting(rows: DueRows<Ref>): { rows: DueRows<Ref>; passes: () => number } {
      let calls = 0;
      return {
        rows: {
          ...rows,
          findDue: (limit) => {
            calls += 1;
            return rows.findDue(limit);
          },
        },
        passes: () => calls,
      };
    }

    it('a sleeping loop wakes at the due time it read, not after its longest sleep', async () => {
      await seed(0);
      // Due 2 s from now: far enough that the loop's first pass and its read of the due time cannot straddle
      // it on a loaded machine. If they did (the pass before, the read after), the read says "due already",
      // and the loop looks again after its interval — ten minutes here (CI once timed out that way at 700 ms).
      await pool.query(`INSERT INTO due (id, org_id, due_at) VALUES (1, 'org-1', now() + interval '2 seconds')`);
      const rows = dueRows('a');
      const idle: IdleBackoff = {
        // Ten minutes without its due time: only the due time can bring it back within the test's wait.
        maxMs: 600_000,
        nextDueInMs: async () => (await pool.query<{ ms: number | null }>(`SELECT extract(epoch FROM min(due_at) - now())::float8 * 1000 AS ms FROM due WHERE handled = 0`)).rows[0]?.ms ?? undefined,
      };
      const loop = createDueRowsLoop({ passes: [{ pass: duePass(rows, log), passSize: rows.passSize }], log, intervalMs: 600_000, idle, passFailed: 'pass failed' });
      loop.start();
      try {
        await eventually(async () => (await handledCounts()).every((r) => r.handled === 1), { timeoutMs: 20_000, what: 'the row handled at its due time' });
      } finally {
        await loop.stop();
      }
    });

    it('wake() brings a loop sleeping for a long time back within its interval; without it, the loop sleeps on', async () => {
      await seed(0);
      const { rows, passes } = counting(dueRows('a'));
      let emptyPasses = 0;
      const idle: IdleBackoff = {
        maxMs: 600_000,
        // Read after a pass that found nothing (its read is over): no due time is known.
        nextDueInMs: () => {
          emptyPasses += 1;
          return Promise.resolve(undefined);
        },
      };
      const loop = createDueRowsLoop({ passes: [{ pass: duePass(rows, log), passSize: rows.passSize }], log, intervalMs: 50, idle, passFailed: 'pass failed' });
      loop.start();
      try {
        await eventually(() => emptyPasses >= 1, { timeoutMs: 20_000, what: 'the first pass' });
        // Nothing was due and no due time is known: the loop now sleeps ten minutes.
        await pool.query(`INSERT INTO due (id, org_id, due_at) VALUES (1, 'org-1', now() - interval '1 second')`);
        await new Promise((r) => setTimeout(r, 300));
        expect((await handledCounts())[0]?.handled).toBe(0);
        loop.wake();
        await eventually(async () => (await handledCounts()).every((r) => r.handled === 1), { timeoutMs: 20_000, what: 'the row handled after wake()' });
        // After finding rows it runs every interval again (a second pass found nothing and went back to sleep).
        await eventually(() => passes() >= 3, { timeoutMs: 20_000, what: 'the pass after the busy one' });
      } finally {
        await loop.stop();
      }
    });
  });
});
