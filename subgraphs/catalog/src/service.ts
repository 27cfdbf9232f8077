import { join } from 'node:path';
import {
  createGrpcServer,
  loadGrpcTls,
  createGuardedFetch,
  createMetrics,
  createNotificationRelay,
  createOutboxRelay,
  createPrincipalVerifier,
  createSubgraphHttp,
  loadSubgraphTypeDefs,
  stopAll,
  type GuardedFetch,
  type Logger,
  type Metrics,
  type OutboxRelay,
  type Pool,
  type PrincipalVerifier,
  type ServiceHandle,
} from '@orchestra/lib';
import { catalogV1 } from '@orchestra/proto';
import { CATALOG_SERVICE, createCatalog, type UserDirectory } from './apps/catalog';
import { healthSettingsOf, type CatalogConfig } from './config';
import { createIsolatedConfigValidator } from './configuration/isolated-validator';
import { createCatalogGrpcService } from './grpc/catalog-service';
import { createHealthProber, type HealthProber } from './health/prober';
import { createIdentityUserDirectory } from './identity-users';
import { createAppLoader } from './resolvers/app-loader';
import { resolvers, type CatalogContext } from './resolvers';

/** The subgraph SDL (with the project's directives declared), for the service and gateway composition. */
export const typeDefs = loadSubgraphTypeDefs(join(__dirname, 'schema.graphql'));
export const migrationsDir = join(__dirname, 'migrations');

export interface CatalogServiceDeps {
  pool: Pool;
  config: CatalogConfig;
  log: Logger;
  metrics?: Metrics;
  /** Defaults to a verifier of config.PRINCIPAL_PUBLIC_KEY. */
  verifier?: PrincipalVerifier;
  /** Defaults to IdentityService at config.IDENTITY_GRPC_ADDR when set (closed by stop()). */
  users?: UserDirectory;
}

export interface CatalogServiceHandle extends ServiceHandle {
  prober: HealthProber | undefined;
}

/**
 * Builds the catalog: the subgraph over HTTP, CatalogService over gRPC, the health prober and the
 * audit and notification outbox relays. Listens on nothing and reads no environment (main.ts does both); `start()`
 * runs the background loops, `stop()` ends them and what this function opened, not the pool.
 */
export function createCatalogService(deps: CatalogServiceDeps): CatalogServiceHandle {
  const { pool, config, log } = deps;
  const metrics = deps.metrics ?? createMetrics(CATALOG_SERVICE);
  const verifier = deps.verifier ?? createPrincipalVerifier(config.PRINCIPAL_PUBLIC_KEY);
  const tls = loadGrpcTls(config);
  const identity =
    deps.users === undefined && config.IDENTITY_GRPC_ADDR ? createIdentityUserDirectory({ address: config.IDENTITY_GRPC_ADDR, internalToken: config.INTERNAL_TOKEN, tls }) : undefined;
  const health = healthSettingsOf(config);
  const validator = createIsolatedConfigValidator();
  const catalog = createCatalog({
    pool,
    validator,
    users: deps.users ?? identity,
    historyDays: health.historyDays,
    allowPrivateHealthChecks: health.allowPrivateNetwork,
    // The prober sleeps while no probe is due: a new or changed health URL wakes it.
    onHealthScheduled: () => prober?.wake(),
  });
  let accepting = true;

  const http = createSubgraphHttp<CatalogContext>({
    name: CATALOG_SERVICE,
    typeDefs,
    resolvers,
    verifier,
    log,
    metrics,
    readiness: { postgres: () => pool.query('SELECT 1') },
    extendContext: (base) => ({ ...base, catalog, apps: createAppLoader((ids) => catalog.getApps(base.principal, ids)) }),
    isAccepting: () => accepting,
    audit: { service: CATALOG_SERVICE, pool, log },
  });

  const grpc = createGrpcServer({ service: CATALOG_SERVICE, log, metrics, internalToken: config.INTERNAL_TOKEN, principalVerifier: verifier, tls });
  grpc.add(catalogV1.CatalogServiceService, createCatalogGrpcService(catalog), 'orchestra.catalog.v1.CatalogService');

  let probeFetch: GuardedFetch | undefined;
  const prober = health.enabled
    ? createHealthProber({ pool, fetch: (probeFetch = createGuardedFetch({ allowPrivate: health.allowPrivateNetwork, connectTimeoutMs: health.timeoutMs, log: log.child({ component: 'net-guard' }) })), settings: health, log, metrics })
    : undefined;

  let relay: OutboxRelay | undefined;
  // App health notices (app.health_changed) for the notifications service, written by the prober in the
  // transaction that records the change; without NOTIFICATIONS_GRPC_ADDR they wait in the outbox.
  const notificationRelay: OutboxRelay = createNotificationRelay({
    pool,
    schema: config.DB_SCHEMA,
    service: CATALOG_SERVICE,
    notificationsGrpcAddress: config.NOTIFICATIONS_GRPC_ADDR,
    internalToken: config.INTERNAL_TOKEN,
    tls,
    log,
    metrics,
  });

  return {
    name: CATALOG_SERVICE,
    http,
    grpc,
    prober,
    async start() {
      if (config.AUDIT_GRPC_ADDR) {
        relay = createOutboxRelay({ pool, schema: config.DB_SCHEMA, service: CATALOG_SERVICE, auditGrpcAddress: config.AUDIT_GRPC_ADDR, internalToken: config.INTERNAL_TOKEN, tls, log, metrics });
        await relay.start();
      }
      await notificationRelay.start();
      prober?.start();
    },
    async stop() {
      accepting = false;
      await stopAll([
        async () => prober?.stop(),
        async () => relay?.stop(),
        () => notificationRelay.stop(),
        () => http.close(),
        () => grpc.stop(),
        async () => probeFetch?.close(),
        () => Promise.resolve(identity?.close()),
        () => validator.close(),
      ]);
    },
  };
}
