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
const SHARED_MIGRATIONS_DIR = join(__dirname, '..', 'migrations');

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

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
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`orchestra-migrate:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(`SET search_path TO ${quoteIdent(schema)}, public`);
      // Roles are cluster-wide; several schemas (test suites, services) may race to create one.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', ['orchestra-migrate:roles']);
      try {
        const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [tenantRole]);
        if (rowCount === 0) await client.query(`CREATE ROLE ${quoteIdent(tenantRole)} NOLOGIN NOBYPASSRLS`);
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
      const r = quoteIdent(tenantRole);
      await client.query(`
        GRANT USAGE ON SCHEMA ${s} TO ${r};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r};
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${r};
        REVOKE ALL ON ${s}.schemaversion, ${s}.shared_schemaversion FROM ${r};
      `);
      if (applied.length > 0) log.info('migrations applied', { schema, applied });
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`orchestra-migrate:${schema}`]);
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
