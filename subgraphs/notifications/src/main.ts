import { createLogger, createMailer, createMetrics, createPool, createRedis, listenService, loadConfig, runMain, stopAll } from '@orchestra/lib';
import { notificationsConfigSchema } from './config';
import { migrateNotifications } from './migrate';
import { createNotificationsService } from './service';

runMain('notifications', async () => {
  const config = loadConfig(notificationsConfigSchema);
  const log = createLogger({ service: 'notifications', level: config.LOG_LEVEL });
  const metrics = createMetrics('notifications');
  const pool = createPool({ url: config.DATABASE_URL, tenantUrl: config.TENANT_DATABASE_URL, schema: config.DB_SCHEMA, applicationName: 'orchestra-notifications', log, metrics });
  const redis = createRedis({ url: config.REDIS_URL, name: 'notifications', log });
  try {
    if (config.DATABASE_MIGRATE) await migrateNotifications({ pool, schema: config.DB_SCHEMA, log });
    const mailer = await createMailer(config, log);
    const handle = createNotificationsService({ config, pool, redis, log, metrics, mailer });
    const addresses = await listenService(handle, { host: config.HOST, httpPort: config.HTTP_PORT, grpcPort: config.GRPC_PORT });
    log.info('listening', { ...addresses });
    return { log, stop: () => stopAll([() => handle.stop(), () => Promise.resolve(mailer.close()), () => pool.end(), () => redis.quit()]) };
  } catch (error) {
    await stopAll([() => pool.end(), () => Promise.resolve(redis.disconnect())]).catch(() => undefined);
    throw error;
  }
});
