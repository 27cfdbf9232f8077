import { join } from 'node:path';
import { runMigrations, type Logger, type Pool } from '@orchestra/lib';

/** The NOLOGIN role tenant transactions of the notifications service switch to. */
export const NOTIFICATIONS_TENANT_ROLE = 'orchestra_notifications_tenant';

export const migrationsDir = join(__dirname, 'migrations');

export const migrateNotifications = ({ pool, schema, log }: { pool: Pool; schema: string; log: Logger }): Promise<string[]> =>
  runMigrations({ pool, schema, dir: migrationsDir, tenantRole: NOTIFICATIONS_TENANT_ROLE, log });
