// `npm start`: brings the whole platform up on this machine with zero configuration.
// Every service runs its own main.ts in a child process, as it would in production; logs go to
// .orchestra/logs/<service>.log and warnings/errors are echoed here. Ctrl-C stops everything.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { DEFAULT_PORTS, generatePrincipalKeys, launchService, mintWorkerToken, serviceRoleOf, type LaunchedService } from '@orchestra/lib';

const ROOT = resolve(__dirname, '..');
const STATE_DIR = join(ROOT, '.orchestra');
const LOG_DIR = join(STATE_DIR, 'logs');
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/orchestra';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const HOST = process.env['HOST'] ?? '127.0.0.1';

const SUBGRAPHS = ['audit', 'identity', 'catalog', 'orchestration', 'notifications'] as const;
type Subgraph = (typeof SUBGRAPHS)[number];
const entry = (...parts: string[]) => join(ROOT, ...parts, 'src', 'main.ts');

const say = (line: string) => process.stdout.write(`${line}\n`);
const fail = (line: string): never => {
  process.stderr.write(`orchestra: ${line}\n`);
  process.exit(1);
};

async function checkPostgres(): Promise<void> {
  const url = new URL(DATABASE_URL);
  const database = decodeURIComponent(url.pathname.slice(1)) || 'orchestra';
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    fail(
      `PostgreSQL is not reachable at ${url.host} (${(error as Error).message}). Start it with ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or set DATABASE_URL.',
    );
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
      say(`created database ${database}`);
    }
  } finally {
    await client.end();
  }
}

async function checkRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3_000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    fail(
      `Redis is not reachable at ${new URL(REDIS_URL).host} (${(error as Error).message}). Start it with ` +
        '`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`, or set REDIS_URL.',
    );
  } finally {
    redis.disconnect();
  }
}

interface DevSecrets {
  internalToken: string;
  principalPrivateKey: string;
  principalPublicKey: string;
  /** SECRETS_KEYS of orchestration and identity (the key that encrypts organization secrets and SSO client secrets). */
  secretsKeys: string;
  /** The orchestration service's WORKER_AUTH_SECRETS (worker tokens are minted under it). */
  workerAuthSecret: string;
  /** ARTIFACT_URL_KEYS of orchestration (signs artifact download URLs) and the gateway (checks them). */
  artifactUrlKey: string;
  /** Passwords of each service's own database logins (its service role and its tenant role). */
  databasePasswords: Record<string, { service: string; tenant: string }>;
}

const newPassword = () => randomBytes(18).toString('hex');

const newSecretsKeys = (): string => `dev1:${randomBytes(32).toString('base64')}`;

/** Kept in .orchestra/ (git-ignored) so a restart keeps sessions working. */
function devSecrets(): DevSecrets {
  const file = join(STATE_DIR, 'dev-secrets.json');
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>) : {};
  const complete = kept.databasePasswords !== undefined && SUBGRAPHS.every((s) => kept.databasePasswords?.[s] !== undefined);
  if (kept.internalToken && kept.principalPrivateKey && kept.principalPublicKey && kept.secretsKeys && kept.workerAuthSecret && kept.artifactUrlKey && complete) return kept as DevSecrets;
  const keys = generatePrincipalKeys();
  // A file from before a secret existed keeps what it has and gains the rest.
  const secrets: DevSecrets = {
    internalToken: randomBytes(32).toString('hex'),
    principalPrivateKey: keys.privateKeyPem,
    principalPublicKey: keys.publicKeyPem,
    secretsKeys: newSecretsKeys(),
    workerAuthSecret: randomBytes(32).toString('hex'),
    artifactUrlKey: randomBytes(32).toString('hex'),
    databasePasswords: Object.fromEntries(SUBGRAPHS.map((s) => [s, { service: newPassword(), tenant: newPassword() }])),
    ...kept,
  };
  // A service added since the file was written gets its logins too.
  for (const s of SUBGRAPHS) secrets.databasePasswords[s] ??= { service: newPassword(), tenant: newPassword() };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

const echoImportant = (name: string) => (_line: string, parsed: Record<string, unknown> | undefined) => {
  if (!parsed) return;
  const level = parsed['level'];
  if (level === 'warn' || level === 'error' || level === 'fatal') {
    const { msg, level: _l, time: _t, service: _s, ...rest } = parsed;
    say(`[${name}] ${String(level)}: ${String(msg)} ${Object.keys(rest).length > 0 ? JSON.stringify(rest) : ''}`);
  }
};

const STARTABLE = [...SUBGRAPHS, 'worker', 'gateway'];

/** A service's tenant role (its service role is serviceRoleOf it); each service's constant has this name. */
const tenantRoleOf = (s: Subgraph) => `orchestra_${s}_tenant`;

/** DATABASE_URL with another login. */
const loginUrl = (user: string, password: string): string => {
  const url = new URL(DATABASE_URL);
  url.username = user;
  url.password = password;
  return url.toString();
};

/**
 * Migrates the services' schemas as DATABASE_URL's user (the owner: the local superuser by default)
 * and lets each service's own roles log in: the services then run as those roles, which own nothing
 * and are no superusers (docs/decisions.md "Database roles").
 */
function migrateAsOwner(services: readonly Subgraph[], secrets: DevSecrets): void {
  const passwords: Record<string, string> = {};
  for (const s of services) {
    const p = secrets.databasePasswords[s];
    if (!p) continue;
    passwords[`${s.toUpperCase()}_DB_PASSWORD`] = p.service;
    passwords[`${s.toUpperCase()}_TENANT_DB_PASSWORD`] = p.tenant;
  }
  const result = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(ROOT, 'scripts', 'migrate.ts')], {
    env: { ...process.env, DATABASE_URL, MIGRATE_SERVICES: services.join(','), LOG_LEVEL: 'warn', ...passwords },
    encoding: 'utf8',
  });
  if (result.status !== 0) fail(`migrations failed: ${(result.stderr || result.stdout).trim()}`);
}

/** Builds the admin SPA into web/dist when it is missing or older than its sources (the gateway serves it). */
function buildWebApp(): void {
  const script = join(ROOT, 'web', 'scripts', 'ensure-built.mjs');
  if (!existsSync(script)) return;
  const result = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (result.status !== 0) say('web: the admin app did not build; the API still starts (see the output above)');
}

/** `npm start -- --only identity,gateway` starts just those (the others are expected elsewhere). */
function onlyServices(): Set<string> | undefined {
  const i = process.argv.indexOf('--only');
  if (i < 0) return undefined;
  const names = (process.argv[i + 1] ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !STARTABLE.includes(n));
  if (names.length === 0 || unknown.length > 0) fail(`--only expects a comma-separated list of ${STARTABLE.join(', ')}${unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  return new Set(names);
}

async function main(): Promise<void> {
  mkdirSync(LOG_DIR, { recursive: true });
  await Promise.all([checkPostgres(), checkRedis()]);
  const secrets = devSecrets();
  const only = onlyServices();
  const wanted = (name: string) => only === undefined || only.has(name);
  const present = SUBGRAPHS.filter((s) => existsSync(entry('subgraphs', s)));
  const launched = present.filter(wanted);
  const grpc = (s: Subgraph) => `${HOST}:${DEFAULT_PORTS[s].grpc}`;
  const common: Record<string, string> = {
    HOST,
    REDIS_URL,
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
    INTERNAL_TOKEN: secrets.internalToken,
    PRINCIPAL_PUBLIC_KEY: secrets.principalPublicKey,
    IDENTITY_GRPC_ADDR: grpc('identity'),
    CATALOG_GRPC_ADDR: grpc('catalog'),
    ORCHESTRATION_GRPC_ADDR: grpc('orchestration'),
    ARTIFACT_URL_KEYS: process.env['ARTIFACT_URL_KEYS'] ?? secrets.artifactUrlKey,
    // Workers write artifacts here; orchestration deletes expired ones and the gateway serves them from here.
    ARTIFACT_DIR: process.env['ARTIFACT_DIR'] ?? join(ROOT, '.orchestra', 'artifacts'),
    ...(present.includes('audit') ? { AUDIT_GRPC_ADDR: grpc('audit') } : {}),
    ...(present.includes('notifications') ? { NOTIFICATIONS_GRPC_ADDR: grpc('notifications') } : {}),
  };

  const running: LaunchedService[] = [];
  let firstAdmin: Record<string, unknown> | undefined;
  let stopping = false;
  const stopAllServices = async () => {
    // Front to back: the gateway stops taking requests first, subgraphs last.
    // Workers get longer: they finish running attempts first (WORKER_DRAIN_GRACE_MS, 30 s by default).
    const groups: Array<[LaunchedService[], number]> = [
      [running.filter((s) => s.name === 'gateway'), 10_000],
      [running.filter((s) => s.name.startsWith('worker')), 40_000],
      [running.filter((s) => s.name !== 'gateway' && !s.name.startsWith('worker')), 10_000],
    ];
    for (const [group, graceMs] of groups) await Promise.allSettled(group.map((s) => s.stop(graceMs)));
  };
  const launch = async (name: string, file: string, env: Record<string, string>, base: Record<string, string> = common) => {
    const service = await launchService({
      name,
      entry: file,
      logDir: LOG_DIR,
      env: { ...base, ...env },
      onLine: (line, parsed) => {
        if (parsed?.['msg'] === 'first admin created') firstAdmin = parsed;
        echoImportant(name)(line, parsed);
      },
    });
    running.push(service);
    service.process.once('exit', (code, signal) => {
      if (!stopping) say(`[${name}] exited unexpectedly (${signal ?? `code ${code}`}); see ${service.logFile}`);
    });
    say(`  ${name.padEnd(14)} ${service.httpUrl}${service.grpcAddress ? `  grpc ${service.grpcAddress}` : ''}`);
    return service;
  };

  say(`starting Orchestra (logs in ${LOG_DIR})`);
  migrateAsOwner(launched, secrets);
  try {
    await Promise.all(
      launched.map((s) =>
        launch(s, entry('subgraphs', s), {
          HTTP_PORT: String(DEFAULT_PORTS[s].http),
          GRPC_PORT: String(DEFAULT_PORTS[s].grpc),
          DB_SCHEMA: s,
          // Its own logins: a service role that owns nothing (system work) and its tenant role (tenant transactions).
          DATABASE_URL: loginUrl(serviceRoleOf(tenantRoleOf(s)), secrets.databasePasswords[s]!.service),
          TENANT_DATABASE_URL: loginUrl(tenantRoleOf(s), secrets.databasePasswords[s]!.tenant),
          DATABASE_MIGRATE: 'false',
          ...(s === 'orchestration' ? { SECRETS_KEYS: process.env['SECRETS_KEYS'] ?? secrets.secretsKeys, WORKER_AUTH_SECRETS: secrets.workerAuthSecret } : {}),
          // Identity seals SSO client secrets with the same keys.
          ...(s === 'identity' ? { SECRETS_KEYS: process.env['SECRETS_KEYS'] ?? secrets.secretsKeys } : {}),
        }),
      ),
    );
    if (present.includes('orchestration') && existsSync(entry('workers')) && wanted('worker')) {
      // A worker holds its own token (minted here for its id), never the services' token, database or keys.
      // Artifacts (screenshots, PDFs) under the checkout, where the gateway reads them back.
      const workerEnv = { HOST, LOG_LEVEL: common['LOG_LEVEL']!, ORCHESTRATION_GRPC_ADDR: grpc('orchestration'), ARTIFACT_DIR: process.env['ARTIFACT_DIR'] ?? join(ROOT, '.orchestra', 'artifacts') };
      const chromium = process.env['BROWSER_EXECUTABLE_PATH'] ?? '/usr/bin/chromium';
      say(
        existsSync(chromium)
          ? `worker-1: browser tasks on ${chromium}`
          : `worker-1: no Chromium at ${chromium}, so no browser capability; to add it: apt-get install chromium (Debian/Ubuntu), or set BROWSER_EXECUTABLE_PATH`,
      );
      await launch(
        'worker-1',
        entry('workers'),
        { HTTP_PORT: String(DEFAULT_PORTS.worker.http), GRPC_PORT: String(DEFAULT_PORTS.worker.grpc), WORKER_TOKEN: mintWorkerToken(secrets.workerAuthSecret, 'local-worker-1') },
        workerEnv,
      );
    }
    const subgraphUrl = (s: Subgraph) => (present.includes(s) ? `http://${HOST}:${DEFAULT_PORTS[s].http}/graphql` : 'http://127.0.0.1:1/graphql');
    const webDist = join(ROOT, 'web', 'dist');
    if (wanted('gateway')) buildWebApp();
    if (wanted('gateway')) await launch('gateway', join(ROOT, 'gateway', 'src', 'main.ts'), {
      HTTP_PORT: String(process.env['PORT'] ?? DEFAULT_PORTS.gateway.http),
      OPS_PORT: String(process.env['OPS_PORT'] ?? DEFAULT_PORTS.gateway.ops),
      PRINCIPAL_PRIVATE_KEY: secrets.principalPrivateKey,
      IDENTITY_HTTP_URL: `http://${HOST}:${DEFAULT_PORTS.identity.http}`,
      SUBGRAPH_IDENTITY_URL: subgraphUrl('identity'),
      SUBGRAPH_CATALOG_URL: subgraphUrl('catalog'),
      SUBGRAPH_ORCHESTRATION_URL: subgraphUrl('orchestration'),
      SUBGRAPH_AUDIT_URL: subgraphUrl('audit'),
      SUBGRAPH_NOTIFICATIONS_URL: subgraphUrl('notifications'),
      ...(existsSync(join(webDist, 'index.html')) ? { WEB_DIST_DIR: webDist } : {}),
    });
  } catch (error) {
    stopping = true;
    await stopAllServices();
    fail((error as Error).message);
  }

  const gateway = running.find((s) => s.name === 'gateway');
  say('');
  say(gateway ? `Orchestra is up: ${gateway.httpUrl}/graphql` : `Started: ${running.map((s) => s.name).join(', ')}`);
  if (gateway && existsSync(join(ROOT, 'web', 'dist', 'index.html'))) say(`Admin app: ${gateway.httpUrl}/`);
  if (firstAdmin) {
    say(`First admin created (shown once): ${String(firstAdmin['email'])} / ${String(firstAdmin['password'])}  (organization: ${typeof firstAdmin['organization'] === 'string' ? firstAdmin['organization'] : '?'})`);
  } else {
    say('Sign in with your admin account (it was created and printed on the first start).');
    say('Lost its password? npm run reset-password -w @orchestra/identity -- <email>  prints a new one.');
  }
  say('Press Ctrl-C to stop.');

  let firstSignalAt = 0;
  const onSignal = () => {
    // One Ctrl-C can arrive twice (npm and tsx relay it): only a later one forces the exit.
    if (stopping && Date.now() - firstSignalAt < 1_500) return;
    if (stopping) process.exit(1);
    stopping = true;
    firstSignalAt = Date.now();
    say('\nstopping Orchestra...');
    void stopAllServices().then(() => {
      say('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

void main();
