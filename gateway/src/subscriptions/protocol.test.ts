import { eventually } from '@orchestra/lib';
import { Connection, type ConnectionHooks, type Operation, type ProtocolSocket, type SubscribeOutcome } from './protocol';

/**
 * graphql-transport-ws, one connection, without a network: the messages, close codes and order that
 * graphql-ws's own server has (its client is used against the real server in subscriptions.test.ts).
 */

class FakeSocket implements ProtocolSocket {
  readonly sent: Array<Record<string, unknown>> = [];
  closedWith: { code: number; reason: string } | undefined;
  constructor(readonly protocol = 'graphql-transport-ws') {}
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason };
  }
}

class FakeOperation implements Operation {
  cancelled = 0;
  started = 0;
  cancel(): void {
    this.cancelled += 1;
  }
}

function setUp({ initTimeoutMs = 0, decide }: { initTimeoutMs?: number; decide?: (id: string, query: string) => Promise<SubscribeOutcome> } = {}) {
  const socket = new FakeSocket();
  let closedHook = 0;
  const operations: FakeOperation[] = [];
  const hooks: ConnectionHooks<{ name: string }> = {
    init: (_connection, params) => Promise.resolve(params?.['refuse'] ? false : { hello: 'there' }),
    subscribe: (_connection, id, payload) => {
      if (decide) return decide(id, payload.query);
      if (payload.query === 'errors') return Promise.resolve({ errors: [{ message: 'no such field' }] });
      if (payload.query === 'result') return Promise.resolve({ result: { data: { ok: true } } });
      const operation = new FakeOperation();
      operations.push(operation);
      return Promise.resolve({ operation, start: () => (operation.started += 1) });
    },
    closed: () => (closedHook += 1),
  };
  const connection = new Connection(socket, { name: 'extra' }, hooks, { initTimeoutMs });
  const send = (message: unknown) => connection.message(JSON.stringify(message));
  return { socket, connection, send, operations, closedHook: () => closedHook };
}

const init = { type: 'connection_init', payload: { authorization: 'Bearer x' } };

