import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  AppError,
  anonymousPrincipal,
  createMemoryLogger,
  createMetrics,
  createRedis,
  createTokenRevocations,
  orgNotificationChannel,
  TEST_REDIS_URL,
  uniqueName,
  type LiveNotification,
  type Principal,
  type Redis,
} from '@orchestra/lib';
import { typeDefs as identityTypeDefs } from '@orchestra/identity';
import { typeDefs as notificationsTypeDefs } from '@orchestra/notifications';
import { typeDefs as orchestrationTypeDefs } from '@orchestra/orchestration';
import { createAccessWatch, type AccessWatch } from '../auth/access-watch';
import { apiSchemaOf, buildPublicSchema, composeSupergraph, publicTagsOf } from '../compose/compose';
import type { ConnectionCredential } from './connection-sessions';
import { createSubscriptionServer, type SubscriptionServer } from './server';

/**
 * Subscription.notificationAdded (issue 13) over a real WebSocket and real Redis, with the real API
 * schema composed from identity, orchestration and notifications. Notifications are published on the
 * channel the notifications service publishes to after commit (subgraphs/notifications fanout/live.ts;
 * tests/ runs the real service end to end).
 */

const log = createMemoryLogger('gateway-notifications-test');
const orgA = randomUUID();
const orgB = randomUUID();
const alice = randomUUID();
const carol = randomUUID();
const credentials = new Map<string, ConnectionCredential>();

let redis: Redis;
let subscriber: Redis;
let watch: AccessWatch;
let prefix: string;
let apiSchema: GraphQLSchema;
let http: Server;
let subscriptions: SubscriptionServer;
let url: string;
const clients: Client[] = [];

const user = (id: string, orgId: string, role: Principal['role'] = 'viewer'): Principal => ({ kind: 'user', id, userId: id, orgId, role, scopes: [], requestId: 'r' });
const token = (principal: Principal, extra: Partial<ConnectionCredential> = {}): string => {
  const made = `t-${randomUUID()}`;
  credentials.set(made, { principal, sessionId: randomUUID(), tokenVersion: 1, ...extra });
  return made;
};

function connect(bearer?: string): Client {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
  });
  clients.push(client);
  return client;
}

interface Received {
  next: Array<ExecutionResult<Record<string, any>>>;
  error?: unknown;
  done: Promise<void>;
  unsubscribe: () => void;
}

