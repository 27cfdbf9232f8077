import {
  createLogger,
  createMailer,
  createMetrics,
  createPool,
  createRedis,
  listenService,
  loadConfig,
  runMain,
  runMigrations,
  stopAll,
} from '@orchestra/lib';
import { createPasswordHasher } from './auth/passwords';
import { identityConfigSchema } from './config';
import { SERVICE, TENANT_ROLE } from './deps';
import { ensureFirstAdmin } from './first-admin';
import { migrationsDir } from './schema';
import { createIdentityService } from './service';

runMain(SERVICE, async () => {
  const config = loadConfig(identityConfigSchema);
  const log = createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  const metrics = createMetrics(SERVICE);
  const pool = createPool({ url: config.DATABASE_URL, tenantUrl: config.TENANT_DATABASE_URL, schema: config.DB_SCHEMA, applicationName: SERVICE, log, metrics });
  const redis = createRedis({ url: config.REDIS_URL, name: SERVICE, log });
  try {
    if (config.DATABASE_MIGRATE) await runMigrations({ pool, schema: config.DB_SCHEMA, dir: migrationsDir, tenantRole: TENANT_ROLE, log });
    const hasher = createPasswordHasher({ memoryCost: config.PASSWORD_HASH_MEMORY_KIB, timeCost: config.PASSWORD_HASH_ITERATIONS, parallelism: config.PASSWORD_HASH_PARALLELISM });
    const admin = await ensureFirstAdmin({ pool, config, hasher });
    if (admin.created) {
      const line = {
        level: 'info',
        time: new Date().toISOString(),
        service: SERVICE,
        msg: 'first admin created',
        email: admin.email,
        organization: admin.organization,
        organizationId: admin.organizationId,
        userId: admin.userId,
        ...(admin.generatedPassword === undefined ? { passwordFrom: 'ADMIN_PASSWORD' } : { password: admin.generatedPassword }),
      };
      // Written past the logger on purpose: it redacts every `password` field, and this one line
      // exists to show a generated password once. A password from ADMIN_PASSWORD is never printed.
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    const mailer = await createMailer(config, log);
    if (mailer.mode === 'log') log.warn('SMTP_URL is not set: mails (password reset, verification, invitations) are written to this log, not sent');
    const handle = createIdentityService({ config, pool, redis, log, metrics, mailer });
    const addresses = await listenService(handle, { host: config.HOST, httpPort: config.HTTP_PORT, grpcPort: config.GRPC_PORT });
    log.info('listening', { ...addresses, graphql: `${addresses.httpUrl}/graphql`, jwks: `${addresses.httpUrl}/.well-known/jwks.json` });
    return { log, stop: () => stopAll([() => handle.stop(), () => Promise.resolve(mailer.close()), () => pool.end(), () => redis.quit()]) };
  } catch (error) {
    await stopAll([() => pool.end(), () => Promise.resolve(redis.disconnect())]).catch(() => undefined);
    throw error;
  }
});
