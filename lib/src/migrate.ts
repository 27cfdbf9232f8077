import { join } from 'node:path';
import type pg from 'pg';
import type { Logger } from './log';
import { assertSchemaName, TENANT_FUNCTIONS_SQL } from './db';

export interface MigrateOptions {
  pool: pg.Pool;
  schema: string;
  /** Folder of postgrator files: 001.do.<name>.sql, 002.do.<name>.sql ... */
  dir: string;
  /** The NOLOGIN role tenant transactions switch to (row-level security applies to it). */
  tenantRole: string;
  log: Logger;
}

/** Migrations lib ships to every service (the audit outbox), kept in their own version table. */
export const SHARED_MIGRATIONS_DIR = join(__dirname, '..', 'migrations');

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * The service role of a tenant role (`orchestra_identity_tenant` → `orchestra_identity_service`): the
 * login a service's system work runs as. It owns nothing, is no superuser and cannot bypass row-level
 * security; a policy on each secured table of its schema admits it to every row (runMigrations).
 */
export const serviceRoleOf = (tenantRole: string): string => `${tenantRole.replace(/_tenant$/, '')}_service`;

/** The name of the policy that admits the service role to every row of a secured table. */
const SERVICE_POLICY = 'orchestra_service_all';

/** Creates a role unless it exists (roles are cluster-wide: call under the roles lock). */
async function ensureRole(client: pg.PoolClient, role: string, attributes: string): Promise<void> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (rowCount === 0) await client.query(`CREATE ROLE ${quoteIdent(role)} ${attributes}`);
}

async function runPostgrator(client: pg.PoolClient, schema: string, dir: string, table: string): Promise<string[]> {
  // postgrator is ESM-only: a real dynamic import (kept as import() by the jest/swc config).
  const { default: Postgrator } = await import('postgrator');
  const postgrator = new Postgrator({
    migrationPattern: join(dir, '*.sql'),
    driver: 'pg',
    schemaTable: `${schema}.${table}`,
    currentSchema: schema,
    validateChecksums: true,
    execQuery: (query: string) => client.query(query),
  });
  const applied = await postgrator.migrate();
  return applied.map((m) => `${m.version}.${m.name}`);
}

/**
 * Brings the service's schema up to date: creates the schema and the tenant role, applies the
 * service's migrations and lib's shared ones, and grants the tenant role what it may touch.
 * Serialized across processes by an advisory lock, so replicas can start together.
 */
export async function runMigrations({ pool, schema, dir, tenantRole, log }: MigrateOptions): Promise<string[]> {
  assertSchemaName(schema);
  assertSchemaName(tenantRole);
  const serviceRole = assertSchemaName(serviceRoleOf(tenantRole));
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`orchestra-migrate:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(`SET search_path TO ${quoteIdent(schema)}, public`);
      // Roles are cluster-wide; several schemas (test suites, services) may race to create one.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', ['orchestra-migrate:roles']);
      try {
        await ensureRole(client, tenantRole, 'NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS');
        await ensureRole(client, serviceRole, 'NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS');
        // The service role may SET ROLE to its tenant role (tenant transactions without a tenant login).
        await client.query(`GRANT ${quoteIdent(tenantRole)} TO ${quoteIdent(serviceRole)}`);
        // Lets a non-superuser owner SET ROLE to it (a superuser may anyway).
        const { rows } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
        if (rows[0]?.rolsuper !== true) await client.query(`GRANT ${quoteIdent(tenantRole)} TO CURRENT_USER`);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['orchestra-migrate:roles']);
      }
      await client.query(TENANT_FUNCTIONS_SQL);
      const applied = [
        ...(await runPostgrator(client, schema, dir, 'schemaversion')),
        ...(await runPostgrator(client, schema, SHARED_MIGRATIONS_DIR, 'shared_schemaversion')).map((m) => `shared:${m}`),
      ];
      const s = quoteIdent(schema);
      // The tenant role and the service role use the tables; neither owns anything or may create in the schema.
      for (const r of [quoteIdent(tenantRole), quoteIdent(serviceRole)]) {
        await client.query(`
          GRANT USAGE ON SCHEMA ${s} TO ${r};
          GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r};
          GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r};
          GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${r};
          REVOKE ALL ON ${s}.schemaversion, ${s}.shared_schemaversion FROM ${r};
        `);
      }
      // Every table under row-level security admits the service role to all its rows (its system work
      // spans organizations); tenant transactions stay bound by the tables' own policies.
      const { rows: secured } = await client.query<{ table: string }>(
        `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relrowsecurity
            AND NOT EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = $2)`,
        [schema, SERVICE_POLICY],
      );
      for (const { table } of secured) {
        await client.query(`CREATE POLICY ${SERVICE_POLICY} ON ${s}.${quoteIdent(table)} TO ${quoteIdent(serviceRole)} USING (true) WITH CHECK (true)`);
      }
      if (applied.length > 0) log.info('migrations applied', { schema, applied });
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`orchestra-migrate:${schema}`]);
    }
  } finally {
    client.release();
  }
}

export interface LoginPasswords {
  /** The service role's password (its system work). */
  service: string;
  /** The tenant role's password (its tenant transactions). */
  tenant: string;
}

/**
 * Lets a service's two roles log in, with these passwords: what `npm start` and the migration Job
 * do (as the schema's owner, with CREATEROLE) before starting services on those logins. The roles
 * must exist (runMigrations creates them).
 */
export async function enableServiceLogins(pool: pg.Pool, tenantRole: string, passwords: LoginPasswords): Promise<void> {
  assertSchemaName(tenantRole);
  const client = await pool.connect();
  try {
    for (const [role, password] of [
      [serviceRoleOf(tenantRole), passwords.service],
      [tenantRole, passwords.tenant],
    ] as const) {
      await client.query(`ALTER ROLE ${quoteIdent(role)} LOGIN PASSWORD ${client.escapeLiteral(password)}`);
    }
  } finally {
    client.release();
  }
}

/** Drops a schema and everything in it (tests). */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  assertSchemaName(schema);
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
}
