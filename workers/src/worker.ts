import { hostname, totalmem } from 'node:os';
import {
  INTERNAL_CHANNEL_OPTIONS,
  artifactLimits,
  createArtifactStore,
  createDispatchTokenSet,
  createGrpcServer,
  createGuardedFetch,
  grpcChannelCredentials,
  loadGrpcTls,
  methodPaths,
  createHttpApp,
  createMetrics,
  registerOpsRoutes,
  stopAll,
  type GrpcServer,
  type Logger,
  type DispatchTokenSet,
  type Metrics,
  type ServiceHandle,
} from '@orchestra/lib/worker';
import { automationV1, orchestrationV1 } from '@orchestra/proto';
import { createAttemptTable, type AttemptTable } from './attempts';
import { createAutomationService } from './automation-service';
import { defaultBrowserContexts, type WorkerConfig } from './config';
import { createModelGateway } from './executors/llm/model-gateway';
import { createExecutorRegistry } from './executors/registry';
import type { ExecutorFactory } from './executors/types';
import { createRegistration, type Registration } from './registration';
import { createResourceProbe } from './resources';

export interface WorkerDeps {
  config: Omit<WorkerConfig, 'LOG_LEVEL' | 'HTTP_PORT' | 'GRPC_PORT'>;
  log: Logger;
  metrics?: Metrics;
  /** Executors of an embedding application, offered beside the configured built-ins. */
  extraExecutors?: readonly ExecutorFactory[];
  /** Reported by Describe and Register. */
  version?: string;
  /** Registry retry/heartbeat tuning (tests shorten it). */
  registration?: { retry?: { initialMs: number; maxMs: number }; callTimeoutMs?: number };
}

export interface WorkerHandle extends ServiceHandle {
  grpc: GrpcServer;
  workerId: string;
  attempts: AttemptTable;
  /** What Describe answers. */
  describe(): Promise<automationV1.DescribeResponse>;
  readonly registered: boolean;
  /** The address announced to the registry once the gRPC server is bound. */
  readonly advertiseAddress: string | undefined;
  /** The dispatch tokens its gRPC server accepts, as the registry's answers set them. */
  readonly dispatchTokens: DispatchTokenSet;
}

const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '[::]';

/**
 * A worker: AutomationService + grpc.health.v1 on its gRPC server, /healthz /readyz /metrics on HTTP,
 * and (from start()) its registration with the orchestration WorkerRegistry. Never listens and never
 * reads the environment; stop() drains: no new attempts, running ones get the grace period, the rest
 * are aborted, then it deregisters and closes.
 */