describe('graphql-transport-ws connection', () => {
  it('acknowledges connection_init with the hook’s payload and answers pings with their payload', async () => {
    const { socket, send } = setUp();
    await send(init);
    await send({ type: 'ping', payload: { at: 1 } });
    await send({ type: 'ping' });
    await send({ type: 'pong' });
    expect(socket.sent).toEqual([{ type: 'connection_ack', payload: { hello: 'there' } }, { type: 'pong', payload: { at: 1 } }, { type: 'pong' }]);
    expect(socket.closedWith).toBeUndefined();
  });

  it('closes with the protocol’s codes: bad messages 4400, subscribing before the ack 4401, a refused init 4403, a second init 4429, a duplicate id 4409', async () => {
    const bad = setUp();
    await bad.send({ type: 'subscribe', id: '', payload: {} });
    expect(bad.socket.closedWith).toEqual({ code: 4400, reason: 'Invalid message received' });
    const notJson = setUp();
    await notJson.connection.message('{not json');
    expect(notJson.socket.closedWith?.code).toBe(4400);

    const early = setUp();
    await early.send({ id: '1', type: 'subscribe', payload: { query: 'live' } });
    expect(early.socket.closedWith).toEqual({ code: 4401, reason: 'Unauthorized' });

    const refused = setUp();
    await refused.send({ type: 'connection_init', payload: { refuse: true } });
    expect(refused.socket.closedWith).toEqual({ code: 4403, reason: 'Forbidden' });
    expect(refused.socket.sent).toEqual([]);

    const twice = setUp();
    await twice.send(init);
    await twice.send(init);
    expect(twice.socket.closedWith).toEqual({ code: 4429, reason: 'Too many initialisation requests' });

    const duplicate = setUp();
    await duplicate.send(init);
    await duplicate.send({ id: 'a', type: 'subscribe', payload: { query: 'live' } });
    await duplicate.send({ id: 'a', type: 'subscribe', payload: { query: 'live' } });
    expect(duplicate.socket.closedWith).toEqual({ code: 4409, reason: 'Subscriber for a already exists' });
  });

  it('closes with 4406 a socket of another subprotocol, and with 4408 one that never initializes', async () => {
    const socket = new FakeSocket('graphql-ws');
    const hooks: ConnectionHooks<undefined> = { init: () => Promise.resolve(true), subscribe: () => Promise.reject(new Error('not called')), closed: () => undefined };
    const other = new Connection(socket, undefined, hooks, { initTimeoutMs: 0 });
    expect(other.size).toBe(0);
    expect(socket.closedWith).toEqual({ code: 4406, reason: 'Subprotocol not acceptable' });

    const silent = setUp({ initTimeoutMs: 20 });
    await eventually(() => silent.socket.closedWith, { what: 'the init timeout' });
    expect(silent.socket.closedWith).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
    const initialized = setUp({ initTimeoutMs: 20 });
    await initialized.send(init);
    await new Promise((r) => setTimeout(r, 60));
    expect(initialized.socket.closedWith).toBeUndefined();
  });

  it('sends errors as `error`, a single result as `next` then `complete`, and starts a live operation once registered', async () => {
    const { socket, send, connection, operations } = setUp();
    await send(init);
    await send({ id: 'e', type: 'subscribe', payload: { query: 'errors' } });
    await send({ id: 'r', type: 'subscribe', payload: { query: 'result' } });
    await send({ id: 'l', type: 'subscribe', payload: { query: 'live' } });
    expect(socket.sent.slice(1)).toEqual([
      { id: 'e', type: 'error', payload: [{ message: 'no such field' }] },
      { id: 'r', type: 'next', payload: { data: { ok: true } } },
      { id: 'r', type: 'complete' },
    ]);
    expect(operations[0]!.started).toBe(1);
    expect(connection.size).toBe(1);
    // The ids of finished operations may be used again.
    await send({ id: 'e', type: 'subscribe', payload: { query: 'result' } });
    expect(socket.closedWith).toBeUndefined();
  });

  it('tells the client when an operation ends by itself, and nothing when the client completed it', async () => {
    const { socket, send, connection, operations } = setUp();
    await send(init);
    await send({ id: 'a', type: 'subscribe', payload: { query: 'live' } });
    await send({ id: 'b', type: 'subscribe', payload: { query: 'live' } });
    await send({ id: 'c', type: 'subscribe', payload: { query: 'live' } });
    const [a, b, c] = operations;
    connection.finish('a', a!);
    connection.finish('b', b!, [{ message: 'access ended', extensions: { code: 'UNAUTHENTICATED' } }]);
    await send({ id: 'c', type: 'complete' });
    expect(c!.cancelled).toBe(1);
    // Ending after the client completed it sends nothing.
    connection.finish('c', c!);
    connection.finish('a', a!);
    expect(socket.sent.slice(1)).toEqual([
      { id: 'a', type: 'complete' },
      { id: 'b', type: 'error', payload: [{ message: 'access ended', extensions: { code: 'UNAUTHENTICATED' } }] },
    ]);
    expect(connection.size).toBe(0);
  });

  it('cancels an operation the client completed while it was being decided, without a message', async () => {
    let release: (outcome: SubscribeOutcome) => void = () => undefined;
    const operation = new FakeOperation();
    const { socket, send } = setUp({ decide: () => new Promise((resolve) => (release = resolve)) });
    await send(init);
    const subscribing = send({ id: 'slow', type: 'subscribe', payload: { query: 'live' } });
    await send({ id: 'slow', type: 'complete' });
    release({ operation, start: () => (operation.started += 1) });
    await subscribing;
    expect(operation).toMatchObject({ cancelled: 1, started: 0 });
    expect(socket.sent).toEqual([{ type: 'connection_ack', payload: { hello: 'there' } }]);
  });

  it('cancels every open operation when the socket closes, then tells the hooks', async () => {
    const { send, connection, operations, closedHook, socket } = setUp();
    await send(init);
    await send({ id: 'a', type: 'subscribe', payload: { query: 'live' } });
    await send({ id: 'b', type: 'subscribe', payload: { query: 'live' } });
    connection.closed();
    expect(operations.map((o) => o.cancelled)).toEqual([1, 1]);
    expect(closedHook()).toBe(1);
    expect(connection.size).toBe(0);
    expect(socket.sent).toHaveLength(1);
  });

  it('rejects when a client sends a message only servers send (the transport closes with 4500)', async () => {
    const { send } = setUp();
    await send(init);
    await expect(send({ type: 'connection_ack' })).rejects.toThrow('Unexpected message of type connection_ack received');
  });
});
