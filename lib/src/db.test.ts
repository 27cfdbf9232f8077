import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { recordAudit } from './audit';
import { createPool, queryThenCommit, withSystemTransaction, withTenantTransaction, type Pool } from './db';
import { toAppError, toGrpcStatus } from './errors';
import { toClientGraphQLError } from './graphql-errors';
import { newId } from './ids';
import { createMemoryLogger } from './log';
import { runMigrations } from './migrate';
import { anonymousPrincipal } from './principal';
import { createTestSchema, TEST_DATABASE_URL } from './testing';

const log = createMemoryLogger();
const TENANT_ROLE = 'orchestra_libtest_tenant';
let pool: Pool;
let drop: () => Promise<void>;
const orgA = newId();
const orgB = newId();

beforeAll(async () => {
  const test = await createTestSchema('libdb');
  drop = test.drop;
  pool = createPool({ url: TEST_DATABASE_URL, schema: test.schema, applicationName: 'lib-test', log });
  await runMigrations({ pool, schema: test.schema, dir: join(__dirname, '__fixtures__', 'migrations'), tenantRole: TENANT_ROLE, log });
});

afterAll(async () => {
  await pool.end();
  await drop();
});

describe('migrations', () => {
  it('apply once; a second run applies nothing', async () => {
    const { rows } = await pool.query<{ version: number }>('SELECT version FROM schemaversion WHERE version > 0 ORDER BY version');
    expect(rows.map((r) => Number(r.version))).toEqual([1]);
    const again = await runMigrations({ pool, schema: (await pool.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s, dir: join(__dirname, '__fixtures__', 'migrations'), tenantRole: TENANT_ROLE, log });
    expect(again).toEqual([]);
  });

  it('run concurrently without failing (advisory lock)', async () => {
    const schema = (await pool.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    const runs = await Promise.all([1, 2, 3].map(() => runMigrations({ pool, schema, dir: join(__dirname, '__fixtures__', 'migrations'), tenantRole: TENANT_ROLE, log })));
    expect(runs.flat()).toEqual([]);
  });
});

describe('tenant transactions (row-level security)', () => {
  beforeAll(async () => {
    await withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, (tx) => tx.query('INSERT INTO notes VALUES ($1, $2, $3)', [newId(), orgA, 'a1']));
    await withTenantTransaction(pool, TENANT_ROLE, { orgId: orgB }, (tx) => tx.query('INSERT INTO notes VALUES ($1, $2, $3)', [newId(), orgB, 'b1']));
  });

  it('see only their org, whatever the SQL asks for', async () => {
    const rows = await withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, async (tx) => (await tx.query('SELECT body FROM notes')).rows);
    expect(rows).toEqual([{ body: 'a1' }]);
    const other = await withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, async (tx) => (await tx.query('SELECT body FROM notes WHERE org_id = $1', [orgB])).rows);
    expect(other).toEqual([]);
  });

  it('cannot write rows of another org', async () => {
    await expect(
      withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, (tx) => tx.query('INSERT INTO notes VALUES ($1, $2, $3)', [newId(), orgB, 'sneaky'])),
    ).rejects.toThrow(/row-level security/);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM notes WHERE body = 'sneaky'");
    expect(rows[0]).toEqual({ n: 0 });
  });

  it('leave no tenant setting behind on the pooled connection', async () => {
    const { rows } = await pool.query<{ role: string; org: string | null }>("SELECT current_user AS role, nullif(current_setting('app.org_id', true), '') AS org");
    expect(rows[0]!.org).toBeNull();
    expect(rows[0]!.role).not.toBe(TENANT_ROLE);
  });

  it('set the role and the scope with the BEGIN as values: quotes and backslashes in them stay text', async () => {
    const userId = String.raw`o'hara\'); SELECT set_config('role', 'postgres', true); --`;
    const seen = await withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA, userId }, async (tx) =>
      (await tx.query<{ role: string; org: string; user: string }>("SELECT current_user AS role, current_setting('app.org_id') AS org, current_setting('app.user_id') AS user")).rows[0],
    );
    expect(seen).toEqual({ role: TENANT_ROLE, org: orgA, user: userId });
    // A scope that is not an organization id reads nothing (current_org_id() refuses it), it is not SQL.
    await expect(withTenantTransaction(pool, TENANT_ROLE, { orgId: "x' OR true --" }, (tx) => tx.query('SELECT body FROM notes'))).rejects.toThrow(/invalid input syntax for type uuid/);
  });

  it('system transactions see every org', async () => {
    const n = await withSystemTransaction(pool, async (tx) => (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM notes')).rows[0]!.n);
    expect(n).toBe(2);
  });

  it('roll back everything when the function throws', async () => {
    await expect(
      withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2, $3)', [newId(), orgA, 'half']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM notes WHERE body = 'half'");
    expect(rows[0]).toEqual({ n: 0 });
  });
});

