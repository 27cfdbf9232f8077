import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The app's own origin only: scripts and styles it ships (inline styles for progress widths), the API
 * over HTTP and WebSocket on the same origin, no framing.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const isSourceMap = (path: string): boolean => /\.map$/i.test(path.split('?')[0] ?? path);

/** Paths the gateway answers itself; everything else under / is the single-page app. */
const API_PREFIXES = ['/graphql', '/healthz', '/readyz', '/metrics', '/schema/'];

/**
 * Serves the built admin SPA from `distDir` on the gateway's own origin (so the browser talks to
 * /graphql without CORS), with index.html for client-side routes.
 */
export async function serveWebApp(app: FastifyInstance, distDir: string): Promise<void> {
  const root = resolve(distDir);
  if (!existsSync(join(root, 'index.html'))) throw new Error(`WEB_DIST_DIR ${root} has no index.html: build the web app first (npm run build -w @orchestra/web)`);
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // Looked up per request, so a rebuilt app's new hashed assets are served without a restart.
    wildcard: true,
    index: ['index.html'],
    // Source maps stay on the server: they would hand anyone the app's sources and comments.
    allowedPath: (pathName) => !isSourceMap(pathName),
    // Hashed assets never change; index.html must always be fresh.
    setHeaders: (res, path) => {
      void res.header('cache-control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) void res.header(name, value);
    },
  });
  app.setNotFoundHandler((request, reply) => {
    // The path alone decides (a query string like ?q=a@b.io must not look like a file).
    const path = new URL(request.url, 'http://gateway').pathname;
    const isPage = request.method === 'GET' && !API_PREFIXES.some((p) => path.startsWith(p)) && !/\.[a-z0-9]+$/i.test(path);
    if (isPage) return reply.headers(SECURITY_HEADERS).type('text/html').sendFile('index.html');
    return reply.code(404).send({ errors: [{ message: `no route ${request.method} ${path}`, extensions: { code: 'NOT_FOUND' } }] });
  });
}
