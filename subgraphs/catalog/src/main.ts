import { createLogger, createPool, listenService, loadConfig, runMain, runMigrations, stopAll } from '@orchestra/lib';
import { CATALOG_TENANT_ROLE } from './apps/catalog';
import { catalogConfigSchema } from './config';
import { createCatalogService, migrationsDir } from './service';

runMain('catalog', async () => {
  const config = loadConfig(catalogConfigSchema);
  const log = createLogger({ service: 'catalog', level: config.LOG_LEVEL });
  const pool = createPool({ url: config.DATABASE_URL, tenantUrl: config.TENANT_DATABASE_URL, schema: config.DB_SCHEMA, applicationName: 'orchestra-catalog', log });
  try {
    if (config.DATABASE_MIGRATE) await runMigrations({ pool, schema: config.DB_SCHEMA, dir: migrationsDir, tenantRole: CATALOG_TENANT_ROLE, log });
  } catch (error) {
    await pool.end();
    throw error;
  }
  const handle = createCatalogService({ pool, config, log });
  const addresses = await listenService(handle, { host: config.HOST, httpPort: config.HTTP_PORT, grpcPort: config.GRPC_PORT });
  log.info('listening', { ...addresses });
  return { log, stop: () => stopAll([() => handle.stop(), () => pool.end()]) };
});
