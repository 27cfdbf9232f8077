import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { composeCurrentSupergraph } from '@orchestra/gateway';
import pg from 'pg';
import {
  createMemoryLogger,
  createPrincipalSigner,
  createRedis,
  generatePrincipalKeys,
  launchService,
  migrateTestSchema,
  mintWorkerToken,
  serviceRoleOf,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  uniqueName,
  type LaunchedService,
  type Principal,
  type Redis,
} from '@orchestra/lib';

/**
 * Starts Orchestra for a cross-service test suite: each service's real main.ts in its own child
 * process (real gRPC and HTTP between them), against the machine's PostgreSQL (a schema per service
 * per suite) and Redis (a key prefix per suite), plus the gateway in front. `stop()` removes it all.
 */

export type ServiceName = 'identity' | 'catalog' | 'orchestration' | 'audit' | 'notifications';

const ROOT = resolve(__dirname, '..', '..');
const WORKSPACES: Record<ServiceName | 'worker' | 'gateway', string[]> = {
  identity: ['subgraphs', 'identity'],
  catalog: ['subgraphs', 'catalog'],
  orchestration: ['subgraphs', 'orchestration'],
  audit: ['subgraphs', 'audit'],
  notifications: ['subgraphs', 'notifications'],
  worker: ['workers'],
  gateway: ['gateway'],
};
/** main.ts under tsx, or with ORCHESTRA_COMPILED=1 the compiled dist/main.js (`npm run build:dist` first). */
const entryOf = (name: ServiceName | 'worker' | 'gateway'): string =>
  process.env['ORCHESTRA_COMPILED'] === '1' ? join(ROOT, ...WORKSPACES[name], 'dist', 'main.js') : join(ROOT, ...WORKSPACES[name], 'src', 'main.ts');
const GRPC_ADDR_VAR: Record<ServiceName, string> = {
  identity: 'IDENTITY_GRPC_ADDR',
  catalog: 'CATALOG_GRPC_ADDR',
  orchestration: 'ORCHESTRATION_GRPC_ADDR',
  audit: 'AUDIT_GRPC_ADDR',
  notifications: 'NOTIFICATIONS_GRPC_ADDR',
};
/** Nothing listens on port 1: requests to a subgraph that was not started fail fast. */
const NOT_STARTED_URL = 'http://127.0.0.1:1/graphql';

export interface PlatformOptions {
  services: ServiceName[];
  /** How many worker processes to start (needs orchestration). */
  workers?: number;
  /** Extra environment per process kind. */
  env?: Partial<Record<ServiceName | 'worker' | 'gateway', Record<string, string>>>;
  /**
   * Run the services as `npm start` and the chart do: the schemas migrated first by their owner
   * (scripts/migrate.ts), each service then logged in as its own service role and tenant role
   * (DATABASE_URL, TENANT_DATABASE_URL, DATABASE_MIGRATE=false). Default: as the test database's
   * superuser, migrating at start.
   */
  databaseRoles?: boolean;
}

export interface GraphQLErrorJson {
  message: string;
  path?: Array<string | number>;
  extensions?: Record<string, unknown> & { code?: string; reason?: string; field?: string; requestId?: string };
}

export interface GraphQLResponse<T> {
  status: number;
  data: T | null | undefined;
  errors: GraphQLErrorJson[] | undefined;
  headers: Headers;
}

export interface Auth {
  /** An access token (JWT). */
  token?: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

export interface Platform {
  /** http://127.0.0.1:<port>/graphql */
  gatewayUrl: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  gateway: LaunchedService;
  services: Partial<Record<ServiceName, LaunchedService>>;
  workers: LaunchedService[];
  /** The PostgreSQL schema of each started service (query tables as `${schemas.identity}.users`). */
  schemas: Record<ServiceName, string>;
  /** A pool on the test database (no schema on its search_path), for direct assertions. */
  pool: pg.Pool;
  redis: Redis;
  redisPrefix: string;
  internalToken: string;
  /** The orchestration service's WORKER_AUTH_SECRETS: mints worker tokens (`mintWorkerToken`). */
  workerAuthSecret: string;
  /** Signs a principal as the gateway would (to call a subgraph directly, e.g. a benchmark's baseline). */
  signPrincipal(principal: Principal): Promise<string>;
  /** The first admin identity created at start (from its 'first admin created' log line), if any. */
  firstAdmin: { email: string; password: string; organization?: string } | undefined;
  /** Where each process writes its log (printed when a start fails). */
  logDir: string;
  graphql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, auth?: Auth): Promise<GraphQLResponse<T>>;
  /** Starts one more worker process; `env` adds to the platform's worker env. */
  startWorker(env?: Record<string, string>): Promise<LaunchedService>;
  /** Stops a service (SIGTERM, drain). */
  stopService(name: ServiceName): Promise<void>;
  /** Starts a stopped (or killed) service again on the same ports. */
  startService(name: ServiceName): Promise<LaunchedService>;
  stop(): Promise<void>;
}