export function createWorker({ config, log: parentLog, metrics = createMetrics('worker'), extraExecutors = [], version = '0.1.0', registration: tuning = {} }: WorkerDeps): WorkerHandle {
  const workerId = config.WORKER_ID;
  const workerLog = parentLog.child({ workerId });
  const log = workerLog.child({ component: 'worker' });
  const fetch = createGuardedFetch({ allowPrivate: config.WORKER_ALLOW_PRIVATE_NETWORK, log: workerLog.child({ component: 'net-guard' }) });
  // Worker-local model servers live on this machine's private addresses: only providers whose base
  // URL the worker declares use this fetch (the gateway checks), everything else goes through the guard.
  const localFetch = createGuardedFetch({ allowPrivate: true });
  const models = createModelGateway({
    fetch,
    localFetch,
    localEndpoints: config.WORKER_LLM_ENDPOINTS,
    circuitFailureThreshold: config.LLM_CIRCUIT_FAILURE_THRESHOLD,
    circuitResetMs: config.LLM_CIRCUIT_RESET_MS,
    defaultTimeoutMs: config.LLM_TIMEOUT_MS,
    metrics,
  });
  const browser = {
    executablePath: config.BROWSER_EXECUTABLE_PATH,
    maxContexts: Math.min(config.WORKER_SLOTS, config.BROWSER_MAX_CONTEXTS ?? defaultBrowserContexts(totalmem(), process.constrainedMemory())),
    allowPrivateNetwork: config.WORKER_ALLOW_PRIVATE_NETWORK,
    maxDownloadBytes: config.ARTIFACT_MAX_BYTES,
  };
  const executors = createExecutorRegistry(
    { fetch, llm: { models }, browser, log: workerLog.child({ component: 'executors' }) },
    { capabilities: config.WORKER_CAPABILITIES, extra: extraExecutors },
  );
  const artifactStore = createArtifactStore(config);
  const attempts = createAttemptTable({
    slots: config.WORKER_SLOTS,
    executors,
    log: workerLog.child({ component: 'attempts' }),
    metrics,
    artifactStore,
    artifactLimits: artifactLimits(config),
  });
  const probe = createResourceProbe({ nvidiaSmiPath: config.NVIDIA_SMI_PATH, log });
  const capabilities = [...executors.keys()];

  const describe = async (): Promise<automationV1.DescribeResponse> => ({
    workerId,
    pool: config.WORKER_POOL,
    capabilities,
    slotsTotal: config.WORKER_SLOTS,
    slotsFree: attempts.accepting ? attempts.freeSlots() : 0,
    labels: config.WORKER_LABELS,
    resources: await probe.probe(),
    version,
    runningAttemptIds: attempts.runningIds(),
    llmEndpoints: config.WORKER_LLM_ENDPOINTS,
  });

  // Only the orchestration service calls a worker: with the dispatch tokens its registry handed this
  // worker (Register, Heartbeat). The services' token and other workers' tokens are refused.
  const dispatchTokens = createDispatchTokenSet();
  const tls = loadGrpcTls(config);
  const grpc = createGrpcServer({
    tls,
    service: 'worker',
    // An Execute lasts as long as its task (up to a day): a connection recycle would cut it. Nothing is
    // gained by recycling here either: the dispatcher dials each worker by its own address.
    connectionAge: 'unlimited',
    log,
    metrics,
    credentials: [{ verify: (token) => (dispatchTokens.has(token) ? { kind: 'orchestrator' } : undefined), methods: methodPaths(automationV1.AutomationServiceService) }],
  });
  grpc.add(automationV1.AutomationServiceService, createAutomationService({ attempts, describe }), 'orchestra.automation.v1.AutomationService');

  // The advertised address needs the bound port, which only listen() knows.
  let advertiseAddress = config.ADVERTISE_ADDR;
  const listen = grpc.listen.bind(grpc);
  grpc.listen = async (host, port) => {
    const bound = await listen(host, port);
    advertiseAddress ??= `${isWildcard(host) ? hostname() : host.includes(':') ? `[${host}]` : host}:${bound}`;
    return bound;
  };

  const registryClient = new orchestrationV1.WorkerRegistryClient(config.ORCHESTRATION_GRPC_ADDR, grpcChannelCredentials(tls), INTERNAL_CHANNEL_OPTIONS);
  const registration: Registration = createRegistration({
    client: registryClient,
    workerToken: config.WORKER_TOKEN,
    onDispatchTokens: (tokens) => dispatchTokens.accept(tokens),
    log: workerLog.child({ component: 'registration' }),
    ...tuning,
    async workerInfo() {
      const described = await describe();
      if (advertiseAddress === undefined) throw new Error('the gRPC server is not listening yet');
      return {
        workerId,
        endpoint: advertiseAddress,
        pool: described.pool,
        capabilities: described.capabilities,
        slotsTotal: described.slotsTotal,
        slotsFree: described.slotsFree,
        labels: described.labels,
        resources: described.resources,
        version,
        llmEndpoints: described.llmEndpoints,
      };
    },
    async heartbeatState() {
      // While draining, slotsFree 0 keeps the dispatcher away and the lease alive for the running attempts.
      return { slotsFree: attempts.accepting ? attempts.freeSlots() : 0, resources: await probe.probe(), runningAttemptIds: attempts.runningIds() };
    },
    onCancelAttempts(ids) {
      for (const id of ids) attempts.cancel(id, 'CANCELLED', 'the orchestrator gave up on this attempt');
    },
  });

  const http = createHttpApp({ log, metrics });
  registerOpsRoutes(http, {
    metrics,
    isAccepting: () => attempts.accepting,
    readiness: {
      registry: () => (registration.registered ? Promise.resolve() : Promise.reject(new Error('not registered with the orchestration service'))),
    },
  });

  let stopped: Promise<void> | undefined;
  return {
    name: 'worker',
    http,
    grpc,
    workerId,
    attempts,
    describe,
    get registered() {
      return registration.registered;
    },
    get advertiseAddress() {
      return advertiseAddress;
    },
    dispatchTokens,
    start() {
      log.info('worker ready', { pool: config.WORKER_POOL, slots: config.WORKER_SLOTS, capabilities, artifactStore: config.ARTIFACT_STORE, labels: config.WORKER_LABELS, allowPrivateNetwork: config.WORKER_ALLOW_PRIVATE_NETWORK, llmEndpoints: config.WORKER_LLM_ENDPOINTS });
      registration.start();
      return Promise.resolve();
    },
    stop() {
      stopped ??= (async () => {
        log.info('worker stopping', { running: attempts.runningIds(), graceMs: config.WORKER_DRAIN_GRACE_MS });
        grpc.setServing('NOT_SERVING');
        await stopAll([
          () => attempts.drain(config.WORKER_DRAIN_GRACE_MS),
          () => registration.stop(),
          () => grpc.stop(2_000),
          () => http.close(),
          () => Promise.resolve(registryClient.close()),
          () => fetch.close(),
          () => localFetch.close(),
          () => Promise.resolve(models.stop()),
          ...[...executors.values()].map((executor) => () => executor.stop?.() ?? Promise.resolve()),
        ]);
        log.info('worker stopped');
      })();
      return stopped;
    },
  };
}
