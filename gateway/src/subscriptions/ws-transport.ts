import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { CloseCode, handleProtocols } from 'graphql-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '@orchestra/lib/gateway';
import { KeepAliveWheel } from './keep-alive';
import type { FrameCorking, FrameSocket } from './live-subscription';
import { Connection, type ConnectionHooks, type ProtocolSocket } from './protocol';

/**
 * What a connection keeps of its upgrade request: the caller's address and user agent, not the
 * request itself (its headers, socket references and parser state would stay alive as long as the
 * connection, ~kilobytes each at 10,000 connections).
 */
export interface SocketExtra {
  readonly socket: WebSocket;
  readonly ip: string;
  readonly userAgent: string | undefined;
}

export interface GraphqlWsTransportOptions {
  httpServer: HttpServer;
  /** Upgrades on this path are taken ('/graphql'). */
  path: string;
  log: Logger;
  /**
   * Ping every connection this often; one that has not answered the previous ping is dropped. The
   * connections are pinged in slices spread over the period (keep-alive.ts), not all at once.
   */
  keepAliveMs: number;
  /** Slices the keep-alive period is swept in (default: keep-alive.ts's, a slice every ~250 ms; 1: every connection at once). */
  keepAliveSlices?: number;
  /**
   * permessage-deflate for clients that offer it, for messages of at least `threshold` bytes. Small
   * messages (most run events) are sent as they are: compressing them gains a few hundred bytes at the
   * cost of a zlib stream per connection (tens of KiB) and a trip through zlib's thread pool per message.
   */
  compression: false | { threshold: number };
  /** How long a connection may wait before connection_init. Default 3 s (graphql-ws's). */
  initTimeoutMs?: number;
}

export interface GraphqlWsTransport {
  /** Open connections, and how many of them hold a zlib stream (permessage-deflate) right now. */
  stats(): { connections: number; inflating: number; deflating: number };
  stop(): Promise<void>;
}

const OPEN = 1;

/**
 * ws's permessage-deflate state of a connection (ws 8 keeps it in private fields; read defensively:
 * without them nothing is released and ws works as before). ws makes a zlib stream per connection the
 * first time one is needed and keeps it for the connection's life.
 */
interface DeflateState {
  params?: Record<string, unknown>;
  _inflate?: { close(): void } | null;
  _deflate?: { close(): void } | null;
  /** Its decompress (PerMessageDeflate.prototype's, or inlineDecompress). */
  decompress?: Decompress;
}
const deflateStateOf = (socket: WebSocket): DeflateState | undefined => (socket as unknown as { _extensions?: Record<string, DeflateState | undefined> })._extensions?.['permessage-deflate'];

/**
 * Frees the connection's inflate stream after a whole message. Browsers compress every message they
 * send, so each browser connection held a zlib inflate stream (~16 KiB with its buffers) from its
 * connection_init on. The server asks clients not to carry compression context between messages
 * (client_no_context_takeover), so the next message decompresses as well with a fresh stream.
 */
function releaseInflate(socket: WebSocket): void {
  const state = deflateStateOf(socket);
  if (!state?._inflate || state.params?.['client_no_context_takeover'] !== true) return;
  state._inflate.close();
  state._inflate = null;
}

/** Frees the deflate stream of a connection that is not compressing a message now (made again for its next large one). */
function releaseIdleDeflate(socket: WebSocket): void {
  const state = deflateStateOf(socket);
  if (!state?._deflate) return;
  const sender = (socket as unknown as { _sender?: { _state?: unknown; _queue?: unknown[] } })._sender;
  // ws's Sender: state 0 with nothing queued is idle (1 is compressing).
  if (sender?._state !== 0 || sender._queue?.length !== 0) return;
  state._deflate.close();
  state._deflate = null;
}

/** ws's permessage-deflate decompress(data, fin, callback) (PerMessageDeflate.prototype.decompress). */
type Decompress = (this: DeflateState, data: Buffer, fin: boolean, callback: (error: Error | null, result?: Buffer) => void) => void;