function subscribe(client: Client, query: string, variables: Record<string, unknown> = {}): Received {
  const received: Partial<Received> & { next: Array<ExecutionResult<Record<string, any>>> } = { next: [] };
  received.done = new Promise<void>((resolve) => {
    received.unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (value) => received.next.push(value as ExecutionResult<Record<string, any>>),
        error: (error) => {
          received.error = error;
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return received as Received;
}

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const NOTIFICATION_ADDED = `subscription { notificationAdded { id type title body link createdAt readAt } }`;

const notification = (orgId: string, userId: string, title: string): LiveNotification => ({
  id: randomUUID(),
  orgId,
  userId,
  type: 'run.failed',
  title,
  body: `${title} body`,
  link: `/runs/${randomUUID()}`,
  createdAt: new Date().toISOString(),
  readAt: null,
});
const publish = (n: LiveNotification, channelOrg = n.orgId) => redis.publish(orgNotificationChannel(prefix, channelOrg), JSON.stringify(n));
const titles = (got: Received) => got.next.map((n) => (n.data?.['notificationAdded'] as { title: string } | undefined)?.title);

/** Subscribes and waits until the gateway listens: a marker notification for the subscriber arrives. */
async function subscribed(client: Client, principal: Principal): Promise<Received> {
  const got = subscribe(client, NOTIFICATION_ADDED);
  const deadline = Date.now() + 30_000;
  while (got.next.length === 0 && got.error === undefined) {
    if (Date.now() > deadline) throw new Error('the subscription never started');
    await publish(notification(principal.orgId!, principal.userId!, 'marker'));
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 150));
  got.next.length = 0;
  return got;
}

beforeAll(async () => {
  redis = createRedis({ url: TEST_REDIS_URL, name: 'notification-subscriptions-test', log });
  prefix = uniqueName('test:notif-subs');
  subscriber = createRedis({ url: TEST_REDIS_URL, name: 'notification-subscriptions-test-sub', log });
  watch = await createAccessWatch({ subscriber, redisPrefix: prefix, log });
  const supergraph = composeSupergraph([
    { name: 'identity', url: 'http://identity.invalid/graphql', typeDefs: identityTypeDefs },
    { name: 'orchestration', url: 'http://orchestration.invalid/graphql', typeDefs: orchestrationTypeDefs },
    { name: 'notifications', url: 'http://notifications.invalid/graphql', typeDefs: notificationsTypeDefs },
  ]);
  apiSchema = apiSchemaOf(supergraph);
  http = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
  subscriptions = createSubscriptionServer({
    httpServer: http,
    path: '/graphql',
    apiSchema,
    publicApiSchema: buildPublicSchema(apiSchema, publicTagsOf(supergraph)),
    authenticate: (header) => {
      if (typeof header !== 'string') return Promise.resolve({ principal: anonymousPrincipal('r') });
      const made = credentials.get(header.replace(/^Bearer /, ''));
      return made ? Promise.resolve(made) : Promise.reject(new AppError('UNAUTHENTICATED', 'the token is not valid', { reason: 'TOKEN_INVALID' }));
    },
    watch,
    // Nothing of a notification is resolved through the graph; run subscriptions are tested in subscriptions.test.ts.
    executeFederated: ({ document, variables, principal }: { document: DocumentNode; variables?: Record<string, unknown>; principal: Principal }) =>
      Promise.resolve(execute({ schema: apiSchema, document, variableValues: variables ?? {}, contextValue: { principal } })),
    redis,
    redisPrefix: prefix,
    log,
    metrics: createMetrics('gateway-test', { defaultMetrics: false }),
  });
});

afterAll(async () => {
  await Promise.allSettled(clients.map(async (c) => c.dispose()));
  await subscriptions?.stop();
  await watch?.stop();
  await subscriber?.quit();
  await new Promise((resolve) => http?.close(resolve));
  await redis.quit();
});

describe('Subscription.notificationAdded', () => {
  it('is in the API schema as Notification!', () => {
    expect(subscriptions.schema.getSubscriptionType()?.getFields()['notificationAdded']?.type.toString()).toBe('Notification!');
  });

  it('delivers the subscriber\'s own new notifications live — not another member\'s, not another organization\'s', async () => {
    const aliceA = user(alice, orgA);
    const got = await subscribed(connect(token(aliceA)), aliceA);
    const carols = await subscribed(connect(token(user(carol, orgA, 'admin'))), user(carol, orgA));
    const mine = notification(orgA, alice, 'run nightly failed');
    await publish(mine);
    await publish(notification(orgA, carol, 'for carol'));
    // Alice's id in organization B (she may be a member there too): not this connection's organization.
    await publish(notification(orgB, alice, 'alice in org B'));
    // A message on org A's channel that names org B is not delivered to anyone.
    await publish(notification(orgB, alice, 'smuggled'), orgA);
    await publish(notification(orgA, alice, 'second'));
    await until(() => got.next.length >= 2 && carols.next.length >= 1, 'the notifications');
    await new Promise((r) => setTimeout(r, 300));
    expect(got.error).toBeUndefined();
    expect(titles(got)).toEqual(['run nightly failed', 'second']);
    expect(got.next[0]?.data?.['notificationAdded']).toEqual({ id: mine.id, type: 'run.failed', title: mine.title, body: mine.body, link: mine.link, createdAt: mine.createdAt, readAt: null });
    expect(titles(carols)).toEqual(['for carol']);
    expect(log.lines.some((l) => l.msg === 'live notification message dropped' && l['why'] === 'wrong-organization')).toBe(true);
    got.unsubscribe();
    carols.unsubscribe();
  });

  it('refuses anonymous connections and API keys (notifications belong to users)', async () => {
    const anonymous = subscribe(connect(), NOTIFICATION_ADDED);
    await anonymous.done;
    expect(anonymous.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) as unknown })]);
    const key = subscribe(connect(token({ kind: 'apiKey', id: 'k1', apiKeyId: 'k1', orgId: orgA, scopes: ['runs:read'], requestId: 'r' })), NOTIFICATION_ADDED);
    await key.done;
    expect(key.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) as unknown })]);
  });

  it('is re-checked like every subscription: another user on the connection ends it with FORBIDDEN, a fresh token of the same user keeps it', async () => {
    const aliceA = user(alice, orgA);
    const client = connect(token(aliceA));
    const got = await subscribed(client, aliceA);
    const again = (bearer: string) => {
      const answer = subscribe(client, `mutation($a: String!) { authenticateConnection(authorization: $a) { subscriptions } }`, { a: `Bearer ${bearer}` });
      return answer.done.then(() => answer);
    };
    expect((await again(token(aliceA))).next[0]?.data?.['authenticateConnection']).toEqual({ subscriptions: 1 });
    await publish(notification(orgA, alice, 'still hers'));
    await until(() => got.next.length >= 1, 'the notification after re-authentication');
    await again(token(user(carol, orgA, 'admin')));
    await got.done;
    expect(got.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN', reason: 'USER_CHANGED' }) as unknown })]);
    expect(titles(got)).toEqual(['still hers']);
  });

  it('ends when the user signs out (the session is revoked)', async () => {
    const sessionId = randomUUID();
    const aliceA = user(alice, orgA);
    const got = await subscribed(connect(token(aliceA, { sessionId })), aliceA);
    await createTokenRevocations(redis, prefix).revokeSession(sessionId, 60);
    await got.done;
    expect(got.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', reason: 'SESSION_REVOKED' }) as unknown })]);
  });

  it('reads each organization\'s channel once, however many subscribe, and lets it go when the last leaves', async () => {
    const org = randomUUID();
    const users = [randomUUID(), randomUUID(), randomUUID()].map((id) => user(id, org));
    const subs = await Promise.all(users.map(async (u) => subscribed(connect(token(u)), u)));
    const { numsub } = await (async () => {
      const reply = (await redis.call('PUBSUB', 'NUMSUB', orgNotificationChannel(prefix, org))) as [string, number];
      return { numsub: Number(reply[1]) };
    })();
    expect(numsub).toBe(1);
    for (const s of subs) s.unsubscribe();
    await until(() => subscriptions.notificationFeeds.stats().sinks === 0, 'the subscribers to leave');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const reply = (await redis.call('PUBSUB', 'NUMSUB', orgNotificationChannel(prefix, org))) as [string, number];
      if (Number(reply[1]) === 0) break;
      if (Date.now() > deadline) throw new Error('the channel was never let go');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
