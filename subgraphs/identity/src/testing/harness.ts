/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-member-access --
   test support, read loosely like the *.test.ts files that use it (the lint config relaxes these there) */
import { randomBytes } from 'node:crypto';
import {
  createMailer,
  createMemoryLogger,
  createMetrics,
  createPool,
  createPrincipalSigner,
  createRedis,
  createTestSchema,
  generatePrincipalKeys,
  INTERNAL_CHANNEL_OPTIONS,
  insecureCredentials,
  loadConfig,
  newRequestId,
  migrateTestSchema,
  TEST_DATABASE_URL,
  TEST_INTERNAL_TOKEN,
  TEST_REDIS_URL,
  uniqueName,
  unaryCall,
  type AppError,
  type Logger,
  type Pool,
  type Principal,
  type Redis,
} from '@orchestra/lib';
import { identityV1 } from '@orchestra/proto';
import { identityConfigSchema, type IdentityConfig } from '../config';
import { TENANT_ROLE } from '../deps';
import { migrationsDir } from '../schema';
import { createIdentityService, type IdentityService } from '../service';

/**
 * identity built in-process for a test suite, against the machine's PostgreSQL (a schema of its own)
 * and Redis (a key prefix of its own), with its gRPC server on port 0. GraphQL goes through
 * `app.inject` with principals signed by a test key, the way the gateway would sign them.
 */
export interface IdentityHarness {
  service: IdentityService;
  config: IdentityConfig;
  pool: Pool;
  redis: Redis;
  schema: string;
  log: Logger & { lines: Array<Record<string, unknown>> };
  grpcClient: identityV1.IdentityServiceClient;
  /** POST /graphql as `as`: a principal, an access token (turned into a principal through Authenticate, as the gateway does), or anonymous. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, as?: Principal | { token: string } | { apiKey: string }, header?: string): Promise<GraphQLResult<T>>;
  /** An anonymous principal from a fresh IP (so that rate limits of one test do not touch another). */
  anonymous(ip?: string): Principal;
  /** Authenticate over gRPC; resolves to the principal or the AppError. */
  authenticate(credential: { accessToken: string } | { apiKey: string }): Promise<Principal>;
  /** Signs a principal with the suite's gateway key (what the gateway puts in x-orchestra-principal). */
  signPrincipal(principal: Principal): Promise<string>;
  /** Authenticate over gRPC, the raw answer. */
  authenticateRaw(credential: { accessToken: string } | { apiKey: string }): Promise<identityV1.AuthenticateResponse>;
  /** Signs up a new organization and owner; returns the AuthPayload fields. */
  signUp(overrides?: Partial<{ email: string; password: string; name: string; organizationName: string }>): Promise<SignedIn>;
  /** Follows the newest verification link mailed to `email` (from the log: mail is logged when the suite has no SMTP_URL). */
  verifyEmail(email: string): Promise<void>;
  /** Rows of identity's audit outbox, oldest first. */
  auditEvents(filter?: { action?: string }): Promise<Array<{ action: string; outcome: string; orgId: string | null; targetId: string; actor: { kind: string; id: string }; diff: any }>>;
  count(table: string): Promise<number>;
  stop(): Promise<void>;
}

export interface GraphQLResult<T> {
  status: number;
  data: T | null;
  errors: Array<{ message: string; extensions: Record<string, any> }> | undefined;
}

export interface SignedIn {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string; name: string };
  organization: { id: string; name: string };
  role: string;
  password: string;
}

export const AUTH_FIELDS = 'accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt tokenType role user { id email name } organization { id name }';

/** A password the policy accepts. */
export const goodPassword = (): string => `Correct-Horse-${randomBytes(6).toString('hex')}`;
export const uniqueEmail = (label = 'user'): string => `${label}.${randomBytes(5).toString('hex')}@example.com`;

/** The `exp` claim of a JWT (the gateway puts it in the principal as tokenExpiresAt). */
const expiryOf = (jwt: string): number | undefined => {
  const payload = jwt.split('.')[1];
  if (payload === undefined) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
  return typeof claims.exp === 'number' ? claims.exp : undefined;
};

let ipCounter = 0;
const nextIp = (): string => {
  ipCounter += 1;
  return `10.${(process.pid % 200) + 1}.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`;
};

const principalKinds: Record<number, Principal['kind']> = {
  [identityV1.PrincipalKind.PRINCIPAL_KIND_USER]: 'user',
  [identityV1.PrincipalKind.PRINCIPAL_KIND_API_KEY]: 'apiKey',
  [identityV1.PrincipalKind.PRINCIPAL_KIND_SERVICE]: 'service',
};

