import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parse } from 'graphql';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { createMemoryLogger, createMetrics, createPrincipalVerifier, createSubgraphHttp, generatePrincipalKeys, SUBGRAPH_DIRECTIVES_SDL } from '@orchestra/lib';
import { composeSupergraph } from './compose/compose';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

// Issue 11: the gateway's answers are compressed as the client accepts (brotli, else gzip) — GraphQL
// answers and the admin web app's files alike, through the gateway as main.ts builds it.
const typeDefs = parse(`
  ${SUBGRAPH_DIRECTIVES_SDL}
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query {
    ping: String! @access(anonymous: true)
    items(count: Int!): [String!]! @access(anonymous: true)
  }
`);

const keys = generatePrincipalKeys();
const log = createMemoryLogger('gateway-compression-test');
const dist = mkdtempSync(join(tmpdir(), 'orchestra-web-compression-'));
// Compressible and well over the 1 KiB threshold, as a built app's files are.
const script = `export const rows = [${Array.from({ length: 2_000 }, (_, i) => `{ id: ${i}, label: 'row ${i}' }`).join(', ')}];\n`;
const styles = Array.from({ length: 300 }, (_, i) => `.row-${i} { padding: ${i % 7}px; color: #333; }`).join('\n');
const page = `<!doctype html><html><head><title>Orchestra</title>${'<meta name="x" content="padding the page past the threshold">'.repeat(40)}</head><body><div id="root"></div></body></html>`;
let subgraph: FastifyInstance;
let gateway: TestGateway;
let origin: string;

beforeAll(async () => {
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), page);
  writeFileSync(join(dist, 'assets', 'app-1a2b3c.js'), script);
  writeFileSync(join(dist, 'assets', 'app-1a2b3c.css'), styles);
  subgraph = createSubgraphHttp({
    name: 'fixture',
    typeDefs,
    resolvers: { Query: { ping: () => 'pong', items: (_: unknown, { count }: { count: number }) => Array.from({ length: count }, (_v, i) => `item number ${i}`) } },
    verifier: createPrincipalVerifier(keys.publicKeyPem),
    log,
    metrics: createMetrics('fixture', { defaultMetrics: false }),
    readiness: {},
  });
  await subgraph.listen({ host: '127.0.0.1', port: 0 });
  const address = subgraph.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/graphql`;
  gateway = await startTestGateway({
    supergraphSdl: composeSupergraph([{ name: 'identity', url, typeDefs }]),
    keys,
    log,
    env: { ANONYMOUS_RATE_LIMIT_PER_MINUTE: '100000', WEB_DIST_DIR: dist },
  });
  origin = new URL(gateway.url).origin;
});

afterAll(async () => {
  await gateway?.stop();
  await subgraph?.close();
  rmSync(dist, { recursive: true, force: true });
});

/** The raw bytes as sent (undici's fetch would decompress them, hiding what was on the wire). */
async function rawRequest(path: string, acceptEncoding?: string, init: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> } = {}) {
  const res = await request(`${origin}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const encoding = res.headers['content-encoding'] as string | undefined;
  const text = (encoding === 'br' ? brotliDecompressSync(bytes) : encoding === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');
  return { status: res.statusCode, encoding, vary: res.headers['vary'] as string | undefined, wireBytes: bytes.length, text, headers: res.headers };
}

describe('compressed answers', () => {
  it("serves the web app's scripts and styles brotli- or gzip-compressed as the client accepts, and as they are without accept-encoding", async () => {
    for (const [path, content] of [
      ['/assets/app-1a2b3c.js', script],
      ['/assets/app-1a2b3c.css', styles],
    ] as const) {
      const br = await rawRequest(path, 'gzip, deflate, br');
      expect([path, br.status, br.encoding, br.text === content]).toEqual([path, 200, 'br', true]);
      expect(br.wireBytes).toBeLessThan(content.length / 4);
      expect(br.vary).toContain('accept-encoding');
      expect(br.headers['cache-control']).toContain('immutable');
      const gzip = await rawRequest(path, 'gzip');
      expect([path, gzip.status, gzip.encoding, gzip.text === content]).toEqual([path, 200, 'gzip', true]);
      expect(gzip.wireBytes).toBeLessThan(content.length / 4);
      const plain = await rawRequest(path);
      expect([path, plain.status, plain.encoding, plain.text === content]).toEqual([path, 200, undefined, true]);
    }
  });

  it('compresses the app page a client-side route answers with', async () => {
    for (const path of ['/', '/runs/0190-abc']) {
      const res = await rawRequest(path, 'br');
      expect([path, res.status, res.encoding, res.text]).toEqual([path, 200, 'br', page]);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
  });

  it('compresses GraphQL answers over 1 KiB (POST and GET), brotli before gzip, and leaves small ones alone', async () => {
    const big = JSON.stringify({ query: '{ items(count: 200) }' });
    const expected = { data: { items: Array.from({ length: 200 }, (_v, i) => `item number ${i}`) } };
    const br = await rawRequest('/graphql', 'gzip, br', { method: 'POST', body: big });
    expect([br.status, br.encoding, JSON.parse(br.text)]).toEqual([200, 'br', expected]);
    expect(br.wireBytes).toBeLessThan(br.text.length / 4);
    const gzip = await rawRequest('/graphql', 'gzip', { method: 'POST', body: big });
    expect([gzip.status, gzip.encoding, JSON.parse(gzip.text)]).toEqual([200, 'gzip', expected]);
    // A GET names itself as no cross-site form (Apollo's CSRF prevention), as the web app's client does.
    const viaGet = await rawRequest(`/graphql?query=${encodeURIComponent('{ items(count: 200) }')}`, 'br', { headers: { 'apollo-require-preflight': 'true' } });
    expect([viaGet.status, viaGet.encoding, JSON.parse(viaGet.text)]).toEqual([200, 'br', expected]);
    const plain = await rawRequest('/graphql', undefined, { method: 'POST', body: big });
    expect([plain.status, plain.encoding, JSON.parse(plain.text)]).toEqual([200, undefined, expected]);
    const small = await rawRequest('/graphql', 'br', { method: 'POST', body: JSON.stringify({ query: '{ ping }' }) });
    expect([small.status, small.encoding, JSON.parse(small.text)]).toEqual([200, undefined, { data: { ping: 'pong' } }]);
  });
});