describe('pooled connections', () => {
  it('run without JIT (no planner statistics here: a compile can cost seconds for a statement of milliseconds)', async () => {
    const alone = await pool.query<{ jit: string }>('SHOW jit');
    expect(alone.rows[0]!.jit).toBe('off');
    const inTenant = await withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, async (tx) => (await tx.query<{ jit: string }>('SHOW jit')).rows[0]!.jit);
    expect(inTenant).toBe('off');
  });
});

describe('audit outbox (shared migration)', () => {
  it('takes events of the tenant org only', async () => {
    const principal = { ...anonymousPrincipal('req_t'), kind: 'user' as const, id: 'u', orgId: orgA };
    await withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, (tx) => recordAudit(tx, 'lib', principal, { action: 'note.create', targetType: 'Note' }));
    await expect(
      withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, (tx) => recordAudit(tx, 'lib', { ...principal, orgId: orgB }, { action: 'note.create', targetType: 'Note' })),
    ).rejects.toThrow(/row-level security/);
    const { rows } = await pool.query<{ org_id: string; event: { action: string; requestId: string } }>('SELECT org_id, event FROM audit_outbox');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ org_id: orgA, event: { action: 'note.create', requestId: 'req_t' } });
  });
});

describe('statement count', () => {
  it('counts every statement the pool sends, in transactions and alone, on /metrics', async () => {
    const { createMetrics } = await import('./metrics');
    const metrics = createMetrics('db-test', { defaultMetrics: false });
    const schema = (await pool.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    const counted = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'lib-test-count', log, metrics, max: 2 });
    try {
      const count = async () => (await metrics.registry.getSingleMetric('orchestra_db_statements_total')!.get()).values[0]?.value ?? 0;
      await counted.query('SELECT 1');
      expect(await count()).toBe(1);
      await withSystemTransaction(counted, async (tx) => {
        await tx.query('SELECT 1');
        await tx.query('SELECT 2');
      });
      expect(await count()).toBe(5); // BEGIN, two statements, COMMIT
    } finally {
      await counted.end();
    }
  });
});

