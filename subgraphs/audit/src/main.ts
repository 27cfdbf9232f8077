import { createLogger, createMetrics, createOutboxRelay, createPool, listenService, loadConfig, loadGrpcTls, runMain, stopAll } from '@orchestra/lib';
import { auditConfigSchema } from './config';
import { migrateAudit } from './migrate';
import { createAuditService } from './service';

runMain('audit', async () => {
  const config = loadConfig(auditConfigSchema);
  const log = createLogger({ service: 'audit', level: config.LOG_LEVEL });
  const metrics = createMetrics('audit');
  const pool = createPool({ url: config.DATABASE_URL, tenantUrl: config.TENANT_DATABASE_URL, schema: config.DB_SCHEMA, applicationName: 'orchestra-audit', log, metrics });
  try {
    if (config.DATABASE_MIGRATE) await migrateAudit({ pool, schema: config.DB_SCHEMA, log });
    const handle = createAuditService({ config, pool, log, metrics });
    const addresses = await listenService(handle, { host: config.HOST, httpPort: config.HTTP_PORT, grpcPort: config.GRPC_PORT });
    // The audit service's own events (exports, retention) go through its outbox like everyone's:
    // to AUDIT_GRPC_ADDR when set, otherwise to itself.
    const relay = createOutboxRelay({
      pool,
      schema: config.DB_SCHEMA,
      service: 'audit',
      auditGrpcAddress: config.AUDIT_GRPC_ADDR ?? addresses.grpcAddress,
      internalToken: config.INTERNAL_TOKEN,
      tls: loadGrpcTls(config),
      log,
      metrics,
    });
    await relay.start();
    log.info('listening', { ...addresses });
    return { log, stop: () => stopAll([() => relay.stop(), () => handle.stop(), () => pool.end()]) };
  } catch (error) {
    await pool.end();
    throw error;
  }
});
