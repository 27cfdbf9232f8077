import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createMemoryLogger, eventually } from '@orchestra/lib';
import type { ConnectionHooks } from './protocol';
import { serveGraphqlWs, type GraphqlWsTransport, type SocketExtra } from './ws-transport';

/**
 * The transport over real WebSockets with permessage-deflate, as browsers use it (they compress every
 * message they send): the connection holds no zlib stream between messages, and compressed messages
 * still arrive intact both ways. The protocol server is an echo (graphql-ws's protocol is tested
 * through the subscription server).
 */

const log = createMemoryLogger('ws-transport-test');
const BIG = 'x'.repeat(4_096);

/** Acknowledges every connection; answers a `{ query: "big" }` subscribe with a result over the compression threshold, any other with an echo. */
const echo: ConnectionHooks<SocketExtra> = {
  init: () => Promise.resolve(true),
  subscribe: (_connection, _id, payload) => Promise.resolve({ result: { data: { echo: payload.query === 'big' ? `${BIG}${BIG}` : payload.query } } }),
  closed: () => undefined,
};

let http: HttpServer;
let transport: GraphqlWsTransport;
let url: string;
const clients: WebSocket[] = [];

beforeAll(async () => {
  http = createServer();
  transport = serveGraphqlWs(echo, { httpServer: http, path: '/graphql', log, keepAliveMs: 200, compression: { threshold: 1024 } });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  for (const client of clients) client.terminate();
  await transport.stop();
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

/** A client that compresses everything it sends (threshold 0), as browsers do, past connection_ack. */
async function browserLike(at = url): Promise<{ socket: WebSocket; received: Array<{ id?: string; type: string; payload?: { data?: { echo?: string } } }>; extensions: string }> {
  const socket = new WebSocket(at, 'graphql-transport-ws', { perMessageDeflate: { threshold: 0 } });
  clients.push(socket);
  const received: Array<{ id?: string; type: string; payload?: { data?: { echo?: string } } }> = [];
  socket.on('message', (data: Buffer) => received.push(JSON.parse(data.toString()) as (typeof received)[number]));
  let extensions = '';
  socket.once('upgrade', (response) => (extensions = String(response.headers['sec-websocket-extensions'] ?? '')));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer abc.def.ghi' } }));
  await eventually(() => received.some((m) => m.type === 'connection_ack'), { what: 'connection_ack' });
  return { socket, received, extensions };
}

const subscribe = (socket: WebSocket, id: string, query: string) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
const echoes = (received: Array<{ id?: string; type: string; payload?: { data?: { echo?: string } } }>) => received.filter((m) => m.type === 'next').map((m) => m.payload?.data?.echo);

describe('graphql-ws transport, permessage-deflate', () => {
  it('asks clients not to carry context between messages, and keeps no inflate stream between their compressed messages', async () => {
    const { socket, received, extensions } = await browserLike();
    expect(extensions).toContain('permessage-deflate');
    expect(extensions).toContain('client_no_context_takeover');
    expect(extensions).toContain('server_no_context_takeover');
    // The same text several times: with context carried over, later copies would be back-references
    // into a window the server no longer has; each arrives whole because none is carried.
    const texts = ['hello hello hello', 'hello hello hello', 'ünïcödé ✓'];
    texts.forEach((text, i) => subscribe(socket, String(i + 1), text));
    await eventually(() => received.filter((m) => m.type === 'complete').length === texts.length, { what: 'the answers' });
    expect(echoes(received)).toEqual(texts);
    expect(transport.stats()).toMatchObject({ connections: 1, inflating: 0 });
    socket.close();
    await eventually(() => transport.stats().connections === 0, { what: 'the connection to close' });
  });

  it('compresses large messages to the client and frees the deflate stream at the next keep-alive sweep', async () => {
    const { socket, received } = await browserLike();
    subscribe(socket, 'a', 'big');
    await eventually(() => echoes(received).length === 1, { what: 'the large message' });
    expect(echoes(received)[0]).toBe(`${BIG}${BIG}`);
    await eventually(() => transport.stats().deflating === 0, { what: 'the idle deflate stream to be freed' });
    // A new stream is made for the next large message.
    subscribe(socket, 'b', 'big');
    await eventually(() => echoes(received).length === 2, { what: 'the second large message' });
    expect(echoes(received)[1]).toBe(`${BIG}${BIG}`);
    expect(transport.stats()).toMatchObject({ connections: 1, inflating: 0 });
    socket.close();
    await eventually(() => transport.stats().connections === 0, { what: 'the connection to close' });
  });

  it('takes a compressed message too large to inflate on the spot, and a fragmented one, through ws’s own inflate, intact', async () => {
    const { socket, received } = await browserLike();
    // ~40 KiB of base64 compresses to ~30 KiB: over the inline size (16 KiB compressed).
    const large = randomBytes(30 * 1024).toString('base64');
    subscribe(socket, 'large', large);
    const fragmented = `fragmented ${'y'.repeat(2_000)}`;
    const message = JSON.stringify({ id: 'fragmented', type: 'subscribe', payload: { query: fragmented } });
    const half = Math.floor(message.length / 2);
    socket.send(message.slice(0, half), { fin: false });
    socket.send(message.slice(half), { fin: true });
    subscribe(socket, 'small', 'small after them');
    await eventually(() => echoes(received).length === 3, { what: 'the three answers' });
    expect(echoes(received)).toEqual([large, fragmented, 'small after them']);
    expect(transport.stats()).toMatchObject({ connections: 1, inflating: 0 });
    socket.close();
    await eventually(() => transport.stats().connections === 0, { what: 'the connection to close' });
  });

  it('closes a connection whose compressed message inflates past 1 MiB (1009, message too big)', async () => {
    // A server of its own with a keep-alive that cannot end the connection first: its receiver reads
    // nothing else (pongs included) while ws inflates the message, slowly on a busy machine.
    const server = createServer();
    const own = serveGraphqlWs(echo, { httpServer: server, path: '/graphql', log, keepAliveMs: 600_000, compression: { threshold: 1024 } });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { socket } = await browserLike(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      // 2 MiB of one letter compresses to a few KiB: small enough to be inflated on the spot, too big once inflated.
      subscribe(socket, 'bomb', 'z'.repeat(2 * 1024 * 1024));
      expect(await closed).toBe(1009);
    } finally {
      await own.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('keeps the connection answering pings (the sweep that frees zlib streams is the keep-alive sweep)', async () => {
    const { socket } = await browserLike();
    let pings = 0;
    socket.on('ping', () => (pings += 1));
    await eventually(() => pings >= 2, { what: 'two keep-alive pings' });
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });
});