/** Ports handed out by this process (never twice). */
const handedOut = new Set<number>();

/** Binds `port` on 127.0.0.1 and lets it go: true when nothing else holds it now. */
const bindable = (port: number): Promise<boolean> =>
  new Promise((resolveBindable) => {
    const server = createServer();
    server.once('error', () => resolveBindable(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveBindable(true)));
  });

/**
 * A port free right now, which the child binds a moment later. Taken at random below Linux's ephemeral
 * range (32768+): a port the OS hands out for bind(0) is also what it picks as the local port of
 * outgoing connections, and with several platforms starting at once one of their PostgreSQL or Redis
 * connections took such a port before the child could listen on it (EADDRINUSE in CI).
 */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = 15_000 + Math.floor(Math.random() * 17_000);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free port found between 15000 and 32000 after 100 tries');
}

let composed: string | undefined;
/** Composed once per test process. */
const currentSupergraph = (): string => (composed ??= composeCurrentSupergraph());

/**
 * Starts the platform; a start that lost a port to another process in the moment between choosing it
 * and a child binding it (EADDRINUSE) is cleaned up and tried again with other ports, twice at most.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startPlatformOnce(options);
    } catch (error) {
      if (attempt >= 3 || !String((error as Error).message).includes('EADDRINUSE')) throw error;
    }
  }
}

async function startPlatformOnce(options: PlatformOptions): Promise<Platform> {
  const runId = uniqueName('p');
  const redisPrefix = `test:${runId}`;
  const keys = generatePrincipalKeys();
  const internalToken = randomBytes(24).toString('hex');
  /** Orchestration's key-encryption key of organization secrets. */
  const secretsKeys = `test1:${randomBytes(32).toString('base64')}`;
  const workerAuthSecret = randomBytes(24).toString('hex');
  const logDir = join(tmpdir(), 'orchestra-tests', runId);
  const started = [...new Set(options.services)];
  const schemas = Object.fromEntries((['identity', 'catalog', 'orchestration', 'audit', 'notifications'] as const).map((s) => [s, `${s}_${runId}`])) as Record<ServiceName, string>;
  const ports = Object.fromEntries(
    await Promise.all(started.map(async (s) => [s, { http: await freePort(), grpc: await freePort() }] as const)),
  ) as Partial<Record<ServiceName, { http: number; grpc: number }>>;
  const gatewayPort = await freePort();

  const addresses: Record<string, string> = {};
  for (const s of started) addresses[GRPC_ADDR_VAR[s]] = `127.0.0.1:${ports[s]!.grpc}`;
  const common: Record<string, string> = {
    LOG_LEVEL: process.env['TEST_SERVICE_LOG_LEVEL'] ?? 'info',
    HOST: '127.0.0.1',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    INTERNAL_TOKEN: internalToken,
    PRINCIPAL_PUBLIC_KEY: keys.publicKeyPem,
    // Orchestration signs artifact download URLs, the gateway checks them and serves the run's artifact folder.
    ARTIFACT_URL_KEYS: randomBytes(32).toString('hex'),
    ARTIFACT_DIR: join(tmpdir(), 'orchestra-tests', runId, 'artifacts'),
    ...addresses,
  };

  // Each service's own logins, after its schema is migrated by the owner (as `npm start` does).
  const databaseEnv: Partial<Record<ServiceName, Record<string, string>>> = {};
  if (options.databaseRoles) {
    const login = (user: string, password: string) => {
      const url = new URL(TEST_DATABASE_URL);
      url.username = user;
      url.password = password;
      return url.toString();
    };
    const migrateEnv: Record<string, string> = { DATABASE_URL: TEST_DATABASE_URL, MIGRATE_SERVICES: started.join(','), LOG_LEVEL: 'warn' };
    for (const s of started) {
      const key = s.toUpperCase();
      const passwords = { service: randomBytes(12).toString('hex'), tenant: randomBytes(12).toString('hex') };
      Object.assign(migrateEnv, { [`${key}_DB_SCHEMA`]: schemas[s], [`${key}_DB_PASSWORD`]: passwords.service, [`${key}_TENANT_DB_PASSWORD`]: passwords.tenant });
      const tenantRole = `orchestra_${s}_tenant`;
      databaseEnv[s] = { DATABASE_URL: login(serviceRoleOf(tenantRole), passwords.service), TENANT_DATABASE_URL: login(tenantRole, passwords.tenant), DATABASE_MIGRATE: 'false' };
    }
    const migrated = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(ROOT, 'scripts', 'migrate.ts')], { env: { ...process.env, ...migrateEnv }, encoding: 'utf8' });
    if (migrated.status !== 0) throw new Error(`platform: migrations failed: ${migrated.stderr || migrated.stdout}`);
  }

  const log = createMemoryLogger('platform');
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  const redis = createRedis({ url: TEST_REDIS_URL, name: 'test-platform', log });
  const services: Partial<Record<ServiceName, LaunchedService>> = {};
  const workers: LaunchedService[] = [];
  let firstAdmin: Platform['firstAdmin'];
  let workerCount = 0;

  const startAbort = new AbortController();
  const launch = (name: ServiceName) =>
    launchService({
      name,
      entry: entryOf(name),
      logDir,
      signal: startAbort.signal,
      env: {
        ...common,
        HTTP_PORT: String(ports[name]!.http),
        GRPC_PORT: String(ports[name]!.grpc),
        DB_SCHEMA: schemas[name],
        // Suites sign up many organizations from 127.0.0.1: the per-IP creation limits are identity's own tests' business.
        ...(name === 'identity' ? { SIGN_UPS_PER_IP: '1000000', ORGANIZATIONS_PER_IP: '1000000' } : {}),
        ...(name === 'orchestration' ? { SECRETS_KEYS: secretsKeys, WORKER_AUTH_SECRETS: workerAuthSecret } : {}),
        // Links in identity's mails and the SSO redirect URI point at the app the gateway serves.
        ...(name === 'identity' ? { SECRETS_KEYS: secretsKeys, APP_URL: `http://127.0.0.1:${gatewayPort}` } : {}),
        ...databaseEnv[name],
        ...options.env?.[name],
      },
      onLine: (_line, parsed) => {
        if (parsed?.['msg'] === 'first admin created' && typeof parsed['email'] === 'string' && typeof parsed['password'] === 'string') {
          firstAdmin = { email: parsed['email'], password: parsed['password'], ...(typeof parsed['organization'] === 'string' ? { organization: parsed['organization'] } : {}) };
        }
      },
    }).then((service) => {
      services[name] = service;
      return service;
    });

  const launchWorker = (env: Record<string, string> = {}) => {
    workerCount += 1;
    // A worker gets its own token and where the orchestration service is: not the services' token,
    // the database or the principal key (docs/decisions.md "Worker credentials").
    const workerId = env['WORKER_ID'] ?? options.env?.worker?.['WORKER_ID'] ?? `${runId}-w${workerCount}`;
    return launchService({
      name: `worker-${workerCount}`,
      entry: entryOf('worker'),
      logDir,
      signal: startAbort.signal,
      env: {
        LOG_LEVEL: common['LOG_LEVEL']!,
        HOST: '127.0.0.1',
        ...(addresses['ORCHESTRATION_GRPC_ADDR'] === undefined ? {} : { ORCHESTRATION_GRPC_ADDR: addresses['ORCHESTRATION_GRPC_ADDR'] }),
        HTTP_PORT: '0',
        GRPC_PORT: '0',
        WORKER_ID: workerId,
        WORKER_TOKEN: mintWorkerToken(workerAuthSecret, workerId),
        ARTIFACT_DIR: common['ARTIFACT_DIR']!,
        ...options.env?.worker,
        ...env,
      },
    }).then((worker) => {
      workers.push(worker);
      return worker;
    });
  };

  // The gateway runs on the supergraph of the subgraphs as they are in this tree, so a suite never
  // depends on when gateway/supergraph.graphql was last regenerated (codegen:check guards that file).
  mkdirSync(logDir, { recursive: true });
  const supergraphPath = join(logDir, 'supergraph.graphql');
  writeFileSync(supergraphPath, currentSupergraph());

  const urlOf = (name: ServiceName) => (started.includes(name) ? `http://127.0.0.1:${ports[name]!.http}/graphql` : NOT_STARTED_URL);
  const launchGateway = () =>
    launchService({
      name: 'gateway',
      entry: entryOf('gateway'),
      logDir,
      signal: startAbort.signal,
      env: {
        ...common,
        HTTP_PORT: String(gatewayPort),
        OPS_PORT: '0',
        PRINCIPAL_PRIVATE_KEY: keys.privateKeyPem,
        IDENTITY_HTTP_URL: started.includes('identity') ? `http://127.0.0.1:${ports.identity!.http}` : 'http://127.0.0.1:1',
        IDENTITY_GRPC_ADDR: started.includes('identity') ? `127.0.0.1:${ports.identity!.grpc}` : '127.0.0.1:1',
        SUBGRAPH_IDENTITY_URL: urlOf('identity'),
        SUBGRAPH_CATALOG_URL: urlOf('catalog'),
        SUBGRAPH_ORCHESTRATION_URL: urlOf('orchestration'),
        SUBGRAPH_AUDIT_URL: urlOf('audit'),
        SUBGRAPH_NOTIFICATIONS_URL: urlOf('notifications'),
        SUPERGRAPH_PATH: supergraphPath,
        ...options.env?.gateway,
      },
    });

  const cleanup = async (gateway?: LaunchedService) => {
    await Promise.allSettled([gateway?.stop(5_000), ...workers.map((w) => w.stop(5_000))]);
    await Promise.allSettled(Object.values(services).map((s) => s.stop(5_000)));
    for (const name of started) await pool.query(`DROP SCHEMA IF EXISTS "${schemas[name]}" CASCADE`).catch(() => undefined);
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await redis.del(...found);
    } while (cursor !== '0');
    await pool.end();
    await redis.quit();
  };

  let gateway: LaunchedService;
  try {
    // Each service's schema copied from a template of its migrations (lib migrateTestSchema): its own
    // start then finds every migration applied. With databaseRoles, scripts/migrate.ts runs them as `npm start` does.
    if (!options.databaseRoles) {
      await Promise.all(
        started.map((s) => migrateTestSchema({ pool, schema: schemas[s], dir: join(ROOT, ...WORKSPACES[s], 'src', 'migrations'), tenantRole: `orchestra_${s}_tenant`, log })),
      );
    }
    const launches: Array<Promise<unknown>> = [...started.map(launch), launchGateway().then((g) => (gateway = g))];
    for (let i = 0; i < (options.workers ?? 0); i += 1) launches.push(launchWorker());
    // The first failure aborts the other starts (a config error should not wait out their timeouts).
    for (const launch of launches) launch.catch(() => startAbort.abort());
    const results = await Promise.allSettled(launches);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String((r.reason as Error).message));
    if (failures.length > 0) throw new Error(`platform did not start (logs in ${logDir}):\n${failures.filter((f) => !f.includes('(start aborted)')).join('\n\n')}`);
  } catch (error) {
    await cleanup(gateway!);
    throw error;
  }

  const gatewayUrl = `${gateway!.httpUrl}/graphql`;
  return {
    gatewayUrl,
    wsUrl: gatewayUrl.replace(/^http/, 'ws'),
    gateway: gateway!,
    services,
    workers,
    schemas,
    pool,
    redis,
    redisPrefix,
    internalToken,
    workerAuthSecret,
    signPrincipal: (principal) => createPrincipalSigner(keys.privateKeyPem).sign(principal),
    get firstAdmin() {
      return firstAdmin;
    },
    logDir,
    async graphql<T>(query: string, variables?: Record<string, unknown>, auth: Auth = {}): Promise<GraphQLResponse<T>> {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...auth.headers };
      if (auth.token) headers['authorization'] = `Bearer ${auth.token}`;
      if (auth.apiKey) headers['authorization'] = `Bearer ${auth.apiKey}`;
      const res = await fetch(gatewayUrl, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const text = await res.text();
      let body: { data?: T | null; errors?: GraphQLErrorJson[] };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new Error(`gateway answered ${res.status} with a body that is not JSON: ${text.slice(0, 500)}`);
      }
      return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
    },
    startWorker: (env) => launchWorker(env),
    async stopService(name) {
      await services[name]?.stop(10_000);
      delete services[name];
    },
    startService: (name) => launch(name),
    stop: () => cleanup(gateway),
  };
}
