import { join } from 'node:path';
import type pg from 'pg';
import { createPool, withSystemTransaction, withTenantTransaction, type ServicePool } from './db';
import { newId } from './ids';
import { createMemoryLogger } from './log';
import { enableServiceLogins, runMigrations, serviceRoleOf } from './migrate';
import { createTestSchema, TEST_DATABASE_URL } from './testing';

// Issue 9, item 15: a service logs in as a role that owns nothing, is no superuser and cannot reach
// one, and whose tenant transactions run on a login of the tenant role, from which no RESET ROLE or
// SET ROLE leads to a role that sees another organization's rows.

const log = createMemoryLogger();
const TENANT_ROLE = 'orchestra_libroles_tenant';
const SERVICE_ROLE = serviceRoleOf(TENANT_ROLE);
const DIR = join(__dirname, '__fixtures__', 'migrations');
const orgA = newId();
const orgB = newId();

const loginUrl = (user: string, password: string): string => {
  const url = new URL(TEST_DATABASE_URL);
  url.username = user;
  url.password = password;
  return url.toString();
};

let owner: ServicePool;
let service: ServicePool;
let fallback: ServicePool;
let schema: string;
let drop: () => Promise<void>;
let otherSchema: { schema: string; drop: () => Promise<void> };

beforeAll(async () => {
  ({ schema, drop } = await createTestSchema('libroles'));
  otherSchema = await createTestSchema('libroles_other');
  owner = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'lib-roles-owner', log });
  await runMigrations({ pool: owner, schema, dir: DIR, tenantRole: TENANT_ROLE, log });
  await enableServiceLogins(owner, TENANT_ROLE, { service: 'service-password', tenant: 'tenant-password' });
  await owner.query('INSERT INTO notes (id, org_id, body) VALUES ($1, $2, $3), ($4, $5, $6)', [newId(), orgA, 'a note of A', newId(), orgB, 'a note of B']);
  await owner.query(`CREATE SCHEMA IF NOT EXISTS "${otherSchema.schema}"`);
  await owner.query(`CREATE TABLE "${otherSchema.schema}".private (secret text)`);
  service = createPool({ url: loginUrl(SERVICE_ROLE, 'service-password'), tenantUrl: loginUrl(TENANT_ROLE, 'tenant-password'), schema, applicationName: 'lib-roles', log, max: 2 });
  fallback = createPool({ url: loginUrl(SERVICE_ROLE, 'service-password'), schema, applicationName: 'lib-roles-fallback', log, max: 2 });
});

afterAll(async () => {
  await Promise.all([service?.end(), fallback?.end()]);
  await owner?.end();
  await drop();
  await otherSchema.drop();
});

const failure = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'it succeeded',
    (error: unknown) => (error as Error).message,
  );

describe('the service role', () => {
  it('is no superuser, bypasses no row-level security, creates no roles or databases, and is a member of no superuser role', async () => {
    const { rows } = await service.query<Record<string, boolean>>(
      `SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
              EXISTS (SELECT 1 FROM pg_roles s WHERE s.rolsuper AND pg_has_role(current_user, s.oid, 'MEMBER')) AS reaches_superuser
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, reaches_superuser: false });
    expect((await service.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe(SERVICE_ROLE);
  });

  it('owns nothing and may not change the schema', async () => {
    const { rows } = await owner.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname IN ($1, $2)`,
      [SERVICE_ROLE, TENANT_ROLE],
    );
    expect(rows[0]!.n).toBe(0);
    expect(await failure(service.query('CREATE TABLE sneaky (x int)'))).toMatch(/permission denied for schema/);
    expect(await failure(service.query('DROP TABLE notes'))).toMatch(/must be owner/);
    expect(await failure(service.query('ALTER TABLE notes DISABLE ROW LEVEL SECURITY'))).toMatch(/must be owner/);
    expect(await failure(service.query('SELECT * FROM schemaversion'))).toMatch(/permission denied/);
  });

  it('cannot become a superuser, run programs on the server, or read another service\'s schema', async () => {
    expect(await failure(service.query('SET ROLE postgres'))).toMatch(/permission denied to set role/);
    expect(await failure(service.query('SET SESSION AUTHORIZATION postgres'))).toMatch(/permission denied to set session authorization/);
    expect(await failure(service.query("SELECT set_config('role', 'postgres', false)"))).toMatch(/permission denied to set role/);
    expect(await failure(service.query("COPY (SELECT 1) TO PROGRAM 'true'"))).toMatch(/permission denied|must be superuser|pg_execute_server_program/);
    expect(await failure(service.query(`SELECT * FROM "${otherSchema.schema}".private`))).toMatch(/permission denied for schema/);
  });

  it('sees every organization\'s rows in system transactions (its policy), like the owner did', async () => {
    const bodies = await withSystemTransaction(service, async (tx) => (await tx.query<{ body: string }>('SELECT body FROM notes ORDER BY body')).rows.map((r) => r.body));
    expect(bodies).toEqual(['a note of A', 'a note of B']);
  });
});

describe('tenant transactions on the tenant login', () => {
  const inA = <T>(fn: (tx: pg.PoolClient) => Promise<T>) => withTenantTransaction(service, TENANT_ROLE, { orgId: orgA }, fn);
  const bodies = async (tx: pg.PoolClient) => (await tx.query<{ body: string }>('SELECT body FROM notes ORDER BY body')).rows.map((r) => r.body);

  it('run as the tenant role and see only their organization', async () => {
    expect(await inA(async (tx) => ({ user: (await tx.query<{ u: string }>('SELECT session_user AS u')).rows[0]!.u, bodies: await bodies(tx) }))).toEqual({ user: TENANT_ROLE, bodies: ['a note of A'] });
  });

  it('cannot leave row-level security: RESET ROLE stays the tenant role, SET ROLE to the service role or a superuser is refused', async () => {
    expect(await inA(async (tx) => {
      await tx.query('RESET ROLE');
      return bodies(tx);
    })).toEqual(['a note of A']);
    for (const role of [SERVICE_ROLE, 'postgres']) {
      expect(await failure(inA((tx) => tx.query(`SET ROLE ${role}`)))).toMatch(/permission denied to set role/);
      expect(await failure(inA((tx) => tx.query("SELECT set_config('role', $1, true)", [role])))).toMatch(/permission denied to set role/);
    }
    expect(await failure(inA((tx) => tx.query('SET SESSION AUTHORIZATION postgres')))).toMatch(/permission denied/);
    expect(await failure(inA((tx) => tx.query('INSERT INTO notes (id, org_id, body) VALUES ($1, $2, $3)', [newId(), orgB, 'planted in B'])))).toMatch(/row-level security/);
  });

  it('without a tenant login fall back to SET ROLE on the service login, still bound to their organization', async () => {
    const seen = await withTenantTransaction(fallback, TENANT_ROLE, { orgId: orgB }, async (tx) => ({ user: (await tx.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u, bodies: await bodies(tx) }));
    expect(seen).toEqual({ user: TENANT_ROLE, bodies: ['a note of B'] });
  });
});
