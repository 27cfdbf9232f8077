// Helpers shared by the workers' tests (not exported from the package).
import {
  AppError,
  TEST_WORKER_AUTH_SECRET,
  eventually,
  createGrpcServer,
  createMemoryLogger,
  createWorkerAuthority,
  fromGrpcError,
  insecureCredentials,
  listenService,
  methodPaths,
  mintWorkerToken,
  serverStreamCall,
  type CallOptions,
  type GrpcServer,
  type LogFields,
  type GuardedFetch,
  type grpc,
} from '@orchestra/lib';
import { automationV1, orchestrationV1 as orchestration, type orchestrationV1 } from '@orchestra/proto';
import { loadWorkerConfig, type WorkerConfig } from './config';
import { createModelGateway, type ModelGatewayOptions } from './executors/llm/model-gateway';
import type { ExecutorEnvironment } from './executors/types';
import { createWorker, type WorkerDeps, type WorkerHandle } from './worker';

/** The worker id of test workers that do not name one. */
export const TEST_WORKER_ID = 'test-worker';

/** What the test registry signs with, as the orchestration service would with its WORKER_AUTH_SECRETS. */
export const testAuthority = createWorkerAuthority([TEST_WORKER_AUTH_SECRET]);

/** Call options of the orchestration service calling worker `workerId` (its dispatch token). */
export const asOrchestrator = (workerId: string = TEST_WORKER_ID) => ({ internalToken: testAuthority.dispatchToken(workerId) });

/** A worker config as main.ts would parse it, from environment-style strings (a token minted for its WORKER_ID). */
export const testWorkerConfig = (env: Record<string, string> = {}): WorkerConfig => {
  const workerId = env['WORKER_ID'] ?? TEST_WORKER_ID;
  return loadWorkerConfig({
    WORKER_ID: workerId,
    WORKER_TOKEN: mintWorkerToken(TEST_WORKER_AUTH_SECRET, workerId),
    ORCHESTRATION_GRPC_ADDR: '127.0.0.1:1',
    HOST: '127.0.0.1',
    NVIDIA_SMI_PATH: '/nonexistent/nvidia-smi',
    ...env,
  });
};

export interface TestRegistry {
  address: string;
  registers: orchestrationV1.RegisterRequest[];
  heartbeats: orchestrationV1.HeartbeatRequest[];
  deregisters: orchestrationV1.DeregisterRequest[];
  /** The next Register calls fail with UNAVAILABLE this many times. */
  failRegisters: number;
  /** The next Heartbeat calls fail with UNAVAILABLE this many times. */
  failHeartbeats: number;
  /** What the next heartbeat answers (then back to known=true, nothing to cancel). */
  nextHeartbeat: Partial<orchestrationV1.HeartbeatResponse> | undefined;
  /** The worker ids of the worker tokens calls came with. */
  callers: string[];
  heartbeatIntervalMs: number;
  stop(): Promise<void>;
}

/**
 * A stand-in for the orchestration service's WorkerRegistry over real gRPC, for the worker's unit
 * tests: it records what the worker sends and answers what a test tells it to. The real registry
 * and the worker meet in tests/orchestration.
 */
export async function startTestRegistry(): Promise<TestRegistry> {
  // Like the real registry: worker tokens only, answered with the worker's dispatch tokens.
  const server: GrpcServer = createGrpcServer({
    service: 'test-registry',
    log: createMemoryLogger('test-registry'),
    credentials: [
      {
        verify: (token) => {
          const workerId = testAuthority.verifyWorkerToken(token);
          return workerId === undefined ? undefined : { kind: 'worker', workerId };
        },
        methods: methodPaths(orchestration.WorkerRegistryService),
      },
    ],
  });
  const callerOf = (ctx: { caller: { kind: string; workerId?: string } }) => registry.callers.push(ctx.caller.workerId ?? ctx.caller.kind);
  const registry: TestRegistry = {
    address: '',
    registers: [],
    heartbeats: [],
    deregisters: [],
    failRegisters: 0,
    failHeartbeats: 0,
    nextHeartbeat: undefined,
    callers: [],
    heartbeatIntervalMs: 50,
    stop: () => server.stop(100),
  };
  server.add(
    orchestration.WorkerRegistryService,
    {
      register(request, ctx) {
        callerOf(ctx);
        if (registry.failRegisters > 0) {
          registry.failRegisters -= 1;
          return Promise.reject(new AppError('UNAVAILABLE', 'registry is starting', { reason: 'STARTING' }));
        }
        registry.registers.push(request);
        const workerId = request.worker?.workerId ?? '';
        return Promise.resolve({ heartbeatIntervalMs: registry.heartbeatIntervalMs, leaseTtlMs: registry.heartbeatIntervalMs * 3, dispatchTokens: testAuthority.dispatchTokens(workerId) });
      },
      heartbeat(request, ctx) {
        callerOf(ctx);
        if (registry.failHeartbeats > 0) {
          registry.failHeartbeats -= 1;
          return Promise.reject(new AppError('UNAVAILABLE', 'registry database is down', { reason: 'DB_DOWN' }));
        }
        registry.heartbeats.push(request);
        const answer = { known: true, cancelAttemptIds: [], dispatchTokens: testAuthority.dispatchTokens(request.workerId), ...registry.nextHeartbeat };
        registry.nextHeartbeat = undefined;
        return Promise.resolve(answer);
      },
      deregister(request, ctx) {
        callerOf(ctx);
        registry.deregisters.push(request);
        return Promise.resolve({});
      },
    },
    'orchestra.orchestration.v1.WorkerRegistry',
  );
  const port = await server.listen('127.0.0.1', 0);
  server.setServing('SERVING');
  registry.address = `127.0.0.1:${port}`;
  return registry;
}

