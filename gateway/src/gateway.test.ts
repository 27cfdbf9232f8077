import { parse } from 'graphql';
import {
  createMemoryLogger,
  createMetrics,
  createPrincipalVerifier,
  createSubgraphHttp,
  generatePrincipalKeys,
  SUBGRAPH_DIRECTIVES_SDL,
  type RequestContext,
} from '@orchestra/lib';
import type { FastifyInstance } from 'fastify';
import { apiSchemaOf, buildPublicSchema, composeSupergraph, publicTagsOf } from './compose/compose';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

// A small subgraph built with lib (the same code real subgraphs use) to exercise the gateway alone.
const fixtureTypeDefs = parse(`
  ${SUBGRAPH_DIRECTIVES_SDL}
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@tag"])
  type Query {
    whoami: Caller! @access(anonymous: true) @tag(name: "public")
    secret: String!
    deep: Node @access(anonymous: true)
    crash: String @access(anonymous: true)
  }
  type Caller @tag(name: "public") {
    kind: String!
    requestId: String!
    ip: String
  }
  type Node {
    child: Node
    value: String
  }
`);

const keys = generatePrincipalKeys();
const log = createMemoryLogger('gateway-test');
let subgraph: FastifyInstance;
let gateway: TestGateway;
let gatewayUrl: string;

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions: Record<string, unknown> }> }, headers: res.headers };
}

beforeAll(async () => {
  subgraph = createSubgraphHttp<RequestContext>({
    name: 'fixture',
    typeDefs: fixtureTypeDefs,
    resolvers: {
      Query: {
        whoami: (_: unknown, __: unknown, ctx: RequestContext) => ({ kind: ctx.principal.kind, requestId: ctx.requestId, ip: ctx.principal.ip }),
        secret: () => 'members only',
        deep: () => ({ value: 'v', child: null }),
        crash: () => {
          throw new Error('secret connection string postgres://admin:pw@db');
        },
      },
    },
    verifier: createPrincipalVerifier(keys.publicKeyPem),
    log,
    metrics: createMetrics('fixture', { defaultMetrics: false }),
    readiness: {},
  });
  await subgraph.listen({ host: '127.0.0.1', port: 0 });
  const address = subgraph.server.address();
  const subgraphUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/graphql`;
  const supergraphSdl = composeSupergraph([{ name: 'identity', url: subgraphUrl, typeDefs: fixtureTypeDefs }]);

  gateway = await startTestGateway({ supergraphSdl, keys, log, env: { ANONYMOUS_RATE_LIMIT_PER_MINUTE: '40', MAX_QUERY_DEPTH: '3' } });
  gatewayUrl = gateway.url;
});

afterAll(async () => {
  await gateway?.stop();
  await subgraph.close();
});

describe('composition and the public schema', () => {
  it('keeps only fields tagged public, and types they reach', () => {
    const sdl = composeSupergraph([{ name: 'identity', url: 'http://x/graphql', typeDefs: fixtureTypeDefs }]);
    const publicSchema = buildPublicSchema(apiSchemaOf(sdl), publicTagsOf(sdl));
    expect(Object.keys(publicSchema.getQueryType()!.getFields())).toEqual(['whoami']);
    expect(publicSchema.getType('Node')).toBeUndefined();
    expect(Object.keys((publicSchema.getType('Caller') as any).getFields())).toEqual(['kind', 'requestId', 'ip']);
  });

  it('fails composition with every error listed', () => {
    const broken = parse(`${SUBGRAPH_DIRECTIVES_SDL}\nextend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { a: Missing }`);
    expect(() => composeSupergraph([{ name: 'x', url: 'http://x', typeDefs: broken }])).toThrow();
  });
});

describe('Apollo usage telemetry', () => {
  it('is off: ApolloGateway reads APOLLO_TELEMETRY_DISABLED when constructed, and the gateway sets it first', () => {
    // Unset, Apollo Gateway probes cloud metadata endpoints and reports to usage-reporting.api.apollographql.com.
    expect(process.env['APOLLO_TELEMETRY_DISABLED']).toBe('true');
  });
});

describe('live composition (development)', () => {
  it('composes from the running subgraphs, asking for their SDL with a signed principal', async () => {
    const address = subgraph.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const live = await startTestGateway({ keys, log, env: { SUPERGRAPH_MODE: 'live', SUBGRAPH_IDENTITY_URL: `http://127.0.0.1:${port}/graphql` } });
    try {
      const res = await fetch(live.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ whoami { kind } }' }) });
      expect(await res.json()).toEqual({ data: { whoami: { kind: 'anonymous' } } });
      expect(Object.keys(live.gateway.publicSchema().getQueryType()!.getFields())).toEqual(['whoami']);
    } finally {
      await live.stop();
    }
  });
});

