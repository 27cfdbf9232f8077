import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, handleProtocols, type Server } from 'graphql-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '@orchestra/lib/gateway';

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
  /** Ping every connection this often; one that has not answered the previous ping is dropped. */
  keepAliveMs: number;
  /**
   * permessage-deflate for clients that offer it, for messages of at least `threshold` bytes. Small
   * messages (most run events) are sent as they are: compressing them gains a few hundred bytes at the
   * cost of a zlib stream per connection (tens of KiB) and a trip through zlib's thread pool per message.
   */
  compression: false | { threshold: number };
}

export interface GraphqlWsTransport {
  stop(): Promise<void>;
}

const OPEN = 1;

const textOf = (data: RawData): string => (Buffer.isBuffer(data) ? data.toString() : Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString());

/**
 * graphql-ws (graphql-transport-ws) on `ws`, in place of graphql-ws's own `useServer`: the same
 * protocol handling (makeServer), but per connection it keeps no upgrade request, no timers of its
 * own (one keep-alive sweep for all connections) and no promise per message sent.
 */
export function serveGraphqlWs(server: Server<SocketExtra>, options: GraphqlWsTransportOptions): GraphqlWsTransport {
  const { httpServer, path, log, keepAliveMs } = options;
  const wss = new WebSocketServer({
    noServer: true,
    // `alive` below is the one list of connections.
    clientTracking: false,
    handleProtocols,
    // A message from a client is a GraphQL document and its variables: the HTTP API's body limit (ws: 100 MiB).
    maxPayload: 1024 * 1024,
    perMessageDeflate:
      options.compression === false
        ? false
        : {
            threshold: options.compression.threshold,
            // ws applies `threshold` only without context takeover: with it, ws compresses EVERY message,
            // so each connection held a zlib stream (~100 KiB of RSS measured per subscriber at 10,000)
            // and every event queued for zlib's thread pool. Each message is compressed on its own.
            serverNoContextTakeover: true,
            // Small windows, a fast level and a small output buffer: what a connection that is sent a big
            // message keeps is a few KiB of zlib state, not zlib's defaults (~300 KiB).
            serverMaxWindowBits: 11,
            clientMaxWindowBits: 11,
            zlibDeflateOptions: { level: 1, memLevel: 4, chunkSize: 4 * 1024 },
            zlibInflateOptions: { chunkSize: 4 * 1024 },
            concurrencyLimit: 4,
          },
  });
  wss.on('error', (err) => log.error('websocket server error', { err }));
  /** Connections and whether they answered the last ping. */
  const alive = new Map<WebSocket, boolean>();

  const accept = (socket: WebSocket, ip: string, userAgent: string | undefined) => {
    alive.set(socket, true);
    socket.on('pong', () => {
      if (alive.has(socket)) alive.set(socket, true);
    });
    socket.once('error', (err) => {
      log.warn('websocket connection error', { err });
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (socket.readyState === OPEN) socket.send(data);
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data: RawData) => {
            handle(textOf(data)).catch((err: unknown) => {
              log.error('subscription message handling failed', { err });
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, ip, userAgent },
    );
    socket.once('close', (code, reason) => {
      alive.delete(socket);
      closed(code, reason.toString()).catch((err: unknown) => log.error('closing a subscription connection failed', { err }));
    });
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

  const keepAlive =
    keepAliveMs > 0 && Number.isFinite(keepAliveMs)
      ? setInterval(() => {
          for (const [socket, answered] of alive) {
            if (!answered) {
              socket.terminate();
              continue;
            }
            if (socket.readyState !== OPEN) continue;
            alive.set(socket, false);
            socket.ping();
          }
        }, keepAliveMs)
      : undefined;
  keepAlive?.unref();

  return {
    async stop() {
      if (keepAlive) clearInterval(keepAlive);
      httpServer.off('upgrade', onUpgrade);
      for (const socket of alive.keys()) socket.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
