import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, isIP, type AddressInfo, type Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Duplex } from 'node:stream';
import { isPrivateAddress } from '@orchestra/lib/worker';

/**
 * The network guard of one browser context: an HTTP proxy on 127.0.0.1 that the context sends every
 * request through (navigations, frames, subresources, each redirect hop, WebSocket and https
 * tunnels, loopback included: Playwright proxies loopback for a context proxy). It resolves the name
 * itself, refuses it when any address is blocked, and connects to the address it checked, so a
 * name that re-resolves to a private address later gains nothing. Refusals are recorded so the
 * failing action can say why.
 */
export interface GuardProxy {
  /** `http://127.0.0.1:<port>` for the context's `proxy.server`. */
  readonly server: string;
  /** Hosts refused so far, in order. */
  readonly refused: string[];
  close(): Promise<void>;
}

export interface GuardProxyOptions {
  allowPrivate: boolean;
  isBlocked?: (address: string) => boolean;
}

type Checked = { ok: true; address: string } | { ok: false; host: string };

const stripBrackets = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

export async function startGuardProxy({ allowPrivate, isBlocked = isPrivateAddress }: GuardProxyOptions): Promise<GuardProxy> {
  const refused: string[] = [];
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };

  const check = async (rawHost: string): Promise<Checked> => {
    const host = stripBrackets(rawHost);
    const refuse = (): Checked => {
      refused.push(host);
      return { ok: false, host };
    };
    if (isIP(host) !== 0) return allowPrivate || !isBlocked(host) ? { ok: true, address: host } : refuse();
    const addresses = await lookup(host, { all: true });
    if (!allowPrivate && addresses.some((a) => isBlocked(a.address))) return refuse();
    const first = addresses[0];
    if (first === undefined) throw new Error(`no address for ${host}`);
    return { ok: true, address: first.address };
  };

  const server = createServer((req, res) => {
    void (async () => {
      let target: URL;
      try {
        target = new URL(req.url ?? '');
        if (target.protocol !== 'http:') throw new Error('not http');
      } catch {
        res.writeHead(400).end('the browser guard proxies absolute http URLs only');
        return;
      }
      let checked: Checked;
      try {
        checked = await check(target.hostname);
      } catch (error) {
        res.writeHead(502).end(`cannot resolve ${target.hostname}: ${(error as Error).message}`);
        return;
      }
      if (!checked.ok) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end(`refused by the worker's network guard: ${checked.host} is not allowed`);
        return;
      }
      const headers = { ...req.headers };
      delete headers['proxy-connection'];
      delete headers['proxy-authorization'];
      const upstream = httpRequest(
        { host: checked.address, port: target.port === '' ? 80 : Number(target.port), method: req.method, path: `${target.pathname}${target.search}`, headers, setHost: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end('upstream connection failed')));
      req.pipe(upstream);
    })();
  });

  const tunnel = (req: IncomingMessage, client: Duplex, head: Buffer, port: number, host: string, rawRequest: string | undefined) => {
    track(client);
    client.on('error', () => client.destroy());
    void (async () => {
      let checked: Checked;
      try {
        checked = await check(host);
      } catch {
        client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
        return;
      }
      if (!checked.ok) {
        client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const upstream: Socket = connect(port, checked.address, () => {
        if (rawRequest === undefined) client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        else upstream.write(rawRequest);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      track(upstream);
      upstream.on('error', () => {
        if (rawRequest === undefined && !client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
    })();
  };

  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? '');
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    tunnel(req, client, head, Number(match[2]), match[1]!, undefined);
  });

  // A plain ws:// upgrade sent to the proxy as an absolute URL: checked, then forwarded as it came.
  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const lines = [`${req.method} ${target.pathname}${target.search} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!/^proxy-/i.test(req.rawHeaders[i]!)) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    tunnel(req, client, head, target.port === '' ? 80 : Number(target.port), target.hostname, `${lines.join('\r\n')}\r\n\r\n`);
  });
  server.on('connection', track);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server: `http://127.0.0.1:${port}`,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
