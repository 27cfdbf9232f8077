// Shared by this package's *.test.ts: the notifications service in-process on real ports, against a
// PostgreSQL schema and Redis prefix of its own, with a gRPC client and a signed-principal GraphQL client.
// Organizations' members come from a directory the test fills in: IdentityService is a service of
// ours, and tests/ runs the real one end to end; here the package's own logic is under test.
import { notificationsV1 } from '@orchestra/proto';
import {
  createMailer,
  createMemoryLogger,
  createMetrics,
  createPool,
  createPrincipalSigner,
  createRedis,
  createTestSchema,
  generatePrincipalKeys,
  insecureCredentials,
  listenService,
  loadConfig,
  newId,
  newRequestId,
  TEST_DATABASE_URL,
  TEST_INTERNAL_TOKEN,
  TEST_REDIS_URL,
  uniqueName,
  unaryCall,
  type Logger,
  type NotificationEventType,
  type Pool,
  type Principal,
  type Redis,
  type Role,
} from '@orchestra/lib';
import { notificationsConfigSchema, type NotificationsConfig } from './config';
import type { Directory, Recipient } from './fanout/recipients';
import { rolesAtLeast } from './fanout/recipients';
import { migrateNotifications } from './migrate';
import { createNotificationsService, type NotificationsServiceHandle } from './service';

export interface GraphQLResult<T> {
  data: T | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions: Record<string, unknown> }>;
}

/** A directory of members the test controls (see the note at the top). */
export interface TestDirectory extends Directory {
  members: Map<string, Recipient[]>;
  /** While set, look-ups fail as if identity were down. */
  down: boolean;
  add(orgId: string, role: Role, email?: string): Recipient;
}

export function createTestDirectory(): TestDirectory {
  const directory: TestDirectory = {
    members: new Map(),
    down: false,
    add(orgId, role, email) {
      const userId = newId();
      const member = { userId, email: email ?? `${role}-${userId.slice(-6)}@example.com`, name: `${role} ${userId.slice(-4)}`, role };
      directory.members.set(orgId, [...(directory.members.get(orgId) ?? []), member]);
      return member;
    },
    membersWithRoleAtLeast(orgId, role) {
      if (directory.down) return Promise.reject(Object.assign(new Error('identity is down'), { code: 'UNAVAILABLE' }));
      const roles = rolesAtLeast(role);
      return Promise.resolve((directory.members.get(orgId) ?? []).filter((m) => roles.includes(m.role)));
    },
    close: () => undefined,
  };
  return directory;
}

export interface NotificationsUnderTest {
  pool: Pool;
  redis: Redis;
  schema: string;
  config: NotificationsConfig;
  log: Logger & { lines: Array<Record<string, unknown>> };
  directory: TestDirectory;
  handle: NotificationsServiceHandle;
  grpcAddress: string;
  publish(events: Array<Partial<notificationsV1.NotificationEvent>>): Promise<notificationsV1.PublishResponse>;
  graphql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown>, principal: Principal): Promise<GraphQLResult<T>>;
  stop(): Promise<void>;
}

export async function startNotificationsForTest(prefix: string, env: Record<string, string> = {}): Promise<NotificationsUnderTest> {
  const { schema, drop } = await createTestSchema(prefix);
  const keys = generatePrincipalKeys();
  const signer = createPrincipalSigner(keys.privateKeyPem);
  const log = createMemoryLogger('notifications-test');
  const metrics = createMetrics('notifications-test', { defaultMetrics: false });
  const config = loadConfig(notificationsConfigSchema, {
    INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
    PRINCIPAL_PUBLIC_KEY: keys.publicKeyPem,
    DB_SCHEMA: schema,
    REDIS_PREFIX: `test:${uniqueName('notifications')}`,
    NOTIFY_FANOUT_POLL_MS: '200',
    ...env,
  });
  const pool = createPool({ url: TEST_DATABASE_URL, schema, applicationName: 'notifications-test', log });
  const redis = createRedis({ url: TEST_REDIS_URL, name: 'notifications-test', log });
  await migrateNotifications({ pool, schema, log });
  const directory = createTestDirectory();
  const mailer = await createMailer(config, log);
  const handle = createNotificationsService({ config, pool, redis, log, metrics, mailer, directory });
  const addresses = await listenService(handle, { host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
  const client = new notificationsV1.NotificationServiceClient(addresses.grpcAddress ?? '', insecureCredentials());

  return {
    pool,
    redis,
    schema,
    config,
    log,
    directory,
    handle,
    grpcAddress: addresses.grpcAddress ?? '',
    publish: (events) =>
      unaryCall(client, client.publish.bind(client), { events: events.map((e) => notificationsV1.NotificationEvent.fromPartial({ eventId: newId(), occurredAt: new Date(), service: 'test', ...e })) }, { internalToken: TEST_INTERNAL_TOKEN }),
    async graphql<T>(query: string, variables: Record<string, unknown>, principal: Principal) {
      const res = await fetch(`${addresses.httpUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-orchestra-principal': await signer.sign(principal) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphQLResult<T>;
    },
    async stop() {
      client.close();
      await handle.stop();
      mailer.close();
      await pool.end();
      redis.disconnect();
      await drop();
    },
  };
}

/** An event as a relay would send it. */
export function notificationEvent<T extends NotificationEventType>(orgId: string, type: T, data: Record<string, unknown>): Partial<notificationsV1.NotificationEvent> {
  return { eventId: newId(), orgId, type, data };
}

/** A signed-in user of `orgId` with `role`. */
export const member = (orgId: string, role: Role, userId: string = newId()): Principal => ({
  kind: 'user',
  id: userId,
  userId,
  orgId,
  role,
  scopes: [],
  requestId: newRequestId(),
  display: `${role}@example.com`,
});
