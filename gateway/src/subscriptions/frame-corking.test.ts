import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createMemoryLogger, createRedis, createRunEventHub, eventually, TEST_REDIS_URL, testRunEvent, uniqueName, type Redis, type RunEvent, type RunEventHub } from '@orchestra/lib';
import { LiveSubscription } from './live-subscription';
import type { SubscriptionField } from './registry';
import { createRunFeeds, type FeedSink, type RunFeeds } from './run-feeds';
import { wsCorking } from './ws-transport';

/**
 * Several events offered to a subscriber in a row (a read that found several: the gateway fell behind,
 * or a subscriber resuming from the feed's memory) reach the kernel in one write per connection, not
 * one write (a syscall) per event. Counted on the server side's TCP socket, over a real WebSocket.
 */

const log = createMemoryLogger('frame-corking-test');

describe('frames of events offered in a row', () => {
  let http: HttpServer;
  let wss: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    http = createServer();
    wss = new WebSocketServer({ server: http });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  /** A connection: the server's WebSocket with its TCP socket's writes counted, and what the client received. */
  async function connection(): Promise<{ server: WebSocket; writes: () => number; received: string[] }> {
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = new WebSocket(url);
    const received: string[] = [];
    client.on('message', (data: Buffer) => received.push(data.toString()));
    const server = await accepted;
    const tcp = (server as unknown as { _socket: { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void } })._socket;
    let count = 0;
    for (const method of ['_write', '_writev'] as const) {
      const original = tcp[method].bind(tcp);
      tcp[method] = (...args: unknown[]) => {
        count += 1;
        original(...args);
      };
    }
    return { server, writes: () => count, received };
  }

  const field = { name: 'runEvents' } as SubscriptionField;
  const subscription = (server: WebSocket, corked: boolean) =>
    new LiveSubscription({
      id: 'sub-1',
      field,
      args: {},
      socket: server,
      ...(corked ? { corking: wsCorking } : {}),
      payload: (event) => JSON.stringify({ data: { runEvents: { seq: (event as { seq: number }).seq } } }),
      allowed: () => true,
      maxQueued: 100,
      maxBufferedBytes: 1024 * 1024,
      onDelivered: () => undefined,
      onEnd: () => undefined,
    });

  it('sends 20 events offered between cork and uncork in one write, in order', async () => {
    const { server, writes, received } = await connection();
    const live = subscription(server, true);
    live.cork();
    for (let seq = 1; seq <= 20; seq += 1) live.offer({ seq });
    live.uncork();
    expect(writes()).toBe(1);
    await eventually(() => received.length === 20, { what: '20 messages' });
    expect(received.map((m) => (JSON.parse(m) as { payload: { data: { runEvents: { seq: number } } } }).payload.data.runEvents.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(JSON.parse(received[0]!)).toEqual({ id: 'sub-1', type: 'next', payload: { data: { runEvents: { seq: 1 } } } });
  });

  it('(without corking each event is a write of its own)', async () => {
    const { server, writes, received } = await connection();
    const live = subscription(server, false);
    live.cork();
    for (let seq = 1; seq <= 20; seq += 1) live.offer({ seq });
    live.uncork();
    expect(writes()).toBe(20);
    await eventually(() => received.length === 20, { what: '20 messages' });
  });
});

describe('run feeds offer a read of several events corked', () => {
  let redis: Redis;
  let prefix: string;
  let hub: RunEventHub;
  let feeds: RunFeeds;

  beforeAll(() => {
    redis = createRedis({ url: TEST_REDIS_URL, name: 'frame-corking-test', log });
    prefix = uniqueName('corking');
    hub = createRunEventHub({ redis, prefix, log });
    feeds = createRunFeeds({ redis, prefix, log, store: () => Promise.resolve([]), storePrincipal: (orgId) => ({ kind: 'service', id: 'gateway', orgId, scopes: [], requestId: 'r' }) });
  });

  afterAll(async () => {
    await feeds.stop();
    await hub.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  /** A sink that records its calls in order: 'cork', a seq, 'uncork'. */
  const recorder = (): FeedSink & { calls: Array<string | number> } => {
    const calls: Array<string | number> = [];
    return {
      calls,
      offer: (event) => calls.push(event.seq),
      complete: () => calls.push('complete'),
      fail: () => calls.push('fail'),
      cork: () => calls.push('cork'),
      uncork: () => calls.push('uncork'),
    };
  };

  it('corks each subscriber around a read of several events and around a resume from memory', async () => {
    const runId = randomUUID();
    const orgId = randomUUID();
    const event = (seq: number): RunEvent => testRunEvent({ runId, orgId, workflowId: 'wf', seq, kind: 'TASK_PROGRESS', at: new Date().toISOString() });
    await hub.publish([event(1), event(2), event(3)]);
    const principal = { kind: 'user' as const, id: 'u', userId: 'u', orgId, scopes: [], requestId: 'r' };
    // Resumes from the start: the three events from the feed's memory, in one corked run.
    const early = recorder();
    feeds.attachRun(runId, 0, early, principal);
    await eventually(() => early.calls.includes(3), { what: 'the resume' });
    expect(early.calls).toEqual(['cork', 1, 2, 3, 'uncork']);

    // Five events published at once are read at once and offered to each subscriber corked.
    const live = recorder();
    feeds.attachRun(runId, 3, live, principal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    early.calls.length = 0;
    live.calls.length = 0;
    await hub.publish([event(4), event(5), event(6), event(7), event(8)]);
    await eventually(() => live.calls.includes(8) && early.calls.includes(8), { what: 'events 4-8' });
    for (const sink of [early, live]) expect(sink.calls).toEqual(['cork', 4, 5, 6, 7, 8, 'uncork']);

    // One event alone is offered without corking.
    early.calls.length = 0;
    await hub.publish([event(9)]);
    await eventually(() => early.calls.includes(9), { what: 'event 9' });
    expect(early.calls).toEqual([9]);
  });
});
