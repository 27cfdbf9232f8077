import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultFieldResolver, execute, type DocumentNode, type ExecutionResult, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  AppError,
  anonymousPrincipal,
  createMemoryLogger,
  createMetrics,
  createRedis,
  apiKeyRevokedChannel,
  createRunEventHub,
  createTokenRevocations,
  runEventStreamKey,
  TEST_REDIS_URL,
  testRunEvent,
  uniqueName,
  type Principal,
  type Redis,
  type RunEvent,
  type RunEventHub,
} from '@orchestra/lib';
import { typeDefs as identityTypeDefs } from '@orchestra/identity';
import { typeDefs as orchestrationTypeDefs } from '@orchestra/orchestration';
import { apiSchemaOf, buildPublicSchema, composeSupergraph, publicTagsOf } from '../compose/compose';
import { createAccessWatch, type AccessWatch } from '../auth/access-watch';
import type { ConnectionCredential } from './connection-sessions';
import { createSubscriptionServer, type SubscriptionServer } from './server';

/**
 * The subscription server over a real WebSocket and real Redis, on a plain http.Server. The API
 * schema is the real one composed from identity and orchestration. executeFederated is a stand-in
 * for Apollo Gateway's query plan: it executes against that schema over an in-memory graph that
 * hides other organizations' runs as row-level security does (tests/orchestration runs the real
 * gateway and subgraphs).
 */

interface StoredRun {
  id: string;
  orgId: string;
  workflowId: string;
  status: string;
  startedBy: string;
  events: RunEvent[];
}

const log = createMemoryLogger('gateway-test');
const orgA = randomUUID();
const orgB = randomUUID();
const alice = { id: randomUUID(), email: 'alice@a.test' };
const bob = { id: randomUUID(), email: 'bob@b.test' };
const users = new Map<string, { id: string; email: string }>([alice, bob].map((u) => [u.id, u]));
const runs = new Map<string, StoredRun>();
const principals: Record<string, Principal> = {
  'token-a': { kind: 'user', id: alice.id, userId: alice.id, orgId: orgA, role: 'viewer', scopes: [], requestId: 'r' },
  'token-b': { kind: 'user', id: bob.id, userId: bob.id, orgId: orgB, role: 'admin', scopes: [], requestId: 'r' },
  'key-no-scope': { kind: 'apiKey', id: 'k1', apiKeyId: 'k1', orgId: orgA, scopes: ['workflows:read'], requestId: 'r' },
  'key-a': { kind: 'apiKey', id: 'k2', apiKeyId: 'k2', orgId: orgA, scopes: ['runs:read'], requestId: 'r' },
};
/** Tokens made by a test: an access token's expiry, session and version (identity's JWTs carry the same). */
const credentials = new Map<string, ConnectionCredential>();
let federatedCalls = 0;

let redis: Redis;
let subscriber: Redis;
let watch: AccessWatch;
let prefix: string;
let hub: RunEventHub;
let apiSchema: GraphQLSchema;
let http: Server;
let subscriptions: SubscriptionServer;
let url: string;
const clients: Client[] = [];

/** The in-memory graph: Query.run / Query.task under the caller's org, Run.events, Run.startedBy → User.email. */
const graphResolver: GraphQLFieldResolver<unknown, { principal: Principal }> = (source, args: Record<string, unknown>, ctx, info) => {
  const key = `${info.parentType.name}.${info.fieldName}`;
  switch (key) {
    case 'Query.run': {
      const run = runs.get(String(args['id']));
      return run && run.orgId === ctx.principal.orgId ? run : null;
    }
    case 'Run.startedBy':
      return { __typename: 'User', id: (source as StoredRun).startedBy };
    case 'User.email':
      return users.get((source as { id: string }).id)?.email;
    case 'Run.events': {
      const after = Number(args['afterSeq'] ?? 0);
      return (source as StoredRun).events.filter((e) => e.seq > after).slice(0, Number(args['first'] ?? 100));
    }
    default:
      return defaultFieldResolver(source, args, ctx, info);
  }
};