/** A message from a client is a GraphQL document and its variables: the HTTP API's body limit (ws: 100 MiB). */
const MAX_PAYLOAD = 1024 * 1024;
/** Compressed messages up to this size are inflated on the spot (connection_init, subscribe, pong: a few hundred bytes). */
const INLINE_INFLATE_MAX = 16 * 1024;
/** What ends a message compressed on its own (RFC 7692: its final empty stored block's tail, taken off by the sender). */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * In place of ws's decompress for a connection that carries no compression context between messages
 * (client_no_context_takeover): a whole message of at most INLINE_INFLATE_MAX bytes is inflated at
 * once with a zlib context of its own, and the result handed to ws's receiver on the next tick, as its
 * own decompress would. ws sends every message through one zlib stream per connection on zlib's thread
 * pool, behind a limiter shared by every connection of the process (4 at a time here), three trips to
 * the pool each (data, tail, flush): at 10,000 connections each compressing its connection_init and
 * subscribe, as browsers do, the limiter and the cross-thread wake-ups, not zlib, set the pace of
 * connecting (the subscription bench: ~20,000 inflates of ~100 bytes). A fragmented or larger message,
 * and anything the inline inflate refuses (corrupt, over MAX_PAYLOAD), takes ws's own path, with its
 * own errors and close codes.
 */
const inlineDecompress: Decompress = function (data, fin, callback) {
  if (fin && !this._inflate && data.length <= INLINE_INFLATE_MAX) {
    let result: Buffer | undefined;
    try {
      const windowBits = this.params?.['client_max_window_bits'];
      result = inflateRawSync(Buffer.concat([data, DEFLATE_TAIL]), {
        windowBits: typeof windowBits === 'number' ? windowBits : zlibConstants.Z_DEFAULT_WINDOWBITS,
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_PAYLOAD,
      });
    } catch {
      result = undefined;
    }
    if (result) {
      // ws's receiver expects the callback after decompress has returned (it stops its loop first).
      process.nextTick(callback, null, result);
      return;
    }
  }
  (Object.getPrototypeOf(this) as { decompress: Decompress }).decompress.call(this, data, fin, callback);
};

/** Inflates the connection's small compressed messages inline (inlineDecompress) when it carries no context between messages. */
function inflateInline(socket: WebSocket): void {
  const state = deflateStateOf(socket);
  if (!state || typeof state.decompress !== 'function' || state.params?.['client_no_context_takeover'] !== true) return;
  state.decompress = inlineDecompress;
}

const textOf = (data: RawData): string => (Buffer.isBuffer(data) ? data.toString() : Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString());

/** ws's WebSocket's net.Socket (a private field of ws 8, read defensively: without it nothing is corked). */
const netSocketOf = (socket: FrameSocket): { cork?(): void; uncork?(): void } | null | undefined => (socket as unknown as { _socket?: { cork?(): void; uncork?(): void } | null })._socket;

/**
 * Corks a ws WebSocket's TCP socket: the frames sent until uncork go to the kernel in one writev
 * (ws writes each frame's header and data corked already, which nests). For a feed that offers a
 * subscriber several events in a row (live-subscription.ts, run-feeds.ts).
 */
export const wsCorking: FrameCorking = {
  cork(socket) {
    netSocketOf(socket)?.cork?.();
  },
  uncork(socket) {
    netSocketOf(socket)?.uncork?.();
  },
};

/** A connection's socket as the protocol uses it: sends only while open. */
class WsProtocolSocket implements ProtocolSocket {
  constructor(private readonly socket: WebSocket) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): void {
    if (this.socket.readyState === OPEN) this.socket.send(data);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}

/** Each socket's protocol connection (one property, so the listeners below are shared by every socket). */
const kConnection = Symbol('graphql-ws connection');
const kLog = Symbol('transport log');
type TransportSocket = WebSocket & { [kConnection]?: Connection<SocketExtra> | undefined; [kLog]?: Logger };

function onSocketMessage(this: WebSocket, data: RawData): void {
  const socket = this as TransportSocket;
  releaseInflate(socket);
  const connection = socket[kConnection];
  if (!connection) return;
  connection.message(textOf(data)).catch((err: unknown) => {
    socket[kLog]?.error('subscription message handling failed', { err });
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  });
}

function onSocketError(this: WebSocket, err: Error): void {
  (this as TransportSocket)[kLog]?.warn('websocket connection error', { err });
  this.close(CloseCode.InternalServerError, 'Internal server error');
}

