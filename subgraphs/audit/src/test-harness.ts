// Shared by this package's *.test.ts: the audit service in-process on real ports, against a
// PostgreSQL schema of its own, with a gRPC client and a signed-principal GraphQL client.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditV1 } from '@orchestra/proto';
import {
  createMemoryLogger,
  createMetrics,
  createPool,
  createPrincipalSigner,
  createTestSchema,
  generatePrincipalKeys,
  insecureCredentials,
  listenService,
  loadConfig,
  newId,
  TEST_DATABASE_URL,
  TEST_INTERNAL_TOKEN,
  unaryCall,
  type Logger,
  type Metrics,
  type Pool,
  type Principal,
  type Role,
} from '@orchestra/lib';
import { auditConfigSchema } from './config';
import { migrateAudit } from './migrate';
import { createAuditService, type AuditServiceHandle } from './service';

export interface GraphQLResult<T> {
  data: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions: Record<string, unknown> }>;
}

export interface AuditUnderTest {
  pool: Pool;
  schema: string;
  archiveDir: string;
  witnessDir: string;
  log: Logger & { lines: Array<Record<string, unknown>> };
  metrics: Metrics;
  handle: AuditServiceHandle;
  httpUrl: string;
  grpcAddress: string;
  /** Calls AuditService.Record over gRPC with the service token. */
  record(events: auditV1.AuditEvent[]): Promise<auditV1.RecordResponse>;
  /** Posts to the subgraph with a principal signed by the gateway's key. */
  graphql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>, principal: Principal): Promise<GraphQLResult<T>>;
  /** Stops the service (ports close) but keeps the schema: `restart()` brings it back on the same gRPC port. */
  stopService(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAuditForTest(prefix: string, env: Record<string, string> = {}): Promise<AuditUnderTest> {
  const { schema, drop } = await createTestSchema(prefix);
  const archiveDir = await mkdtemp(join(tmpdir(), 'orchestra-audit-archive-'));
  const witnessDir = await mkdtemp(join(tmpdir(), 'orchestra-audit-witness-'));
  const keys = generatePrincipalKeys();
  const signer = createPrincipalSigner(keys.privateKeyPem);
  const log = createMemoryLogger('audit-test');
  const metrics = createMetrics('audit-test', { defaultMetrics: false });
  const config = loadConfig(auditConfigSchema, {
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    PRINCIPAL_PUBLIC_KEY: keys.publicKeyPem,
    DB_SCHEMA: schema,
    AUDIT_ARCHIVE_DIR: archiveDir,
    AUDIT_RETENTION_ENABLED: 'false',
    AUDIT_WITNESS_DIR: witnessDir,
    // Tests witness heads when they say so (handle.witnessHeads()); the timer's first pass runs at start.
    AUDIT_WITNESS_INTERVAL_MS: '86400000',
    ...env,
  });
  const pool = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'audit-test', log });
  await migrateAudit({ pool, schema, log });

  let handle = createAuditService({ config, pool, log, metrics });
  let addresses = await listenService(handle, { host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
  const grpcPort = Number(addresses.grpcAddress?.split(':')[1]);
  let client = new auditV1.AuditServiceClient(addresses.grpcAddress ?? '', insecureCredentials());
  let running = true;

  const under: AuditUnderTest = {
    pool,
    schema,
    archiveDir,
    witnessDir,
    log,
    metrics,
    get handle() {
      return handle;
    },
    get httpUrl() {
      return addresses.httpUrl;
    },
    grpcAddress: addresses.grpcAddress ?? '',
    record: (events) => unaryCall(client, client.record.bind(client), { events }, { internalToken: TEST_INTERNAL_TOKEN }),
    async graphql<T>(query: string, variables: Record<string, unknown>, principal: Principal) {
      const res = await fetch(`${addresses.httpUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-orchestra-principal': await signer.sign(principal) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphQLResult<T>;
    },
    async stopService() {
      if (!running) return;
      running = false;
      client.close();
      await handle.stop();
    },
    async restart() {
      await under.stopService();
      handle = createAuditService({ config, pool, log, metrics });
      addresses = await listenService(handle, { host: '127.0.0.1', httpPort: 0, grpcPort });
      client = new auditV1.AuditServiceClient(addresses.grpcAddress ?? '', insecureCredentials());
      running = true;
    },
    async stop() {
      await under.stopService();
      await pool.end();
      await drop();
      await rm(archiveDir, { recursive: true, force: true });
      await rm(witnessDir, { recursive: true, force: true });
    },
  };
  return under;
}

/** A valid event as a relay would send it; override what the test is about. */
export function auditEvent(overrides: Omit<Partial<auditV1.AuditEvent>, 'actor'> & { actor?: Partial<auditV1.Actor> } = {}): auditV1.AuditEvent {
  const { actor, ...rest } = overrides;
  return auditV1.AuditEvent.fromPartial({
    eventId: newId(),
    orgId: '',
    occurredAt: new Date(),
    service: 'identity',
    action: 'member.invite',
    targetType: 'Membership',
    targetId: newId(),
    outcome: 'success',
    requestId: `req_${newId().slice(-8)}`,
    ip: '10.1.2.3',
    userAgent: 'jest',
    diff: { after: { role: 'viewer' } },
    ...rest,
    actor: { kind: auditV1.ActorKind.ACTOR_KIND_USER, id: 'someone', userId: '', apiKeyId: '', display: '', ...actor },
  });
}

/** A signed-in user of `orgId` with `role`. */
export const member = (orgId: string, role: Role, userId: string = newId()): Principal => ({
  kind: 'user',
  id: userId,
  userId,
  orgId,
  role,
  scopes: [],
  requestId: `req_${newId().slice(-10)}`,
  display: `${role}@example.com`,
});
