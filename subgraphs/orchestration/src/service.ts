import { createProviderLimits } from './llm/provider-limits';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  createGrpcServer,
  loadGrpcTls,
  createMetrics,
  createNotificationRelay,
  createOutboxRelay,
  createPrincipalVerifier,
  createQueueConnection,
  createRateLimiter,
  createRunEventHub,
  createSubgraphHttp,
  createWorkerAuthority,
  methodPaths,
  withSystemTransaction,
  type Logger,
  type Metrics,
  type Pool,
  type Redis,
  type RunEventHub,
  type ServiceHandle,
} from '@orchestra/lib';
import { orchestrationV1 } from '@orchestra/proto';
import type { OrchestrationConfig } from './config';
import { createAttemptCancellations } from './engine/cancellations';
import { createDispatcher, type Dispatcher } from './engine/dispatcher';
import { createRunStarts } from './engine/run-starts';
import { createCatalogAppDirectory } from './engine/app-directory';
import { createArtifactRetentionJob } from './artifacts/retention-job';
import { createRunMetricsRollup, type RunMetricsRollup } from './metrics/rollup-job';
import { createSlotUsageSampler } from './metrics/slot-usage';
import { createEngine, SERVICE, type ArtifactObjects, type Engine } from './engine/engine';
import { createReconciler, type Reconciler } from './engine/reconciler';
import { createTaskQueues } from './engine/task-queues';
import { createWorkerClients } from './engine/worker-clients';
import { createWorkerRegistry, type WorkerRegistry } from './engine/worker-registry';
import { createOrchestrationGrpc } from './grpc/orchestration-service';
import { createWorkerRegistryGrpc } from './grpc/worker-registry';
import { extendContext, resolvers, type OrchestrationContext } from './resolvers';
import { typeDefs } from './schema';
import { createScheduleTicker, type ScheduleTicker } from './schedules/ticker';
import { rewrapSecrets } from './secrets/secret-commands';
import { rewrapWebhookSecrets } from './events/trigger-commands';
import { removeDispatcher } from './store/dispatchers';
import { createWaitTicker, type WaitTicker } from './waits/ticker';
import { createWaitEventRecorder, type WaitEventRecorder } from './waits/wait-events';

export interface OrchestrationServiceDeps {
  config: OrchestrationConfig;
  /** A pool on the orchestration schema (migrated); the caller closes it. */
  pool: Pool;
  /** The caller closes it. The service opens its own duplicates (queue, subscribers) and closes those. */
  redis: Redis;
  log: Logger;
  metrics?: Metrics;
  /** The artifact store (lib createArtifactStore): retention and the size limits delete from it. Absent: artifacts are recorded but never expire. */
  artifactObjects?: ArtifactObjects;
}

export interface OrchestrationService extends ServiceHandle {
  engine: Engine;
  dispatcher: Dispatcher;
  reconciler: Reconciler;
  registry: WorkerRegistry;
  schedules: ScheduleTicker;
  /** Ends waits whose deadline came (sleepUntil, timeouts). */
  waits: WaitTicker;
  /** Records a change of a waiting task's reason as a TASK_WAITING run event. */
  waitEvents: WaitEventRecorder;
  /** Folds finished runs into the hourly rows runMetrics reads. */
  runMetricsRollup: RunMetricsRollup;
  hub: RunEventHub;
  /** Identifies this process's dispatcher in task attempts. */
  dispatcherId: string;
}

/**
 * Builds the orchestration service: the subgraph (workflows, runs, tasks, fleet), the gRPC
 * OrchestrationService and WorkerRegistry, and the engine behind them (dispatcher, reconciler,
 * run events). Never listens; start() begins the background work.
 */
