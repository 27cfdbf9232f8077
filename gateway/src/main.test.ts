import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import type { FastifyInstance } from 'fastify';
import {
  createMemoryLogger,
  createMetrics,
  createPrincipalVerifier,
  createSubgraphHttp,
  generatePrincipalKeys,
  launchService,
  SUBGRAPH_DIRECTIVES_SDL,
  TEST_INTERNAL_TOKEN,
  TEST_REDIS_URL,
  uniqueName,
  type LaunchedService,
} from '@orchestra/lib';
import { composeSupergraph } from './compose/compose';

// The gateway's real main.ts as a process, on a supergraph file given on the command line.
const keys = generatePrincipalKeys();
const logDir = mkdtempSync(join(tmpdir(), 'orchestra-gateway-main-'));
let subgraph: FastifyInstance;
let gateway: LaunchedService | undefined;

const env = (extra: Record<string, string> = {}) => ({
  INTERNAL_TOKEN: TEST_INTERNAL_TOKEN,
  PRINCIPAL_PRIVATE_KEY: keys.privateKeyPem,
  REDIS_URL: TEST_REDIS_URL,
  REDIS_PREFIX: uniqueName('gwmain'),
  HTTP_PORT: '0',
  OPS_PORT: '0',
  ...extra,
});

beforeAll(async () => {
  const typeDefs = parse(`${SUBGRAPH_DIRECTIVES_SDL}
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Query { ping: String! @access(anonymous: true) }`);
  subgraph = createSubgraphHttp({
    name: 'fixture',
    typeDefs,
    resolvers: { Query: { ping: () => 'pong' } },
    verifier: createPrincipalVerifier(keys.publicKeyPem),
    log: createMemoryLogger(),
    metrics: createMetrics('fixture', { defaultMetrics: false }),
    readiness: {},
  });
  await subgraph.listen({ host: '127.0.0.1', port: 0 });
  const port = (subgraph.server.address() as { port: number }).port;
  const file = join(logDir, 'custom-supergraph.graphql');
  writeFileSync(file, composeSupergraph([{ name: 'identity', url: `http://127.0.0.1:${port}/graphql`, typeDefs }]));
  gateway = await launchService({ name: 'gateway', entry: join(__dirname, 'main.ts'), args: ['--supergraph', file], env: env(), logDir });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await subgraph.close();
});

describe('gateway main.ts', () => {
  it('serves the supergraph file given with --supergraph', async () => {
    const res = await fetch(`${gateway!.httpUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ ping }' }) });
    expect(await res.json()).toEqual({ data: { ping: 'pong' } });
  });

  it('serves /readyz in detail and /metrics on the ops port it logs, not on the public one', async () => {
    expect(gateway!.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway!.opsUrl).not.toBe(gateway!.httpUrl);
    const ready = (await (await fetch(`${gateway!.opsUrl}/readyz`)).json()) as { checks?: Record<string, string> };
    expect(ready.checks).toMatchObject({ redis: 'ok' });
    expect((await fetch(`${gateway!.opsUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${gateway!.httpUrl}/metrics`)).status).toBe(404);
  });

  it('stops with one line naming a bad variable', () => {
    const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(__dirname, 'main.ts')], {
      env: { ...process.env, ...env({ PRINCIPAL_PRIVATE_KEY: 'not a key' }), NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('gateway: config: PRINCIPAL_PRIVATE_KEY expects a PEM PRIVATE KEY (-----BEGIN PRIVATE KEY-----) (got a value that does not fit)');
  });

  it('says which supergraph file it cannot read', () => {
    const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(__dirname, 'main.ts'), '--supergraph', '/nonexistent/supergraph.graphql'], {
      env: { ...process.env, ...env(), NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('cannot read the supergraph at /nonexistent/supergraph.graphql');
  });
});