let attemptCounter = 0;
export const nextAttemptId = (label: string) => `${label}-${process.pid}-${(attemptCounter += 1)}`;

export interface Started {
  worker: WorkerHandle;
  client: automationV1.AutomationServiceClient;
  httpUrl: string;
  grpcAddress: string;
  log: ReturnType<typeof createMemoryLogger>;
}

/** A worker registered with `registry`, listening on port 0, and a client for it. */
export const startWorker = async (registry: TestRegistry, env: Record<string, string> = {}, tuning: WorkerDeps['registration'] = {}): Promise<Started> => {
  const log = createMemoryLogger('worker-test');
  const worker = createWorker({ config: testWorkerConfig({ ORCHESTRATION_GRPC_ADDR: registry.address, ...env }), log, version: 'test', registration: tuning });
  const { httpUrl, grpcAddress } = await listenService(worker, { host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
  // A worker takes calls only once its registry has told it the dispatch tokens (a test that scripts
  // failing registrations waits itself).
  if (registry.failRegisters === 0) await eventually(() => worker.registered, { what: 'the test worker registered' });
  const client = new automationV1.AutomationServiceClient(grpcAddress!, insecureCredentials());
  return { worker, client, httpUrl, grpcAddress: grpcAddress!, log };
};

export interface Execution {
  events: automationV1.ExecuteResponse[];
  /** Resolves when the stream ends, with the error if it failed. */
  ended: Promise<AppError | undefined>;
  /** Resolves at the first event. */
  firstEvent: Promise<void>;
}

/** Calls Execute and collects its stream. */
export const execute = (client: automationV1.AutomationServiceClient, request: Partial<automationV1.ExecuteRequest>, call: CallOptions = {}, workerId: string = TEST_WORKER_ID): Execution => {
  const events: automationV1.ExecuteResponse[] = [];
  const stream = serverStreamCall(client, client.execute, automationV1.ExecuteRequest.fromPartial({ taskId: 'task-1', runId: 'run-1', stepId: 'step', attempt: 1, ...request }), asOrchestrator(workerId), call);
  let onFirst: () => void = () => undefined;
  const firstEvent = new Promise<void>((resolve) => (onFirst = resolve));
  const ended = new Promise<AppError | undefined>((resolve) => {
    stream.on('data', (event: automationV1.ExecuteResponse) => {
      events.push(event);
      onFirst();
    });
    stream.on('error', (error: grpc.ServiceError) => resolve(fromGrpcError(error)));
    stream.on('end', () => resolve(undefined));
  });
  return { events, ended, firstEvent };
};

export const resultOf = (events: automationV1.ExecuteResponse[]): automationV1.TaskResult | undefined => {
  const last = events.at(-1)?.event;
  return last?.$case === 'result' ? last.value : undefined;
};

export const linesFor = (log: { lines: LogFields[] }, attemptId: string, msg: string) => log.lines.filter((l) => l['attemptId'] === attemptId && l['msg'] === msg);

/** What a worker hands executor factories, around `fetch` (also used as the local fetch); stop the gateway after. */
export const testExecutorEnvironment = (fetch: GuardedFetch, llm: Partial<ModelGatewayOptions> = {}): ExecutorEnvironment => ({
  fetch,
  llm: {
    models: createModelGateway({ fetch, localFetch: fetch, localEndpoints: [], circuitFailureThreshold: 3, circuitResetMs: 200, defaultTimeoutMs: 2_000, ...llm }),
  },
});