async function executeFederated({ document, variables, principal }: { document: DocumentNode; variables?: Record<string, unknown>; principal: Principal }): Promise<ExecutionResult> {
  federatedCalls += 1;
  return execute({ schema: apiSchema, document, variableValues: variables ?? {}, contextValue: { principal }, fieldResolver: graphResolver });
}

function newRun(orgId: string, startedBy: string): StoredRun {
  const run: StoredRun = { id: randomUUID(), orgId, workflowId: randomUUID(), status: 'QUEUED', startedBy, events: [] };
  runs.set(run.id, run);
  return run;
}

/** Records an event in the store (PostgreSQL's role) and returns it; publishing is separate. */
function record(run: StoredRun, kind: RunEvent['kind'], fields: Partial<RunEvent> = {}): RunEvent {
  if (fields.runStatus) run.status = fields.runStatus;
  const event = testRunEvent({ runId: run.id, orgId: run.orgId, workflowId: run.workflowId, seq: run.events.length + 1, kind, ...fields });
  run.events.push(event);
  return event;
}

function connect(token?: string, { keepOpenMs = 0 } = {}): Client {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    // A lazy client closes its socket once nothing is subscribed (and opens a new one with its first token).
    lazyCloseTimeout: keepOpenMs,
    connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
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

function subscribe(client: Client, query: string, variables: Record<string, unknown>): Received {
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
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const RUN_EVENTS = `
  subscription($runId: ID!, $after: Int!) {
    runEvents(runId: $runId, afterSeq: $after) {
      seq kind runStatus
      r: run { ...RunBits startedBy { mail: email } events(afterSeq: $after, first: 1) { seq } }
    }
  }
  fragment RunBits on Run { id state: status }
`;

beforeAll(async () => {
  redis = createRedis({ url: TEST_REDIS_URL, name: 'subscriptions-test', log });
  prefix = uniqueName('test:subs');
  hub = createRunEventHub({ redis, prefix, log });
  subscriber = createRedis({ url: TEST_REDIS_URL, name: 'subscriptions-test-sub', log });
  watch = await createAccessWatch({ subscriber, redisPrefix: prefix, log });
  const supergraph = composeSupergraph([
    { name: 'identity', url: 'http://identity.invalid/graphql', typeDefs: identityTypeDefs },
    { name: 'orchestration', url: 'http://orchestration.invalid/graphql', typeDefs: orchestrationTypeDefs },
  ]);
  apiSchema = apiSchemaOf(supergraph);
  const publicApiSchema = buildPublicSchema(apiSchema, publicTagsOf(supergraph));
  http = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
  subscriptions = createSubscriptionServer({
    httpServer: http,
    path: '/graphql',
    apiSchema,
    publicApiSchema,
    authenticate: (header) => {
      if (typeof header !== 'string') return Promise.resolve({ principal: anonymousPrincipal('r') });
      const token = header.replace(/^Bearer /, '');
      const made = credentials.get(token);
      if (made) return Promise.resolve(made);
      const principal = principals[token];
      if (!principal) return Promise.reject(new AppError('UNAUTHENTICATED', 'the token is not valid', { reason: 'TOKEN_INVALID' }));
      return Promise.resolve({ principal });
    },
    watch,
    executeFederated,
    redis,
    redisPrefix: prefix,
    log,
    metrics: createMetrics('gateway-test', { defaultMetrics: false }),
    idleCheckMs: 200,
  });
});

afterAll(async () => {
  await Promise.allSettled(clients.map(async (c) => c.dispose()));
  await subscriptions?.stop();
  await watch?.stop();
  await subscriber?.quit();
  await hub?.stop();
  await new Promise((resolve) => http?.close(resolve));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('run event subscriptions over a WebSocket', () => {
  it('extends the real API schema with Subscription', () => {
    expect(subscriptions.schema.getSubscriptionType()?.getFields()['runEvents']?.type.toString()).toBe('RunEvent!');
  });

  it('compresses messages (permessage-deflate, each on its own) for clients that offer it, and not for those that do not', async () => {
    const negotiated = async (perMessageDeflate: boolean) => {
      const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate });
      let answered: string | undefined;
      socket.once('upgrade', (response) => {
        answered = String(response.headers['sec-websocket-extensions'] ?? '');
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      socket.close();
      return answered;
    };
    // server_no_context_takeover: what makes ws leave messages under the threshold (1 KiB) uncompressed.
    expect(await negotiated(true)).toMatch(/^permessage-deflate;.*server_no_context_takeover/);
    expect(await negotiated(false)).toBe('');
  });

  it('streams a run’s events in order, resolving run fields (aliases, fragments, other subgraphs) per event, and completes after the final status', async () => {
    const run = newRun(orgA, alice.id);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'QUEUED' }), record(run, 'RUN_STATUS', { runStatus: 'RUNNING' })]);
    const got = subscribe(connect('token-a'), RUN_EVENTS, { runId: run.id, after: 0 });
    await until(() => got.next.length >= 2, 'the first two events');
    await hub.publish([record(run, 'TASK_PROGRESS', { progress: 0.5, stepId: 'a' })]);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'SUCCEEDED' })]);
    await got.done;
    expect(got.error).toBeUndefined();
    expect(got.next.map((n) => n.errors)).toEqual([undefined, undefined, undefined, undefined]);
    const events = got.next.map((n) => n.data?.['runEvents'] as { seq: number; kind: string; runStatus: string | null; r: Record<string, unknown> });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[0]).toEqual({
      seq: 1,
      kind: 'RUN_STATUS',
      runStatus: 'QUEUED',
      r: { id: run.id, state: expect.any(String) as string, startedBy: { mail: 'alice@a.test' }, events: [{ seq: 1 }] },
    });
    expect(events[3]?.r).toMatchObject({ state: 'SUCCEEDED', startedBy: { mail: 'alice@a.test' } });
  });

  it('resumes after a sequence number without gaps, from the backfill when Redis lost the stream', async () => {
    const run = newRun(orgA, alice.id);
    await hub.publish([1, 2, 3, 4].map(() => record(run, 'TASK_LOG', { message: 'line', level: 'INFO' })));
    await redis.del(runEventStreamKey(prefix, run.id));
    record(run, 'TASK_LOG', { message: 'written while Redis was away', level: 'WARN' });
    const got = subscribe(connect('token-a'), `subscription($id: ID!) { runEvents(runId: $id, afterSeq: 2) { seq message } }`, { id: run.id });
    await until(() => got.next.length >= 3, 'the events after seq 2');
    // A later event overtakes an earlier one on its way to Redis: the reader still delivers both in order.
    const late = record(run, 'TASK_LOG', { message: 'late' });
    const final = record(run, 'RUN_STATUS', { runStatus: 'FAILED' });
    await hub.publish([final]);
    await hub.publish([late]);
    await got.done;
    expect(got.next.map((n) => (n.data?.['runEvents'] as { seq: number }).seq)).toEqual([3, 4, 5, 6, 7]);
    expect(got.next[2]?.data?.['runEvents']).toEqual({ seq: 5, message: 'written while Redis was away' });
  });

  it('refuses another organization’s run before anything streams', async () => {
    const run = newRun(orgA, alice.id);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'RUNNING' })]);
    const got = subscribe(connect('token-b'), RUN_EVENTS, { runId: run.id, after: 0 });
    await got.done;
    expect(got.next).toEqual([]);
    expect(got.error).toEqual([expect.objectContaining({ message: `run ${run.id} not found in your organization`, extensions: expect.objectContaining({ code: 'NOT_FOUND' }) as unknown })]);
  });

  it('gathers a busy run’s events into a few batches (runEventBatches), in order, with the progress of only the tasks asked for, and completes after the final status', async () => {
    const run = newRun(orgA, alice.id);
    const step = randomUUID();
    const items = Array.from({ length: 40 }, () => randomUUID());
    const QUERY = `subscription($runId: ID!, $progressOf: [ID!]) { runEventBatches(runId: $runId, progressOf: $progressOf) { lastSeq events { seq kind taskId progress r: run { id } } } }`;
    const got = subscribe(connect('token-a'), QUERY, { runId: run.id, progressOf: [step] });
    const all = subscribe(connect('token-a'), QUERY, { runId: run.id });
    // The feed must know the run before the burst, or the subscription would start after it.
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'RUNNING' })]);
    await until(() => got.next.length >= 1 && all.next.length >= 1, 'the first batch');
    // A burst: each item queued, running, progress, succeeded; the step's own progress among them.
    const burst: RunEvent[] = [];
    for (const item of items) {
      burst.push(record(run, 'TASK_STATUS', { taskId: item, stepId: 'each', taskStatus: 'RUNNING', attempt: 1 }));
      burst.push(record(run, 'TASK_PROGRESS', { taskId: item, stepId: 'each', progress: 0.5 }));
      burst.push(record(run, 'TASK_STATUS', { taskId: item, stepId: 'each', taskStatus: 'SUCCEEDED', attempt: 1 }));
    }
    burst.push(record(run, 'TASK_PROGRESS', { taskId: step, stepId: 'each', progress: 1 }));
    await hub.publish(burst);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'SUCCEEDED' })]);
    await got.done;
    await all.done;
    expect(got.error).toBeUndefined();
    expect(all.error).toBeUndefined();
    type Batch = { lastSeq: number; events: Array<{ seq: number; kind: string; taskId: string | null; progress: number | null; r: { id: string } }> };
    const batchesOf = (r: Received) => r.next.map((n) => n.data?.['runEventBatches'] as Batch);
    // Far fewer messages than events (123 events: the first, a burst of 121 and the last).
    expect(all.next.length).toBeLessThanOrEqual(6);
    const allEvents = batchesOf(all).flatMap((b) => b.events);
    expect(allEvents.map((e) => e.seq)).toEqual(Array.from({ length: 123 }, (_, i) => i + 1));
    expect(allEvents.every((e) => e.r.id === run.id)).toBe(true);
    // progressOf: the items' progress left out, the step's kept, the seqs covered all the same.
    const kept = batchesOf(got).flatMap((b) => b.events);
    expect(kept.filter((e) => e.kind === 'TASK_PROGRESS').map((e) => e.taskId)).toEqual([step]);
    expect(kept.filter((e) => e.kind === 'TASK_STATUS')).toHaveLength(80);
    expect(kept.map((e) => e.seq)).toEqual([...kept.map((e) => e.seq)].sort((a, b) => a - b));
    expect(batchesOf(got).at(-1)!.lastSeq).toBe(123);
  });

  it('refuses runEventBatches of another organization’s run, and a progressOf that is not a list of ids', async () => {
    const run = newRun(orgA, alice.id);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'RUNNING' })]);
    const other = subscribe(connect('token-b'), `subscription($id: ID!) { runEventBatches(runId: $id) { lastSeq } }`, { id: run.id });
    await other.done;
    expect(other.next).toEqual([]);
    expect(other.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) as unknown })]);
    const garbage = subscribe(connect('token-a'), `subscription($id: ID!) { runEventBatches(runId: $id, progressOf: ["garbage"]) { lastSeq } }`, { id: run.id });
    await garbage.done;
    expect(garbage.error).toEqual([expect.objectContaining({ message: expect.stringContaining('progressOf[0]') as unknown, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) as unknown })]);
  });

  it('refuses anonymous subscribers, API keys without runs:read, and closes a connection with a bad token', async () => {
    const run = newRun(orgA, alice.id);
    const anonymous = subscribe(connect(), RUN_EVENTS, { runId: run.id, after: 0 });
    await anonymous.done;
    expect(anonymous.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) as unknown })]);
    const key = subscribe(connect('key-no-scope'), `subscription { runStatusChanged { seq } }`, {});
    await key.done;
    expect(key.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE' }) as unknown })]);
    const bad = subscribe(connect('nonsense'), RUN_EVENTS, { runId: run.id, after: 0 });
    await bad.done;
    expect(bad.error).toMatchObject({ code: 4401, reason: expect.stringContaining('UNAUTHENTICATED') as unknown });
  });

  it('holds API keys to the public API: a user’s email is not part of it', async () => {
    const run = newRun(orgA, alice.id);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'SUCCEEDED' })]);
    const leaky = subscribe(connect('key-a'), `subscription($id: ID!) { runEvents(runId: $id) { seq run { startedBy { email } } } }`, { id: run.id });
    await leaky.done;
    expect(leaky.next).toEqual([]);
    expect(leaky.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN', reason: 'NOT_IN_PUBLIC_API' }) as unknown })]);
    const fine = subscribe(connect('key-a'), `subscription($id: ID!) { runEvents(runId: $id) { seq runStatus run { id status startedBy { id } } } }`, { id: run.id });
    await fine.done;
    expect(fine.error).toBeUndefined();
    expect(fine.next.map((n) => n.data?.['runEvents'])).toEqual([{ seq: 1, runStatus: 'SUCCEEDED', run: { id: run.id, status: 'SUCCEEDED', startedBy: { id: alice.id } } }]);
  });

  it('answers queries over the socket with an error (they belong on HTTP)', async () => {
    const got = subscribe(connect('token-a'), `{ __typename }`, {});
    await got.done;
    expect(got.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ reason: 'NOT_A_SUBSCRIPTION' }) as unknown })]);
  });

  it('feeds an organization its own run status changes only, optionally of one workflow', async () => {
    const mine = newRun(orgA, alice.id);
    const mineToo = newRun(orgA, alice.id);
    const theirs = newRun(orgB, bob.id);
    const sinksBefore = subscriptions.feeds.stats().sinks;
    const all = subscribe(connect('token-a'), `subscription { runStatusChanged { runId runStatus run { startedBy { email } } } }`, {});
    const one = subscribe(connect('token-a'), `subscription($w: ID) { runStatusChanged(workflowId: $w) { runId runStatus } }`, { w: mineToo.workflowId });
    // The feed hears "from now on": wait until both subscribers are attached to it.
    await until(() => subscriptions.feeds.stats().sinks >= sinksBefore + 2, 'both subscribers to join the feed');
    await hub.publish([
      record(theirs, 'RUN_STATUS', { runStatus: 'RUNNING' }),
      record(mine, 'TASK_STATUS', { taskStatus: 'RUNNING' }),
      record(mine, 'RUN_STATUS', { runStatus: 'RUNNING' }),
      record(mineToo, 'RUN_STATUS', { runStatus: 'CANCELLED' }),
    ]);
    await until(() => all.next.length >= 2 && one.next.length >= 1, 'the feed');
    all.unsubscribe();
    one.unsubscribe();
    expect(all.next.map((n) => n.data?.['runStatusChanged'])).toEqual([
      { runId: mine.id, runStatus: 'RUNNING', run: { startedBy: { email: 'alice@a.test' } } },
      { runId: mineToo.id, runStatus: 'CANCELLED', run: { startedBy: { email: 'alice@a.test' } } },
    ]);
    expect(one.next.map((n) => n.data?.['runStatusChanged'])).toEqual([{ runId: mineToo.id, runStatus: 'CANCELLED' }]);
  });

  it('asks the federated graph only for what the selection needs', async () => {
    const run = newRun(orgA, alice.id);
    await hub.publish([record(run, 'TASK_PROGRESS', { progress: 0.1 }), record(run, 'RUN_STATUS', { runStatus: 'SUCCEEDED' })]);
    const before = federatedCalls;
    const got = subscribe(connect('token-a'), `subscription($id: ID!) { runEvents(runId: $id) { seq progress } }`, { id: run.id });
    await got.done;
    expect(got.next.map((n) => n.data?.['runEvents'])).toEqual([
      { seq: 1, progress: 0.1 },
      { seq: 2, progress: null },
    ]);
    // One authorization check and one backfill look; no per-event query for a selection without run/task.
    expect(federatedCalls - before).toBeLessThanOrEqual(2);
  });
});