describe('requests through the gateway', () => {
  it('forwards anonymous callers with a signed principal carrying the request id and IP', async () => {
    const { status, body, headers } = await post({ query: '{ whoami { kind requestId ip } }' }, { 'x-request-id': 'req-from-client-1' });
    expect(status).toBe(200);
    expect(body.data.whoami).toEqual({ kind: 'anonymous', requestId: 'req-from-client-1', ip: '127.0.0.1' });
    expect(headers.get('x-request-id')).toBe('req-from-client-1');
  });

  it('continues the caller\'s trace, or starts one, and answers with its traceparent', async () => {
    const sent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect((await post({ query: '{ whoami { kind } }' }, { traceparent: sent })).headers.get('traceparent')).toBe(sent);
    expect((await post({ query: '{ whoami { kind } }' })).headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('lets the subgraph refuse anonymous callers on member fields', async () => {
    const { body } = await post({ query: '{ secret }' });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SIGN_IN_REQUIRED' });
  });

  it('refuses a malformed Authorization header before anything runs', async () => {
    const { status, body } = await post({ query: '{ whoami { kind } }' }, { authorization: 'Token abc', 'x-request-id': 'req-malformed-1' });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'MALFORMED_AUTHORIZATION' });
    expect(body.data).toBeUndefined();
    expect(log.lines.find((l) => l['msg'] === 'request refused' && l['requestId'] === 'req-malformed-1')).toMatchObject({ level: 'info', code: 'UNAUTHENTICATED', reason: 'MALFORMED_AUTHORIZATION' });
  });

  it('refuses a malformed API key without calling identity', async () => {
    const { status, body } = await post({ query: '{ whoami { kind } }' }, { 'x-api-key': 'orc_short' });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'API_KEY_INVALID' });
  });

  it('refuses operations deeper than the limit', async () => {
    const { body } = await post({ query: '{ deep { child { child { child { value } } } } }' });
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_DEEP' } });
  });

  it('reports unknown fields as BAD_USER_INPUT with the graphql message', async () => {
    const { body } = await post({ query: '{ nope }' }, { 'x-request-id': 'req-nope-1' });
    expect(body.errors?.[0]).toMatchObject({ message: 'Cannot query field "nope" on type "Query".', extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' } });
    // The request id the client sees finds the error in the gateway's log.
    expect(log.lines.find((l) => l['msg'] === 'graphql error returned' && l['requestId'] === 'req-nope-1')).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', message: 'Cannot query field "nope" on type "Query".' });
  });

  it('masks internal errors end to end with the request id', async () => {
    const { body } = await post({ query: '{ crash }' }, { 'x-request-id': 'req-crash-1' });
    expect(body.errors?.[0]).toMatchObject({ message: 'Internal error (request id req-crash-1)', extensions: { code: 'INTERNAL', requestId: 'req-crash-1' } });
    expect(JSON.stringify(body)).not.toContain('postgres://');
  });

  it('serves the public schema for third parties', async () => {
    const res = await fetch(gatewayUrl.replace('/graphql', '/schema/public.graphql'));
    const sdl = await res.text();
    expect(sdl).toContain('whoami: Caller!');
    expect(sdl).not.toContain('secret');
  });

  it('answers /healthz, /readyz (subgraph reachable) and /metrics on its ops port', async () => {
    const ops = gateway.opsUrl;
    expect(await (await fetch(`${ops}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = (await (await fetch(`${ops}/readyz`)).json()) as { status: string; checks: Record<string, string> };
    expect(ready).toEqual({ status: 'ok', checks: { redis: 'ok', 'subgraph:identity': 'ok' } });
    expect(await (await fetch(`${ops}/metrics`)).text()).toContain('orchestra_gateway_requests_total');
  });

  it('tells the public port only whether it is ready: no checks, no metrics', async () => {
    const base = gatewayUrl.replace('/graphql', '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(404);
    expect(await metrics.text()).not.toContain('orchestra_gateway');
  });

  it('rate limits anonymous callers per IP with Retry-After', async () => {
    let last = await post({ query: '{ whoami { kind } }' });
    for (let i = 0; i < 45 && last.status !== 429; i += 1) last = await post({ query: '{ whoami { kind } }' });
    expect(last.status).toBe(429);
    expect(last.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
