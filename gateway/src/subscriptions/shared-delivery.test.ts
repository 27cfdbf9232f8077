import { buildSchema, parse, type GraphQLObjectType } from 'graphql';
import { AppError, createMemoryLogger, type Principal } from '@orchestra/lib';
import { FederatedObjects } from './federated-selection';
import { LiveSubscription, type FrameSocket, type SubscriberContext } from './live-subscription';
import type { SubscriptionField } from './registry';
import { createSharedResults } from './shared-results';

/**
 * Shared execution and delivery without a network: a group's event is executed and serialized once,
 * every subscriber sends those characters inside its own `next` message, in order, and a subscriber
 * whose connection does not read is ended instead of buffering without bound.
 */

const log = createMemoryLogger('shared-delivery-test');
const principal: Principal = { kind: 'user', id: 'u1', userId: 'u1', orgId: 'o1', role: 'viewer', scopes: [], requestId: 'r' };

let resolvedRuns = 0;
let pendingRuns: Array<() => void> = [];
const schema = buildSchema(`
  type Run { id: ID! status: String! }
  type Event { seq: Int! message: String run: Run }
  type Query { e: Event }
  type Subscription { events: Event! }
`);
// `run` resolves later (as a federated look-up does) and counts its executions.
(schema.getType('Event') as GraphQLObjectType).getFields()['run']!.resolve = (event: { seq: number }) => {
  resolvedRuns += 1;
  return new Promise((resolve) => pendingRuns.push(() => resolve({ id: 'run-1', status: `S${event.seq}` })));
};
schema.getSubscriptionType()!.getFields()['events']!.resolve = (event: unknown) => event;

const field: SubscriptionField = {
  name: 'events',
  access: { role: 'viewer', scopes: [] },
  parseArgs: () => ({}),
  authorizeResource: () => Promise.resolve(),
  attach: () => () => undefined,
  eventKey: (event) => String((event as { seq: number }).seq),
};

class FakeSocket implements FrameSocket {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  send(data: string): void {
    this.sent.push(data);
  }
}

function setUp(documentText: string) {
  let executions = 0;
  const shared = createSharedResults({ schema, objects: new FederatedObjects(), log, executed: () => (executions += 1) });
  const group = shared.acquire('events|1', () => ({ field: 'events', document: parse(documentText), variables: {}, operationName: null, scope: 'scope' }));
  const context = (): SubscriberContext => ({ principal, scope: 'scope', log });
  const subscribe = (id: string, options: { maxBufferedBytes?: number; maxQueued?: number } = {}) => {
    const socket = new FakeSocket();
    const ended: Array<AppError | undefined> = [];
    let settle: (outcome: { done: boolean; error: unknown }) => void = () => undefined;
    const outcome = new Promise<{ done: boolean; error: unknown }>((resolve) => (settle = resolve));
    let offer: (event: unknown) => void = () => undefined;
    let complete: () => void = () => undefined;
    const live = new LiveSubscription({
      id,
      field,
      args: {},
      socket,
      payload: (event) => shared.payload(group, event, field, context),
      allowed: () => true,
      maxQueued: options.maxQueued ?? 1_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      onDelivered: () => undefined,
      onEnd: (_live, error) => {
        ended.push(error);
        settle(error ? { done: false, error } : { done: true, error: undefined });
      },
    });
    live.start((sink) => {
      offer = (event) => sink.offer(event);
      complete = () => sink.complete();
      return () => undefined;
    });
    return { socket, live, ended, outcome, offer: (event: unknown) => offer(event), complete: () => complete() };
  };
  return { shared, group, subscribe, executions: () => executions };
}

const messages = (socket: FakeSocket) => socket.sent.map((frame) => JSON.parse(frame) as { id: string; type: string; payload: unknown });

describe('shared execution and delivery', () => {
  it('executes and serializes an event once for a group and sends each subscriber the same payload under its own id', async () => {
    const { subscribe, executions } = setUp(`subscription { events { seq message } }`);
    const a = subscribe('a');
    const b = subscribe('b"quoted');
    const event = { seq: 1, message: 'hello "world"' };
    a.offer(event);
    b.offer(event);
    a.offer({ seq: 2, message: null });
    b.offer({ seq: 2, message: null });
    expect(executions()).toBe(2);
    expect(messages(a.socket)).toEqual([
      { id: 'a', type: 'next', payload: { data: { events: { seq: 1, message: 'hello "world"' } } } },
      { id: 'a', type: 'next', payload: { data: { events: { seq: 2, message: null } } } },
    ]);
    expect(messages(b.socket).map((m) => m.id)).toEqual(['b"quoted', 'b"quoted']);
    // The very same characters after the id.
    expect(a.socket.sent[0]!.slice(a.socket.sent[0]!.indexOf('"payload"'))).toBe(b.socket.sent[0]!.slice(b.socket.sent[0]!.indexOf('"payload"')));
    a.complete();
    expect(await a.outcome).toEqual({ done: true, error: undefined });
  });

  it('keeps each subscriber’s order while entity fields resolve, resolving each event once for the group', async () => {
    resolvedRuns = 0;
    pendingRuns = [];
    const { subscribe, executions } = setUp(`subscription { events { seq run { status } } }`);
    const a = subscribe('a');
    const b = subscribe('b');
    for (const seq of [1, 2, 3]) {
      const event = { seq, message: null };
      a.offer(event);
      b.offer(event);
    }
    a.complete();
    expect(executions()).toBe(3);
    expect(resolvedRuns).toBe(3);
    expect(a.socket.sent).toEqual([]);
    // Resolve out of order: delivery still follows seq.
    for (const release of [...pendingRuns].reverse()) release();
    expect(await a.outcome).toEqual({ done: true, error: undefined });
    await new Promise((r) => setImmediate(r));
    for (const s of [a, b]) {
      expect(messages(s.socket).map((m) => (m.payload as { data: { events: { seq: number; run: { status: string } } } }).data.events)).toEqual([
        { seq: 1, run: { status: 'S1' } },
        { seq: 2, run: { status: 'S2' } },
        { seq: 3, run: { status: 'S3' } },
      ]);
    }
    // A subscriber that comes later (a resume from memory) gets the resolved payload at once.
    const late = subscribe('late');
    late.offer({ seq: 2, message: null });
    expect(messages(late.socket)).toHaveLength(1);
    expect(executions()).toBe(3);
  });

  it('ends a subscriber whose connection holds more than its bound unread, with SUBSCRIBER_TOO_SLOW, and sends it nothing more', async () => {
    const { subscribe } = setUp(`subscription { events { seq } }`);
    const slow = subscribe('slow', { maxBufferedBytes: 1_000 });
    slow.offer({ seq: 1, message: null });
    slow.socket.bufferedAmount = 1_001;
    slow.offer({ seq: 2, message: null });
    slow.offer({ seq: 3, message: null });
    const { error } = await slow.outcome;
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', reason: 'SUBSCRIBER_TOO_SLOW' });
    expect(messages(slow.socket).map((m) => m.id)).toEqual(['slow']);
    expect(slow.ended).toHaveLength(1);
  });

  it('gives a group back when its last subscriber releases it', () => {
    const { shared, group } = setUp(`subscription { events { seq } }`);
    expect(shared.stats().groups).toBe(1);
    const again = shared.acquire('events|1', () => {
      throw new Error('the group exists: not made again');
    });
    expect(again).toBe(group);
    shared.release(group);
    shared.release(group);
    expect(shared.stats().groups).toBe(0);
  });
});
