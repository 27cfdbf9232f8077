// Test support for the orchestration service's in-process suites (not exported from the package):
// the real service against a PostgreSQL schema and Redis prefix of its own, real workers from
// @orchestra/workers over real gRPC, and GraphQL requests signed like the gateway signs them.
import { randomUUID } from 'node:crypto';
import {
  createMemoryLogger,
  createPool,
  createPrincipalSigner,
  createRedis,
  createTestSchema,
  generatePrincipalKeys,
  listenService,
  loadConfig,
  mintWorkerToken,
  newRequestId,
  migrateTestSchema,
  TEST_DATABASE_URL,
  TEST_INTERNAL_TOKEN,
  TEST_REDIS_URL,
  TEST_WORKER_AUTH_SECRET,
  uniqueName,
  type Pool,
  type Principal,
  type Redis,
  type Role,
} from '@orchestra/lib';
import { createWorker, loadWorkerConfig, type WorkerHandle } from '@orchestra/workers';
import { orchestrationConfigSchema } from '../config';
import { generateSecretsKeys } from '../secrets/keyring';
import { TENANT_ROLE, type ArtifactObjects } from '../engine/engine';
import { changePoolGrant } from '../flow-control/operator-commands';
import { migrationsDir } from '../schema';
import { createOrchestrationService, type OrchestrationService } from '../service';