export function createOrchestrationService({ config, pool, redis, log, metrics = createMetrics(SERVICE), artifactObjects }: OrchestrationServiceDeps): OrchestrationService {
  const dispatcherId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  // BullMQ blocks on its connections and wants no retry limit per command; no auto-pipelining (lib/redis.ts).
  const queueConnection = createQueueConnection(redis, 'orchestration-queue');
  queueConnection.on('error', (err: Error) => log.warn('queue redis connection error', { err }));
  const prefix = config.REDIS_PREFIX;
  const hub = createRunEventHub({ redis, prefix, log, metrics, maxLen: config.EVENT_STREAM_MAXLEN, ttlSeconds: config.EVENT_STREAM_TTL_SECONDS });
  const tls = loadGrpcTls(config);
  const apps = config.CATALOG_GRPC_ADDR ? createCatalogAppDirectory({ address: config.CATALOG_GRPC_ADDR, internalToken: config.INTERNAL_TOKEN, tls }) : undefined;
  if (!apps) log.warn('CATALOG_GRPC_ADDR is not set: workflow app ids are not checked against the catalog');
  const workerAuthority = createWorkerAuthority(config.WORKER_AUTH_SECRETS);
  const engine = createEngine({
    workerAuthority,
    pool,
    config,
    log,
    metrics,
    hub,
    apps,
    artifactObjects,
    queues: createTaskQueues({ connection: queueConnection, prefix, pool, log: log.child({ component: 'task-queues' }), metrics }),
    cancellations: createAttemptCancellations({ redis, prefix, log: log.child({ component: 'cancellations' }) }),
    providerLimits: createProviderLimits({ redis, prefix, log: log.child({ component: 'provider-limits' }) }),
    workerClients: createWorkerClients({
      breaker: { errorThresholdPercentage: config.BREAKER_ERROR_PERCENT, volumeThreshold: config.BREAKER_VOLUME_THRESHOLD, resetTimeout: config.BREAKER_RESET_MS },
      log: log.child({ component: 'worker-clients' }),
      metrics,
      tls,
      tlsServerName: config.WORKER_TLS_SERVER_NAME,
    }),
  });
  const runStarts = createRunStarts(engine);
  const dispatcher = createDispatcher({ engine, connection: queueConnection, prefix, dispatcherId });
  const registry = createWorkerRegistry({ engine, dispatcher, log });
  const reconciler = createReconciler({ engine, dispatcher, dispatcherId, schema: config.DB_SCHEMA });
  const idleMaxMs = config.IDLE_POLL_MAX_MS;
  const schedules = createScheduleTicker({ engine, log: log.child({ component: 'schedules' }), intervalMs: config.SCHEDULE_TICK_INTERVAL_MS, idleMaxMs, graceMs: config.SCHEDULE_MISFIRE_GRACE_MS });
  const waits = createWaitTicker({ engine, log: log.child({ component: 'waits' }), intervalMs: config.WAIT_TICK_INTERVAL_MS, idleMaxMs });
  const slotUsage = createSlotUsageSampler({ engine, log: log.child({ component: 'slot-usage' }), intervalMs: config.SLOT_USAGE_SAMPLE_MS });
  const waitEvents = createWaitEventRecorder({ engine, log: log.child({ component: 'wait-events' }), intervalMs: config.WAIT_EVENT_INTERVAL_MS, idleMaxMs });
  const runMetricsRollup = createRunMetricsRollup({ inSystem: (fn) => engine.inSystem(fn), log: log.child({ component: 'run-metrics-rollup' }), intervalMs: config.RUN_METRICS_ROLLUP_INTERVAL_MS, settleMs: config.RUN_METRICS_SETTLE_MS });
  // The loops above sleep while idle; whatever this process commits may have made work for them.
  const stopWaking = engine.activity.onActivity(() => {
    schedules.wake();
    waits.wake();
    waitEvents.wake();
  });
  const verifier = createPrincipalVerifier(config.PRINCIPAL_PUBLIC_KEY);
  const retention = artifactObjects ? createArtifactRetentionJob(engine, artifactObjects, log.child({ component: 'artifact-retention' })) : undefined;
  let accepting = true;
  let rewrapping: Promise<unknown> = Promise.resolve();

  const http = createSubgraphHttp<OrchestrationContext>({
    name: SERVICE,
    typeDefs,
    resolvers,
    verifier,
    log,
    metrics,
    readiness: {
      postgres: () => pool.query('SELECT 1'),
      redis: () => redis.ping(),
    },
    extendContext: extendContext(engine, runStarts),
    isAccepting: () => accepting,
    audit: { service: SERVICE, pool, log },
  });

  const grpc = createGrpcServer({
    service: SERVICE,
    log,
    metrics,
    internalToken: config.INTERNAL_TOKEN,
    // A worker's own token: the WorkerRegistry only, for the id it was minted for (worker-registry.ts checks the id).
    credentials: [
      {
        verify: (token) => {
          const workerId = workerAuthority.verifyWorkerToken(token);
          return workerId === undefined ? undefined : { kind: 'worker', workerId };
        },
        methods: methodPaths(orchestrationV1.WorkerRegistryService),
      },
    ],
    principalVerifier: verifier,
    tls,
  });
  // Inbound webhooks: a sliding window per trigger in Redis, shared by every replica.
  const webhooks = {
    engine,
    log: log.child({ component: 'webhooks' }),
    limiter: createRateLimiter({ redis, prefix: `${prefix}:rl:webhook`, limit: config.WEBHOOK_RATE_LIMIT_PER_MINUTE, windowMs: 60_000 }),
    maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
  };
  grpc.add(orchestrationV1.OrchestrationServiceService, createOrchestrationGrpc(engine, runStarts, webhooks), 'orchestra.orchestration.v1.OrchestrationService');
  grpc.add(orchestrationV1.WorkerRegistryService, createWorkerRegistryGrpc(registry), 'orchestra.orchestration.v1.WorkerRegistry');

  const relay = createOutboxRelay({
    pool,
    schema: config.DB_SCHEMA,
    service: SERVICE,
    auditGrpcAddress: config.AUDIT_GRPC_ADDR,
    internalToken: config.INTERNAL_TOKEN,
    tls,
    log,
    metrics,
    gatherMs: config.AUDIT_RELAY_GATHER_MS,
  });

  // Runs failed/succeeded and tasks dead-lettered, for the notifications service (written in the transitions' transactions).
  const notificationRelay = createNotificationRelay({
    pool,
    schema: config.DB_SCHEMA,
    service: SERVICE,
    notificationsGrpcAddress: config.NOTIFICATIONS_GRPC_ADDR,
    internalToken: config.INTERNAL_TOKEN,
    tls,
    log,
    metrics,
  });

  return {
    name: SERVICE,
    http,
    grpc,
    engine,
    dispatcher,
    reconciler,
    registry,
    schedules,
    waits,
    waitEvents,
    runMetricsRollup,
    hub,
    dispatcherId,
    async start() {
      await engine.cancellations.start();
      dispatcher.ensurePool('default');
      // The first pass also starts consuming every pool that has workers or waiting attempts.
      await reconciler.reconcileOnce().catch((err: unknown) => log.error('first reconcile pass failed', { err }));
      reconciler.start();
      schedules.start();
      waits.start();
      slotUsage.start();
      waitEvents.start();
      runMetricsRollup.start();
      await relay.start();
      await notificationRelay.start();
      if (!config.SECRETS_KEYS) log.warn('SECRETS_KEYS is not set: organization secrets cannot be created, and steps that read one fail at dispatch');
      // After a key rotation, data keys wrapped by an older key are re-wrapped with the new one (in the background).
      rewrapping = Promise.all([rewrapSecrets(engine), rewrapWebhookSecrets(engine)]).catch((err: unknown) => log.error('re-wrapping secrets with the active key failed', { err }));
      if (retention) retention.start();
      else log.warn('no artifact store configured: artifacts are recorded but never expire');
      if (!config.ARTIFACT_URL_KEYS) log.warn('ARTIFACT_URL_KEYS is not set: artifacts have no download URL');
      log.info('orchestration engine started', { dispatcherId, reconcileEveryMs: config.RECONCILE_INTERVAL_MS, leaseTtlMs: config.WORKER_LEASE_TTL_MS });
    },
    async stop() {
      accepting = false;
      const failures: unknown[] = [];
      const step = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (error) {
          failures.push(error);
        }
      };
      await step(() => http.close());
      stopWaking();
      await step(() => reconciler.stop());
      await step(() => schedules.stop());
      await step(() => waits.stop());
      await step(() => slotUsage.stop());
      await step(() => waitEvents.stop());
      await step(() => runMetricsRollup.stop());
      // Running Execute calls finish (or are handed back after DRAIN_TIMEOUT_MS) while workers can still heartbeat.
      await step(() => dispatcher.stop());
      await step(() => grpc.stop());
      await step(() => relay.stop());
      await step(() => notificationRelay.stop());
      await step(() => rewrapping);
      if (retention) await step(() => retention.stop());
      await step(() => engine.cancellations.stop());
      await step(() => hub.stop());
      await step(() => engine.queues.close());
      engine.workerClients.close();
      apps?.close();
      await step(() => withSystemTransaction(pool, (tx) => removeDispatcher(tx, dispatcherId)));
      await step(() => queueConnection.quit());
      if (failures.length > 0) log.warn('orchestration stopped with errors', { errors: failures.map(String) });
    },
  };
}