describe('arguments are checked like every other ID argument (issue 9 item 12)', () => {
  it('refuses runStatusChanged(workflowId: "garbage") and runEvents(runId: "garbage") with BAD_USER_INPUT naming the argument', async () => {
    const status = subscribe(connect('token-a'), `subscription { runStatusChanged(workflowId: "garbage") { seq } }`, {});
    await status.done;
    expect(status.error).toEqual([expect.objectContaining({ message: 'workflowId "garbage" is not a valid id', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', reason: 'INVALID_ID', field: 'workflowId' }) as unknown })]);
    const events = subscribe(connect('token-a'), `subscription { runEvents(runId: "garbage") { seq } }`, {});
    await events.done;
    expect(events.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', reason: 'INVALID_ID', field: 'runId' }) as unknown })]);
  });
  it('closes a connection that sends a message over 1 MiB (1009, message too big) without reading it as a document', async () => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(1024 * 1024) } }));
    expect(await closed).toBe(1009);
  });
});

describe('one reader per run, fanned out (issue 11)', () => {
  it('serves many subscribers of a run from one feed, executes each event once per selection and scope, and asks the graph nothing to authorize', async () => {
    const run = newRun(orgA, alice.id);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'QUEUED' })]);
    const before = federatedCalls;
    const query = `subscription($id: ID!) { runEvents(runId: $id) { seq runStatus run { status } } }`;
    const client = connect('token-a');
    const many = Array.from({ length: 20 }, () => subscribe(client, query, { id: run.id }));
    await until(() => many.every((m) => m.next.length >= 1), 'every subscriber to get the first event');
    expect(subscriptions.feeds.stats().runFeeds).toBeGreaterThanOrEqual(1);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'RUNNING' })]);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'SUCCEEDED' })]);
    await Promise.all(many.map((m) => m.done));
    for (const m of many) {
      expect(m.error).toBeUndefined();
      expect(m.next.map((n) => (n.data?.['runEvents'] as { seq: number }).seq)).toEqual([1, 2, 3]);
    }
    expect(many[0]?.next.at(-1)?.data?.['runEvents']).toEqual({ seq: 3, runStatus: 'SUCCEEDED', run: { status: 'SUCCEEDED' } });
    // 20 subscribers × 3 events with run { status }: one federated look-up per event at most, none to authorize.
    expect(federatedCalls - before).toBeLessThanOrEqual(3);
  });

  it('resumes a late subscriber from memory and one further back from the stream, in order', async () => {
    const run = newRun(orgA, alice.id);
    const early = subscribe(connect('token-a'), `subscription($id: ID!) { runEvents(runId: $id) { seq } }`, { id: run.id });
    for (let i = 0; i < 5; i += 1) await hub.publish([record(run, 'TASK_LOG', { message: `line ${i}` })]);
    await until(() => early.next.length >= 5, 'the early subscriber');
    const late = subscribe(connect('token-a'), `subscription($id: ID!) { runEvents(runId: $id, afterSeq: 3) { seq } }`, { id: run.id });
    await until(() => late.next.length >= 2, 'the late subscriber');
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'CANCELLED' })]);
    await Promise.all([early.done, late.done]);
    expect(early.next.map((n) => (n.data?.['runEvents'] as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(late.next.map((n) => (n.data?.['runEvents'] as { seq: number }).seq)).toEqual([4, 5, 6]);
  });
});