export interface GraphQLResult<T> {
  data: T | null | undefined;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export interface TestOrchestration {
  service: OrchestrationService;
  pool: Pool;
  redis: Redis;
  prefix: string;
  schema: string;
  grpcAddress: string;
  log: ReturnType<typeof createMemoryLogger>;
  /** The x-orchestra-principal header the gateway would send for `principal`. */
  sign(principal: Principal): Promise<string>;
  /** Runs a GraphQL operation as `principal`, with the gateway's signature. */
  graphql<T = Record<string, unknown>>(principal: Principal, query: string, variables?: Record<string, unknown>): Promise<GraphQLResult<T>>;
  startWorker(env?: Record<string, string>): Promise<WorkerHandle>;
  /** Lets an organization's steps use a pool besides "default" (what operators do with `flow-limits grant`). */
  grantPool(orgId: string, pool: string): Promise<void>;
  /** Stops the service and starts a new one on the same schema and Redis prefix (what a restart of the process does); `service` is then the new one. */
  restart(): Promise<void>;
  /** Stops the service without starting another (restart() or stop() after it). */
  stopService(): Promise<void>;
  /** Starts a second orchestration service (its own pool and dispatcher) on the same schema and prefix: another replica. Stopped by stop(). */
  startReplica(): Promise<OrchestrationService>;
  stop(): Promise<void>;
}

export const userPrincipal = (orgId: string, role: Role, userId: string = randomUUID()): Principal => ({
  kind: 'user',
  id: userId,
  userId,
  orgId,
  role,
  scopes: [],
  display: `${role}@${orgId.slice(0, 8)}.test`,
  requestId: newRequestId(),
});

export const apiKeyPrincipal = (orgId: string, scopes: string[]): Principal => {
  const id = randomUUID();
  return { kind: 'apiKey', id, apiKeyId: id, orgId, scopes, display: 'test key', requestId: newRequestId() };
};

export async function startTestOrchestration(env: Record<string, string> = {}, options: { artifactObjects?: ArtifactObjects } = {}): Promise<TestOrchestration> {
  const keys = generatePrincipalKeys();
  const signer = createPrincipalSigner(keys.privateKeyPem);
  const { schema, drop } = await createTestSchema('orch');
  const prefix = uniqueName('test:orch');
  const log = createMemoryLogger('orchestration');
  const config = loadConfig(orchestrationConfigSchema, {
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    DB_SCHEMA: schema,
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    WORKER_AUTH_SECRETS: TEST_WORKER_AUTH_SECRET,
    PRINCIPAL_PUBLIC_KEY: keys.publicKeyPem,
    WORKER_HEARTBEAT_INTERVAL_MS: '200',
    // Long enough that a busy worker on a loaded 2-core CI machine is not presumed lost and its task run
    // again beside itself; tests of lease loss (fleet.test.ts) ask for a short lease explicitly.
    WORKER_LEASE_TTL_MS: '10000',
    RECONCILE_INTERVAL_MS: '300',
    DISPATCH_RETRY_DELAY_MS: '50',
    EVENT_FLUSH_INTERVAL_MS: '50',
    DRAIN_TIMEOUT_MS: '1000',
    SECRETS_KEYS: generateSecretsKeys('test1'),
    ...env,
  });
  const pool = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'orchestration-test', log });
  const redis = createRedis({ url: TEST_REDIS_URL, name: 'orchestration-test', log });
  await migrateTestSchema({ pool, schema, dir: migrationsDir, tenantRole: TENANT_ROLE, log });
  const service = createOrchestrationService({ config, pool, redis, log, ...options });
  const addresses = await listenService(service, { host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
  const grpcAddress = addresses.grpcAddress as string;
  const workers: WorkerHandle[] = [];
  const replicas: Array<{ service: OrchestrationService; pool: Pool }> = [];
  let serviceStopped = false;

  const handle: TestOrchestration = {
    service,
    pool,
    redis,
    prefix,
    schema,
    grpcAddress,
    log,
    sign: (principal) => signer.sign({ ...principal, requestId: newRequestId() }),
    async graphql<T>(principal: Principal, query: string, variables?: Record<string, unknown>) {
      const res = await handle.service.http.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', 'x-orchestra-principal': await signer.sign({ ...principal, requestId: newRequestId() }) },
        payload: { query, variables },
      });
      const result = res.json<GraphQLResult<T>>();
      // An INTERNAL error says only its request id: print what the service logged for it, so a
      // failure seen only in CI (where the in-memory log is gone with the test) names its cause.
      for (const error of result.errors ?? []) {
        const ext = (error as { extensions?: { code?: string; requestId?: string } }).extensions;
        if (ext?.code !== 'INTERNAL' || ext.requestId === undefined) continue;
        const logged = log.lines.filter((line) => JSON.stringify(line).includes(ext.requestId as string));
        process.stderr.write(`orchestration logged for ${ext.requestId}:\n${logged.map((line) => JSON.stringify(line)).join('\n')}\n`);
      }
      return result;
    },
    async stopService() {
      if (serviceStopped) return;
      serviceStopped = true;
      await handle.service.stop();
    },
    async restart() {
      await handle.stopService();
      // The same gRPC port is not promised: tests that restart use GraphQL and the database.
      const next = createOrchestrationService({ config, pool, redis, log });
      await listenService(next, { host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
      handle.service = next;
      serviceStopped = false;
    },
    async startReplica() {
      const replicaPool = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'orchestration-test-replica', log });
      const replica = createOrchestrationService({ config, pool: replicaPool, redis, log: log.child({ replica: replicas.length + 1 }) });
      await listenService(replica, { host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
      replicas.push({ service: replica, pool: replicaPool });
      return replica;
    },
    async grantPool(orgId, poolName) {
      await changePoolGrant(pool, orgId, poolName, true, 'test operator');
    },
    async startWorker(workerEnv = {}) {
      const workerId = workerEnv['WORKER_ID'] ?? uniqueName('w');
      const workerConfig = loadWorkerConfig({
        WORKER_TOKEN: mintWorkerToken(TEST_WORKER_AUTH_SECRET, workerId),
        ORCHESTRATION_GRPC_ADDR: grpcAddress,
        HOST: '127.0.0.1',
        NVIDIA_SMI_PATH: '/nonexistent/nvidia-smi',
        WORKER_ID: workerId,
        WORKER_DRAIN_GRACE_MS: '0',
        ...workerEnv,
      });
      const worker = createWorker({ config: workerConfig, log: log.child({ worker: workerConfig.WORKER_ID }), registration: { retry: { initialMs: 50, maxMs: 200 } } });
      await listenService(worker, { host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
      workers.push(worker);
      return worker;
    },
    async stop() {
      await Promise.allSettled(workers.map((w) => w.stop()));
      for (const r of replicas) {
        await r.service.stop();
        await r.pool.end();
      }
      await handle.stopService();
      await pool.end();
      const stale = await redis.keys(`${prefix}*`);
      if (stale.length > 0) await redis.del(...stale);
      await redis.quit();
      await drop();
    },
  };
  return handle;
}

/** Deletes every Redis key of the suite: what a FLUSHALL does to this service, without touching other suites. */
export async function flushPrefix(redis: Redis, prefix: string): Promise<number> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  return keys.length;
}
