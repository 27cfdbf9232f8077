import { join } from 'node:path';
import { assertSchemaName, runMigrations, type Logger, type Pool } from '@orchestra/lib';

/** The NOLOGIN role tenant transactions of the audit service switch to. */
export const AUDIT_TENANT_ROLE = 'orchestra_audit_tenant';

export const migrationsDir = join(__dirname, 'migrations');

/** The tables tenants may only read: the trail itself, its chain heads and checkpoints. */
const READ_ONLY_TABLES = ['audit_events', 'audit_chains', 'audit_checkpoints'];

/**
 * Applies the audit migrations, then takes back the write privileges runMigrations grants the
 * tenant role on every table: tenants read the trail (row-level security narrows it to their org)
 * and never write, update or delete it.
 */
export async function migrateAudit({ pool, schema, log }: { pool: Pool; schema: string; log: Logger }): Promise<string[]> {
  assertSchemaName(schema);
  const applied = await runMigrations({ pool, schema, dir: migrationsDir, tenantRole: AUDIT_TENANT_ROLE, log });
  const tables = READ_ONLY_TABLES.map((t) => `"${schema}".${t}`).join(', ');
  await pool.query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${tables} FROM ${AUDIT_TENANT_ROLE}`);
  return applied;
}
