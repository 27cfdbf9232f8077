import Fastify from 'fastify';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveWebApp } from './web-app';

describe('serving the admin SPA', () => {
  const dist = mkdtempSync(join(tmpdir(), 'orchestra-web-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<html>spa</html>');
  writeFileSync(join(dist, 'assets', 'app-abc123.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'app-abc123.js.map'), '{"version":3,"sources":["../src/secret-sauce.tsx"]}');
  const app = Fastify();
  app.post('/graphql', async () => ({ data: {} }));

  beforeAll(() => serveWebApp(app, dist));
  afterAll(() => app.close());

  it('answers client-side routes with index.html, never cached', async () => {
    for (const url of ['/', '/runs/0190-abc', '/settings/api-keys']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('<html>spa</html>');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('answers a reloaded page with a query string (even one that looks like a file name) with the app', async () => {
    for (const url of ['/audit?action=workflow.create', '/members?search=ada@example.io']) {
      const res = await app.inject({ url });
      expect([url, res.statusCode, res.body]).toEqual([url, 200, '<html>spa</html>']);
    }
  });

  it('sends a content security policy with the app', async () => {
    const res = await app.inject({ url: '/runs/1' });
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves assets of a rebuilt app without a restart', async () => {
    writeFileSync(join(dist, 'assets', 'app-new456.js'), 'console.log(2)');
    const res = await app.inject({ url: '/assets/app-new456.js' });
    expect([res.statusCode, res.body]).toEqual([200, 'console.log(2)']);
  });

  it('serves hashed assets as immutable', async () => {
    const res = await app.inject({ url: '/assets/app-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it('never serves the source maps a build leaves beside the bundles', async () => {
    for (const url of ['/assets/app-abc123.js.map', '/assets/APP-ABC123.JS.MAP', '/assets/app-abc123.js.map?x=1']) {
      const res = await app.inject({ url });
      expect([url, res.statusCode]).toEqual([url, 404]);
      expect(res.body).not.toContain('secret-sauce');
    }
  });

  it('keeps API paths and missing files out of the SPA fallback', async () => {
    expect((await app.inject({ url: '/graphql' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/schema/nope' })).json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
  });

  it('refuses a folder without index.html', async () => {
    await expect(serveWebApp(Fastify(), tmpdir())).rejects.toThrow(/has no index.html/);
  });
});
