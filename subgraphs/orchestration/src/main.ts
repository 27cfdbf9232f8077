import { createArtifactStore, createLogger, createMetrics, createPool, createRedis, listenService, loadConfig, runMain, runMigrations, stopAll } from '@orchestra/lib';
import { orchestrationConfigSchema } from './config';
import { SERVICE, TENANT_ROLE } from './engine/engine';
import { migrationsDir } from './schema';
import { createOrchestrationService } from './service';

runMain(SERVICE, async () => {
  const config = loadConfig(orchestrationConfigSchema);
  const log = createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  const metrics = createMetrics(SERVICE);
  // Checked at start (an s3 store without a bucket stops the process here).
  const artifactObjects = createArtifactStore(config);
  const pool = createPool({ url: config.DATABASE_URL, tenantUrl: config.TENANT_DATABASE_URL, schema: config.DB_SCHEMA, applicationName: SERVICE, log, metrics, max: 20 });
  const redis = createRedis({ url: config.REDIS_URL, name: SERVICE, log });
  try {
    if (config.DATABASE_MIGRATE) await runMigrations({ pool, schema: config.DB_SCHEMA, dir: migrationsDir, tenantRole: TENANT_ROLE, log });
    const handle = createOrchestrationService({ config, pool, redis, log, metrics, artifactObjects });
    const addresses = await listenService(handle, { host: config.HOST, httpPort: config.HTTP_PORT, grpcPort: config.GRPC_PORT });
    log.info('listening', { ...addresses, graphql: `${addresses.httpUrl}/graphql` });
    return { log, stop: () => stopAll([() => handle.stop(), () => pool.end(), () => redis.quit()]) };
  } catch (error) {
    await stopAll([() => pool.end(), () => Promise.resolve(redis.disconnect())]).catch(() => undefined);
    throw error;
  }
});