export async function startIdentity(env: Record<string, string> = {}): Promise<IdentityHarness> {
  const { schema, drop } = await createTestSchema('identity');
  const keys = generatePrincipalKeys();
  const signer = createPrincipalSigner(keys.privateKeyPem);
  const log = createMemoryLogger('identity');
  const config = loadConfig(identityConfigSchema, {
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `test:${uniqueName('identity')}`,
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    PRINCIPAL_PUBLIC_KEY: keys.publicKeyPem,
    DB_SCHEMA: schema,
    // Cheap hashing keeps the suites fast; the production cost is exercised by the e2e suites.
    PASSWORD_HASH_MEMORY_KIB: '1024',
    PASSWORD_HASH_ITERATIONS: '1',
    ...env,
  });
  const pool = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'identity-test', log, max: 5 });
  const redis = createRedis({ url: TEST_REDIS_URL, name: 'identity-test', log });
  await migrateTestSchema({ pool, schema, dir: migrationsDir, tenantRole: TENANT_ROLE, log });
  // Mail goes to the SMTP server the suite passes as SMTP_URL, else to the log (development mode).
  const mailer = await createMailer(config, log);
  const service = createIdentityService({ config, pool, redis, log, mailer, metrics: createMetrics('identity', { defaultMetrics: false }) });
  const grpcPort = await service.grpc!.listen('127.0.0.1', 0);
  service.grpc!.setServing('SERVING');
  await service.http.ready();
  await service.start!();
  const grpcClient = new identityV1.IdentityServiceClient(`127.0.0.1:${grpcPort}`, insecureCredentials(), INTERNAL_CHANNEL_OPTIONS);

  const authenticateRaw: IdentityHarness['authenticateRaw'] = (credential) => {
    const request: identityV1.AuthenticateRequest =
      'accessToken' in credential
        ? { credential: { $case: 'accessToken', value: credential.accessToken }, clientIp: '127.0.0.1' }
        : { credential: { $case: 'apiKey', value: credential.apiKey }, clientIp: '127.0.0.1' };
    return unaryCall(grpcClient, grpcClient.authenticate.bind(grpcClient), request, { internalToken: TEST_INTERNAL_TOKEN });
  };

  const authenticate: IdentityHarness['authenticate'] = async (credential) => {
    const response = await authenticateRaw(credential);
    const p = response.principal!;
    return {
      kind: principalKinds[p.kind] ?? 'anonymous',
      id: p.id,
      orgId: p.orgId || undefined,
      role: (p.role || undefined) as Principal['role'],
      scopes: p.scopes,
      userId: p.userId || undefined,
      apiKeyId: p.apiKeyId || undefined,
      display: p.display || undefined,
      requestId: newRequestId(),
      ip: '127.0.0.1',
    };
  };

  const harness: IdentityHarness = {
    service,
    config,
    pool,
    redis,
    schema,
    log,
    grpcClient,
    anonymous: (ip = nextIp()) => ({ kind: 'anonymous', id: 'anonymous', scopes: [], requestId: newRequestId(), ip, userAgent: 'identity-tests' }),
    authenticate,
    authenticateRaw,
    signPrincipal: (principal) => signer.sign(principal),
    async graphql(query, variables, as, header) {
      let principal: Principal;
      if (as === undefined) principal = harness.anonymous();
      else if ('token' in as) principal = { ...(await authenticate({ accessToken: as.token })), tokenExpiresAt: expiryOf(as.token) };
      else if ('apiKey' in as) principal = await authenticate({ apiKey: as.apiKey });
      else principal = as;
      const res = await service.http.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', 'x-orchestra-principal': header ?? (await signer.sign(principal)) },
        payload: { query, variables },
      });
      const body = res.json<{ data: any; errors?: GraphQLResult<any>['errors'] }>();
      return { status: res.statusCode, data: body.data ?? null, errors: body.errors };
    },
    async signUp(overrides = {}) {
      const input = { email: uniqueEmail('owner'), password: goodPassword(), name: 'Olive Owner', organizationName: `Org ${randomBytes(3).toString('hex')}`, ...overrides };
      const res = await harness.graphql(`mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`, { input });
      if (res.errors) throw new Error(`signUp failed: ${JSON.stringify(res.errors)}`);
      return { ...res.data.signUp, password: input.password };
    },
    async verifyEmail(email) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const line = log.lines.filter((l) => typeof l['kind'] === 'string' && l['kind'].startsWith('email_verification') && l['to'] === email).at(-1);
        const token = typeof line?.['link'] === 'string' ? new URL(line['link']).searchParams.get('token') : null;
        if (token !== null) {
          const res = await harness.graphql('mutation($t: String!) { verifyEmail(token: $t) }', { t: token });
          if (res.errors) throw new Error(`verifyEmail failed: ${JSON.stringify(res.errors)}`);
          return;
        }
        if (Date.now() > deadline) throw new Error(`no verification mail to ${email} was logged`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async auditEvents(filter = {}) {
      const { rows } = await pool.query<{ event: any }>(
        "SELECT event FROM audit_outbox WHERE ($1::text IS NULL OR event->>'action' = $1) ORDER BY created_at, id",
        [filter.action ?? null],
      );
      return rows.map((r) => r.event);
    },
    async count(table) {
      if (!/^[a-z_]+$/.test(table)) throw new Error(`bad table ${table}`);
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      return rows[0]!.n;
    },
    async stop() {
      grpcClient.close();
      await service.stop();
      mailer.close();
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${config.REDIS_PREFIX}*`, 'COUNT', 1000);
        cursor = next;
        if (found.length > 0) await redis.del(...found);
      } while (cursor !== '0');
      await redis.quit();
      await pool.end();
      await drop();
    },
  };
  return harness;
}

/** The error code and reason of the first GraphQL error. */
export const errorOf = (res: GraphQLResult<unknown>): { code: unknown; reason: unknown; field?: unknown } => {
  const ext = res.errors?.[0]?.extensions ?? {};
  return { code: ext['code'], reason: ext['reason'], ...(ext['field'] === undefined ? {} : { field: ext['field'] }) };
};

/** Resolves to the AppError a promise rejected with (fails the test when it resolved). */
export async function rejectionOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a rejection');
}

