// Applies every service's database migrations and exits: the Helm pre-install/pre-upgrade Job runs
// this, so pods start against an up-to-date schema. (Each service also migrates at start, under
// the same advisory lock, so running both is safe.)
//   DATABASE_URL            the database (default postgres://postgres@127.0.0.1:5432/orchestra)
//   MIGRATE_SERVICES        comma-separated subset (default: identity,catalog,orchestration,audit,notifications)
//   <SERVICE>_DB_SCHEMA     a service's schema when it is not the service's name (e.g. AUDIT_DB_SCHEMA)
//   <SERVICE>_DB_PASSWORD and <SERVICE>_TENANT_DB_PASSWORD
//                           let the service's own roles log in with these passwords (orchestra_<service>_service
//                           for its system work, orchestra_<service>_tenant for tenant transactions): the
//                           logins the service then runs with (DATABASE_URL, TENANT_DATABASE_URL, DATABASE_MIGRATE=false).
//                           This script runs as the schemas' owner, which needs CREATEROLE for it.
import { z } from 'zod';
import { ConfigError, createLogger, createPool, enableServiceLogins, env, loadConfig, runMigrations, type Logger, type Pool } from '@orchestra/lib';
import { AUDIT_TENANT_ROLE, migrateAudit } from '@orchestra/audit';
import { CATALOG_TENANT_ROLE, migrationsDir as catalogMigrations } from '@orchestra/catalog';
import { IDENTITY_TENANT_ROLE, migrationsDir as identityMigrations } from '@orchestra/identity';
import { NOTIFICATIONS_TENANT_ROLE, migrateNotifications } from '@orchestra/notifications';
import { TENANT_ROLE as ORCHESTRATION_TENANT_ROLE, migrationsDir as orchestrationMigrations } from '@orchestra/orchestration';

const SERVICES = ['identity', 'catalog', 'orchestration', 'audit', 'notifications'] as const;
type Service = (typeof SERVICES)[number];

const migrators: Record<Service, (pool: Pool, schema: string, log: Logger) => Promise<string[]>> = {
  identity: (pool, schema, log) => runMigrations({ pool, schema, dir: identityMigrations, tenantRole: IDENTITY_TENANT_ROLE, log }),
  catalog: (pool, schema, log) => runMigrations({ pool, schema, dir: catalogMigrations, tenantRole: CATALOG_TENANT_ROLE, log }),
  orchestration: (pool, schema, log) => runMigrations({ pool, schema, dir: orchestrationMigrations, tenantRole: ORCHESTRATION_TENANT_ROLE, log }),
  audit: (pool, schema, log) => migrateAudit({ pool, schema, log }),
  notifications: (pool, schema, log) => migrateNotifications({ pool, schema, log }),
};

const tenantRoles: Record<Service, string> = {
  identity: IDENTITY_TENANT_ROLE,
  catalog: CATALOG_TENANT_ROLE,
  orchestration: ORCHESTRATION_TENANT_ROLE,
  audit: AUDIT_TENANT_ROLE,
  notifications: NOTIFICATIONS_TENANT_ROLE,
};

const password = env.secret(16).optional();

const configSchema = z.object({
  DATABASE_URL: env.url(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/orchestra'),
  LOG_LEVEL: env.logLevel(),
  MIGRATE_SERVICES: env.list([...SERVICES]).refine((list) => list.every((s) => (SERVICES as readonly string[]).includes(s)), {
    error: `expects a comma-separated subset of ${SERVICES.join(', ')}`,
  }),
  IDENTITY_DB_SCHEMA: env.string('identity'),
  CATALOG_DB_SCHEMA: env.string('catalog'),
  ORCHESTRATION_DB_SCHEMA: env.string('orchestration'),
  AUDIT_DB_SCHEMA: env.string('audit'),
  NOTIFICATIONS_DB_SCHEMA: env.string('notifications'),
  IDENTITY_DB_PASSWORD: password,
  IDENTITY_TENANT_DB_PASSWORD: password,
  CATALOG_DB_PASSWORD: password,
  CATALOG_TENANT_DB_PASSWORD: password,
  ORCHESTRATION_DB_PASSWORD: password,
  ORCHESTRATION_TENANT_DB_PASSWORD: password,
  AUDIT_DB_PASSWORD: password,
  AUDIT_TENANT_DB_PASSWORD: password,
  NOTIFICATIONS_DB_PASSWORD: password,
  NOTIFICATIONS_TENANT_DB_PASSWORD: password,
});

async function main(): Promise<void> {
  const config = loadConfig(configSchema);
  const log = createLogger({ service: 'migrate', level: config.LOG_LEVEL });
  const schemaOf: Record<Service, string> = {
    identity: config.IDENTITY_DB_SCHEMA,
    catalog: config.CATALOG_DB_SCHEMA,
    orchestration: config.ORCHESTRATION_DB_SCHEMA,
    audit: config.AUDIT_DB_SCHEMA,
    notifications: config.NOTIFICATIONS_DB_SCHEMA,
  };
  for (const service of config.MIGRATE_SERVICES as Service[]) {
    const schema = schemaOf[service];
    const pool = createPool({ url: config.DATABASE_URL, schema, applicationName: `orchestra-migrate-${service}`, max: 2, log });
    try {
      const applied = await migrators[service](pool, schema, log);
      log.info('service migrated', { migrated: service, schema, applied: applied.length });
      const key = service.toUpperCase() as Uppercase<Service>;
      const servicePassword = config[`${key}_DB_PASSWORD`];
      const tenantPassword = config[`${key}_TENANT_DB_PASSWORD`];
      if ((servicePassword === undefined) !== (tenantPassword === undefined)) {
        throw new ConfigError(`config: ${key}_DB_PASSWORD and ${key}_TENANT_DB_PASSWORD go together (one of them is not set)`);
      }
      if (servicePassword !== undefined && tenantPassword !== undefined) {
        await enableServiceLogins(pool, tenantRoles[service], { service: servicePassword, tenant: tenantPassword });
        log.info('service logins enabled', { service, roles: [tenantRoles[service].replace(/_tenant$/, '_service'), tenantRoles[service]] });
      }
    } finally {
      await pool.end();
    }
  }
  log.info('migrations complete', { services: config.MIGRATE_SERVICES });
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate: ${error instanceof ConfigError ? error.message : `failed: ${(error as Error).message}`}\n`);
  process.exit(1);
});