describe('re-authorization of live connections (issue 9 item 1)', () => {
  const makeToken = (principal: Principal, extra: Partial<ConnectionCredential> = {}): string => {
    const token = `t-${randomUUID()}`;
    credentials.set(token, { principal, sessionId: randomUUID(), tokenVersion: 1, ...extra });
    return token;
  };
  const alicePrincipal = (): Principal => ({ kind: 'user', id: alice.id, userId: alice.id, orgId: orgA, role: 'viewer', scopes: [], requestId: 'r' });
  const watchRun = async (client: Client) => {
    const run = newRun(orgA, alice.id);
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'RUNNING' })]);
    const got = subscribe(client, `subscription($id: ID!) { runEvents(runId: $id) { seq } }`, { id: run.id });
    await until(() => got.next.length >= 1, 'the first event');
    return { run, got };
  };
  const authenticateAgain = (client: Client, token: string) => {
    const answer = subscribe(client, `mutation($a: String!) { authenticateConnection(authorization: $a) { expiresAt subscriptions } }`, { a: `Bearer ${token}` });
    return answer.done.then(() => answer);
  };
  const expectEndedWith = (got: Received, reason: string) =>
    expect(got.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', reason }) as unknown })]);

  it('ends subscriptions when the token expires, keeps the connection for a new token, and resumes from the last seq', async () => {
    const client = connect(makeToken(alicePrincipal(), { expiresAt: Date.now() + 1_500 }), { keepOpenMs: 30_000 });
    const { run, got } = await watchRun(client);
    await got.done;
    expectEndedWith(got, 'TOKEN_EXPIRED');
    // New subscriptions are refused until the connection authenticates again.
    const refused = subscribe(client, `subscription($id: ID!) { runEvents(runId: $id) { seq } }`, { id: run.id });
    await refused.done;
    expectEndedWith(refused, 'TOKEN_EXPIRED');
    const answer = await authenticateAgain(client, makeToken(alicePrincipal(), { expiresAt: Date.now() + 60_000 }));
    expect(answer.next[0]?.data?.['authenticateConnection']).toEqual({ expiresAt: expect.any(String) as string, subscriptions: 0 });
    await hub.publish([record(run, 'TASK_LOG', { message: 'after' }), record(run, 'RUN_STATUS', { runStatus: 'SUCCEEDED' })]);
    const resumed = subscribe(client, `subscription($id: ID!, $after: Int!) { runEvents(runId: $id, afterSeq: $after) { seq } }`, { id: run.id, after: 1 });
    await resumed.done;
    expect(resumed.error).toBeUndefined();
    expect(resumed.next.map((n) => (n.data?.['runEvents'] as { seq: number }).seq)).toEqual([2, 3]);
  });

  it('keeps subscriptions going when the connection authenticates again before expiry', async () => {
    const client = connect(makeToken(alicePrincipal(), { expiresAt: Date.now() + 2_000 }));
    const { run, got } = await watchRun(client);
    const answer = await authenticateAgain(client, makeToken(alicePrincipal(), { expiresAt: Date.now() + 60_000 }));
    expect(answer.next[0]?.data?.['authenticateConnection']).toMatchObject({ subscriptions: 1 });
    await new Promise((r) => setTimeout(r, 2_300));
    await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'SUCCEEDED' })]);
    await got.done;
    expect(got.error).toBeUndefined();
    expect(got.next.map((n) => (n.data?.['runEvents'] as { seq: number }).seq)).toEqual([1, 2]);
  });

  it('ends them within moments of a logout, a token version raised (logout everywhere, password, role, removal) or an API key revoked', async () => {
    const revocations = createTokenRevocations(redis, prefix);
    const sessionId = randomUUID();
    const loggedOut = await watchRun(connect(makeToken(alicePrincipal(), { sessionId })));
    await revocations.revokeSession(sessionId, 60);
    await loggedOut.got.done;
    expectEndedWith(loggedOut.got, 'SESSION_REVOKED');

    const userId = randomUUID();
    const user: Principal = { ...alicePrincipal(), id: userId, userId };
    const stale = await watchRun(connect(makeToken(user, { tokenVersion: 3 })));
    const fresh = await watchRun(connect(makeToken(user, { tokenVersion: 4 })));
    await revocations.setTokenVersion(userId, 4);
    await stale.got.done;
    expectEndedWith(stale.got, 'TOKEN_VERSION_STALE');
    expect(fresh.got.error).toBeUndefined();

    const keyId = randomUUID();
    const key = await watchRun(connect(makeToken({ kind: 'apiKey', id: keyId, apiKeyId: keyId, orgId: orgA, scopes: ['runs:read'], requestId: 'r' })));
    await redis.publish(apiKeyRevokedChannel(prefix), keyId);
    await key.got.done;
    expectEndedWith(key.got, 'API_KEY_REVOKED');
    fresh.got.unsubscribe();
  });

  it('checks roles as they are now: a new credential in another organization ends the old org’s subscriptions with FORBIDDEN', async () => {
    const client = connect(makeToken(alicePrincipal()));
    const { got } = await watchRun(client);
    await authenticateAgain(client, makeToken({ ...alicePrincipal(), orgId: orgB }));
    await got.done;
    expect(got.error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN', reason: 'ORGANIZATION_CHANGED' }) as unknown })]);
  });
});

