// The task-path bench's same-run baselines (bench/task-path.ts): raw BullMQ and raw PostgreSQL on this machine.
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '@orchestra/lib';

/** Raw BullMQ on the same Redis: no-op jobs at concurrency 64, added while processing, and drained after all were added. */
export async function bullmqBaseline(jobs: number): Promise<{ addAndProcess: number; drain: number }> {
  const prefix = `bench:${randomBytes(4).toString('hex')}`;
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('baseline', { connection, prefix });
  const run = async (addFirst: boolean): Promise<number> => {
    let done = 0;
    let allDone = () => {};
    const finishedAll = new Promise<void>((resolve) => (allDone = resolve));
    const add = async () => {
      for (let i = 0; i < jobs; i += 1_000) {
        await queue.addBulk(Array.from({ length: Math.min(1_000, jobs - i) }, (_, k) => ({ name: 'noop', data: { i: i + k }, opts: { removeOnComplete: true } })));
      }
    };
    if (addFirst) await add();
    const workerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const started = Date.now();
    const worker = new Worker(
      'baseline',
      async () => {
        done += 1;
        if (done === jobs) allDone();
      },
      { connection: workerConnection, prefix, concurrency: 64 },
    );
    if (!addFirst) await add();
    await finishedAll;
    const rate = jobs / ((Date.now() - started) / 1000);
    await worker.close();
    workerConnection.disconnect();
    return rate;
  };
  const addAndProcess = await run(false);
  const drain = await run(true);
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { addAndProcess, drain };
}

/** Raw PostgreSQL write transactions (BEGIN; INSERT; COMMIT) from 32 connections for `ms`, on a schema of its own. */
export async function postgresBaseline(ms: number): Promise<number> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 32 });
  try {
    await pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.t (id bigserial PRIMARY KEY, body jsonb NOT NULL)`);
    let count = 0;
    const end = Date.now() + ms;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        const client = await pool.connect();
        try {
          while (Date.now() < end) {
            await client.query('BEGIN');
            await client.query(`INSERT INTO ${schema}.t (body) VALUES ($1)`, [JSON.stringify({ at: Date.now() })]);
            await client.query('COMMIT');
            count += 1;
          }
        } finally {
          client.release();
        }
      }),
    );
    return count / ((Date.now() - started) / 1000);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await pool.end();
  }
}
