import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
    wildcard: false,
    index: ['index.html'],
    // Hashed assets never change; index.html must always be fresh.
    setHeaders: (res, path) => {
      void res.header('cache-control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.setNotFoundHandler((request, reply) => {
    const isPage = request.method === 'GET' && !API_PREFIXES.some((p) => request.url.startsWith(p)) && !/\.[a-z0-9]+(\?|$)/i.test(request.url);
    if (isPage) return reply.type('text/html').sendFile('index.html');
    return reply.code(404).send({ errors: [{ message: `no route ${request.method} ${request.url}`, extensions: { code: 'NOT_FOUND' } }] });
  });
}