describe('a subscriber that does not read (issue 11)', () => {
  it('is ended with SUBSCRIBER_TOO_SLOW once its connection holds more than the bound unsent, while the others on the run get everything', async () => {
    const slowHttp = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => slowHttp.listen(0, '127.0.0.1', resolve));
    const slowUrl = `ws://127.0.0.1:${(slowHttp.address() as AddressInfo).port}/graphql`;
    const bounded = createSubscriptionServer({
      httpServer: slowHttp,
      path: '/graphql',
      apiSchema,
      authenticate: () => Promise.resolve({ principal: principals['token-a']! }),
      executeFederated,
      redis,
      redisPrefix: prefix,
      log,
      metrics: createMetrics('gateway-test-slow', { defaultMetrics: false }),
      maxBufferedBytes: 256 * 1024,
    });
    const sockets: WebSocket[] = [];
    try {
      const run = newRun(orgA, alice.id);
      await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'RUNNING' })]);
      // A raw graphql-transport-ws client; `paused` stops reading from the socket (the kernel's buffers fill, then the gateway's).
      const open = async () => {
        const socket = new WebSocket(slowUrl, 'graphql-transport-ws', { perMessageDeflate: false });
        sockets.push(socket);
        const messages: Array<{ type: string; payload?: unknown }> = [];
        socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as { type: string }));
        await new Promise<void>((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        });
        socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
        await until(() => messages.some((m) => m.type === 'connection_ack'), 'the connection ack');
        socket.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: `subscription($id: ID!) { runEvents(runId: $id) { seq message } }`, variables: { id: run.id } } }));
        await until(() => messages.some((m) => m.type === 'next'), 'the first event');
        return { socket, messages };
      };
      const reader = await open();
      const slow = await open();
      slow.socket.pause();
      // ~24 MiB of events: more than loopback's socket buffers hold.
      const line = 'x'.repeat(60 * 1024);
      for (let i = 0; i < 400; i += 1) await hub.publish([record(run, 'TASK_LOG', { message: `${i} ${line}`, level: 'INFO' })]);
      await hub.publish([record(run, 'RUN_STATUS', { runStatus: 'SUCCEEDED' })]);
      await until(() => reader.messages.some((m) => m.type === 'complete'), 'the reader to get every event');
      expect(reader.messages.filter((m) => m.type === 'next')).toHaveLength(402);
      slow.socket.resume();
      await until(() => slow.messages.some((m) => m.type === 'error' || m.type === 'complete'), 'the slow subscriber to end');
      const last = slow.messages.at(-1)!;
      expect(last).toMatchObject({ type: 'error', payload: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAVAILABLE', reason: 'SUBSCRIBER_TOO_SLOW' }) as unknown })] });
      const seqs = slow.messages.filter((m) => m.type === 'next').map((m) => (m.payload as { data: { runEvents: { seq: number } } }).data.runEvents.seq);
      // What it got is in order without gaps, and it did not get everything: it resumes from its last seq.
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(seqs.length).toBeLessThan(402);
    } finally {
      for (const socket of sockets) socket.terminate();
      await bounded.stop();
      await new Promise((resolve) => slowHttp.close(resolve));
    }
  }, 60_000);
});