describe('queryThenCommit (the last statement with the COMMIT, one round trip)', () => {
  const bodies = async (like: string) => (await pool.query<{ body: string }>('SELECT body FROM notes WHERE body LIKE $1 ORDER BY body', [like])).rows.map((r) => r.body);

  it('commits with the statement: one statement fewer than BEGIN … COMMIT, the rows seen by another connection', async () => {
    const { createMetrics } = await import('./metrics');
    const metrics = createMetrics('db-test-commit', { defaultMetrics: false });
    const schema = (await pool.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    const counted = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'lib-test-commit', log, metrics, max: 1 });
    try {
      const count = async () => (await metrics.registry.getSingleMetric('orchestra_db_statements_total')!.get()).values[0]?.value ?? 0;
      const answer = await withTenantTransaction(counted, TENANT_ROLE, { orgId: orgA }, async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2, $3)', [newId(), orgA, 'qtc-1']);
        return (await queryThenCommit<{ body: string }>(tx, { name: 'qtc-insert', text: 'INSERT INTO notes VALUES ($1, $2, $3) RETURNING body', values: [newId(), orgA, 'qtc-2'] })).rows;
      });
      expect(answer).toEqual([{ body: 'qtc-2' }]);
      expect(await count()).toBe(3); // BEGIN with the settings, the insert, the insert with the COMMIT
      expect(await bodies('qtc-%')).toEqual(['qtc-1', 'qtc-2']);
      // The connection goes on as usual (the named statement is prepared on it now).
      await withTenantTransaction(counted, TENANT_ROLE, { orgId: orgA }, (tx) => queryThenCommit(tx, { name: 'qtc-insert', text: 'INSERT INTO notes VALUES ($1, $2, $3) RETURNING body', values: [newId(), orgA, 'qtc-3'] }));
      expect(await count()).toBe(5);
      expect(await bodies('qtc-%')).toEqual(['qtc-1', 'qtc-2', 'qtc-3']);
    } finally {
      await counted.end();
    }
  });

  it('commits nothing when the statement fails, and the transaction is retried or rolled back as before', async () => {
    const id = newId();
    await expect(
      withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, async (tx) => {
        await tx.query('INSERT INTO notes VALUES ($1, $2, $3)', [id, orgA, 'qtc-fail-1']);
        await queryThenCommit(tx, { text: 'INSERT INTO notes VALUES ($1, $2, $3)', values: [id, orgA, 'qtc-fail-2'] });
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await bodies('qtc-fail-%')).toEqual([]);
  });

  it('fails with the COMMIT when the COMMIT fails (a deferred constraint), committing nothing', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS qtc_deferred (id int, CONSTRAINT qtc_deferred_one UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)');
    await expect(
      withSystemTransaction(pool, async (tx) => {
        await tx.query('INSERT INTO qtc_deferred VALUES (1)');
        await queryThenCommit(tx, { text: 'INSERT INTO qtc_deferred VALUES ($1)', values: [1] });
      }),
    ).rejects.toMatchObject({ code: '23505', constraint: 'qtc_deferred_one' });
    expect((await pool.query('SELECT count(*)::int AS n FROM qtc_deferred')).rows[0]).toEqual({ n: 0 });
    // The pooled connection is usable after it.
    await withSystemTransaction(pool, (tx) => queryThenCommit(tx, { text: 'INSERT INTO qtc_deferred VALUES ($1)', values: [2] }));
    expect((await pool.query('SELECT count(*)::int AS n FROM qtc_deferred')).rows[0]).toEqual({ n: 1 });
  });

  it('refuses a statement after it, and a transaction that committed is neither rolled back nor run again', async () => {
    let runs = 0;
    await expect(
      withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, async (tx) => {
        runs += 1;
        await queryThenCommit(tx, { text: 'INSERT INTO notes VALUES ($1, $2, $3)', values: [newId(), orgA, 'qtc-after-1'] });
        await tx.query('INSERT INTO notes VALUES ($1, $2, $3)', [newId(), orgA, 'qtc-after-2']);
      }),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(runs).toBe(1);
    expect(await bodies('qtc-after-%')).toEqual(['qtc-after-1']);
    // The next transaction on the pool's connections gets its query function back.
    const n = await withTenantTransaction(pool, TENANT_ROLE, { orgId: orgA }, async (tx) => (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM notes WHERE body LIKE 'qtc-after-%'")).rows[0]!.n);
    expect(n).toBe(1);
  });
});

describe('a pool with no connection free in time', () => {
  it('fails the request as UNAVAILABLE (DATABASE_BUSY) with its request id, not as INTERNAL', async () => {
    // One connection, held: the next transaction waits for it past the pool's connect timeout (what load does to a full pool).
    // The holder connects with a generous timeout (a loaded CI machine can take longer than 50 ms to open a
    // connection); only then is the pool's wait shortened for the request under test.
    const small = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1, connectionTimeoutMillis: 10_000 });
    const held = await small.connect();
    small.options.connectionTimeoutMillis = 50;
    try {
      const error = await withSystemTransaction(small, (tx) => tx.query('SELECT 1')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      const appError = toAppError(error);
      expect(appError).toMatchObject({ code: 'UNAVAILABLE', reason: 'DATABASE_BUSY', message: 'the database is busy: no connection came free in time; try again shortly' });
      expect(appError.cause).toBe(error);
      const client = toClientGraphQLError(error, 'req_busy');
      expect(client.message).toBe('the database is busy: no connection came free in time; try again shortly');
      expect(client.extensions).toEqual({ code: 'UNAVAILABLE', reason: 'DATABASE_BUSY', requestId: 'req_busy' });
      const grpcStatus = toGrpcStatus(error, 'req_busy');
      expect(grpcStatus.code).toBe(status.UNAVAILABLE);
      expect(grpcStatus.metadata?.get('x-request-id')).toEqual(['req_busy']);
    } finally {
      held.release();
      await small.end();
    }
  });
});