/**
 * graphql-ws's protocol (graphql-transport-ws, protocol.ts) on `ws`, in place of graphql-ws's own
 * `useServer`/`makeServer`: per connection it keeps no upgrade request, no closures of its own (the
 * listeners are shared; the connection is a property of its socket), no timer once initialized (one
 * keep-alive wheel for all connections, swept a slice at a time) and no promise per message sent.
 */
export function serveGraphqlWs(hooks: ConnectionHooks<SocketExtra>, options: GraphqlWsTransportOptions): GraphqlWsTransport {
  const { httpServer, path, log, keepAliveMs } = options;
  const initTimeoutMs = options.initTimeoutMs ?? 3_000;
  const wss = new WebSocketServer({
    noServer: true,
    // `alive` below is the one list of connections.
    clientTracking: false,
    handleProtocols,
    maxPayload: MAX_PAYLOAD,
    perMessageDeflate:
      options.compression === false
        ? false
        : {
            threshold: options.compression.threshold,
            // ws applies `threshold` only without context takeover: with it, ws compresses EVERY message,
            // so each connection held a zlib stream (~100 KiB of RSS measured per subscriber at 10,000)
            // and every event queued for zlib's thread pool. Each message is compressed on its own.
            serverNoContextTakeover: true,
            // Clients compress each message on its own too, so the inflate stream can be freed after each
            // message (releaseInflate): a browser connection keeps no zlib stream while it only listens.
            clientNoContextTakeover: true,
            // Small windows, a fast level and a small output buffer: what a connection that is sent a big
            // message holds until the next keep-alive sweep is a few KiB of zlib state, not zlib's defaults (~300 KiB).
            serverMaxWindowBits: 11,
            clientMaxWindowBits: 11,
            zlibDeflateOptions: { level: 1, memLevel: 4, chunkSize: 4 * 1024 },
            zlibInflateOptions: { chunkSize: 4 * 1024 },
            concurrencyLimit: 4,
          },
  });
  wss.on('error', (err) => log.error('websocket server error', { err }));
  /** The connections, and whether each answered its last ping (the one list of connections). */
  const alive = new KeepAliveWheel<WebSocket>({
    periodMs: keepAliveMs,
    ...(options.keepAliveSlices === undefined ? {} : { slices: options.keepAliveSlices }),
    ping: (socket) => {
      socket.ping();
      releaseIdleDeflate(socket);
    },
    terminate: (socket) => socket.terminate(),
    isOpen: (socket) => socket.readyState === OPEN,
  });
  function onSocketPong(this: WebSocket): void {
    alive.answered(this);
  }
  function onSocketClose(this: WebSocket): void {
    alive.delete(this);
    const socket = this as TransportSocket;
    const connection = socket[kConnection];
    socket[kConnection] = undefined;
    try {
      connection?.closed();
    } catch (err) {
      log.error('closing a subscription connection failed', { err });
    }
  }

  const accept = (ws: WebSocket, ip: string, userAgent: string | undefined) => {
    const socket = ws as TransportSocket;
    alive.add(socket);
    inflateInline(socket);
    socket[kLog] = log;
    socket.on('pong', onSocketPong);
    socket.once('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('message', onSocketMessage);
    socket[kConnection] = new Connection(new WsProtocolSocket(socket), { socket, ip, userAgent }, hooks, { initTimeoutMs });
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    if ((query === -1 ? url : url.slice(0, query)) !== path) return;
    const ip = request.socket.remoteAddress ?? '';
    const userAgent = request.headers['user-agent'];
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => accept(ws, ip, userAgent));
  };
  httpServer.on('upgrade', onUpgrade);

  alive.start();

  return {
    stats() {
      let inflating = 0;
      let deflating = 0;
      for (const socket of alive.keys()) {
        const state = deflateStateOf(socket);
        if (state?._inflate) inflating += 1;
        if (state?._deflate) deflating += 1;
      }
      return { connections: alive.size, inflating, deflating };
    },
    async stop() {
      alive.stop();
      httpServer.off('upgrade', onUpgrade);
      for (const socket of alive.keys()) socket.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
