// Helpers shared by the workers' tests (not exported from the package).
import {
  AppError,
  TEST_INTERNAL_TOKEN,
  createGrpcServer,
  createMemoryLogger,
  fromGrpcError,
  insecureCredentials,
  listenService,
  loadConfig,
  serverStreamCall,
  type CallOptions,
  type GrpcServer,
  type LogFields,
  type grpc,
} from '@orchestra/lib';
import { automationV1, orchestrationV1 as orchestration, type orchestrationV1 } from '@orchestra/proto';
import { workerConfigSchema, type WorkerConfig } from './config';
import { createWorker, type WorkerDeps, type WorkerHandle } from './worker';

/** A worker config as main.ts would parse it, from environment-style strings. */
export const testWorkerConfig = (env: Record<string, string> = {}): WorkerConfig =>
  loadConfig(workerConfigSchema, { INTERNAL_TOKEN: TEST_INTERNAL_TOKEN, ORCHESTRATION_GRPC_ADDR: '127.0.0.1:1', HOST: '127.0.0.1', NVIDIA_SMI_PATH: '/nonexistent/nvidia-smi', ...env });

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
  heartbeatIntervalMs: number;
  stop(): Promise<void>;
}

/**
 * A stand-in for the orchestration service's WorkerRegistry over real gRPC, for the worker's unit
 * tests: it records what the worker sends and answers what a test tells it to. The real registry
 * and the worker meet in tests/orchestration.
 */
export async function startTestRegistry(): Promise<TestRegistry> {
  const server: GrpcServer = createGrpcServer({ service: 'test-registry', log: createMemoryLogger('test-registry'), internalToken: TEST_INTERNAL_TOKEN });
  const registry: TestRegistry = {
    address: '',
    registers: [],
    heartbeats: [],
    deregisters: [],
    failRegisters: 0,
    failHeartbeats: 0,
    nextHeartbeat: undefined,
    heartbeatIntervalMs: 50,
    stop: () => server.stop(100),
  };
  server.add(
    orchestration.WorkerRegistryService,
    {
      register(request) {
        if (registry.failRegisters > 0) {
          registry.failRegisters -= 1;
          return Promise.reject(new AppError('UNAVAILABLE', 'registry is starting', { reason: 'STARTING' }));
        }
        registry.registers.push(request);
        return Promise.resolve({ heartbeatIntervalMs: registry.heartbeatIntervalMs, leaseTtlMs: registry.heartbeatIntervalMs * 3 });
      },
      heartbeat(request) {
        if (registry.failHeartbeats > 0) {
          registry.failHeartbeats -= 1;
          return Promise.reject(new AppError('UNAVAILABLE', 'registry database is down', { reason: 'DB_DOWN' }));
        }
        registry.heartbeats.push(request);
        const answer = { known: true, cancelAttemptIds: [], ...registry.nextHeartbeat };
        registry.nextHeartbeat = undefined;
        return Promise.resolve(answer);
      },
      deregister(request) {
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
export const execute = (client: automationV1.AutomationServiceClient, request: Partial<automationV1.ExecuteRequest>, call: CallOptions = {}): Execution => {
  const events: automationV1.ExecuteResponse[] = [];
  const stream = serverStreamCall(client, client.execute, automationV1.ExecuteRequest.fromPartial({ taskId: 'task-1', runId: 'run-1', stepId: 'step', attempt: 1, ...request }), { internalToken: TEST_INTERNAL_TOKEN }, call);
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
