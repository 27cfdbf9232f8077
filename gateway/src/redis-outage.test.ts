import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  createMemoryLogger,
  createMetrics,
  createPrincipalVerifier,
  createSubgraphHttp,
  eventually,
  generatePrincipalKeys,
  SUBGRAPH_DIRECTIVES_SDL,
  type RequestContext,
} from '@orchestra/lib';
import { composeSupergraph } from './compose/compose';
import { startOwnRedis, type OwnRedis } from './testing/own-redis';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

// Issue 9 item 19: Redis goes away under the gateway. Signed-in (JWT) requests answer UNAVAILABLE
// (503, Retry-After) since revocations cannot be checked; the rate limiter keeps counting in
// memory, so anonymous callers are still served. The Redis is the suite's own, killed for real.
// identity's JWKS is served by a small stand-in here (tests/gateway runs the real identity).

const typeDefs = parse(`
  ${SUBGRAPH_DIRECTIVES_SDL}
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query {
    whoami: String!
    ping: String! @access(anonymous: true)
  }
`);

const keys = generatePrincipalKeys();
const log = createMemoryLogger('gateway-redis-outage-test');
let redis: OwnRedis;
let subgraph: FastifyInstance;
let jwks: Server;
let gateway: TestGateway;
let token: string;

const post = async (query: string, headers: Record<string, string> = {}) => {
  const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { data?: Record<string, unknown>; errors?: Array<{ extensions: Record<string, unknown> }> } };
};

beforeAll(async () => {
  redis = await startOwnRedis();
  const { publicKey, privateKey } = await generateKeyPair('EdDSA');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  token = await new SignJWT({ org: 'org-1', role: 'admin', email: 'a@b.test', sid: 'session-1', tv: 0 })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
    .setSubject('user-1')
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);

  subgraph = createSubgraphHttp<RequestContext>({
    name: 'fixture',
    typeDefs,
    resolvers: { Query: { whoami: (_: unknown, __: unknown, ctx: RequestContext) => ctx.principal.id, ping: () => 'pong' } },
    verifier: createPrincipalVerifier(keys.publicKeyPem),
    log,
    metrics: createMetrics('fixture', { defaultMetrics: false }),
    readiness: {},
  });
  await subgraph.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(subgraph.server.address() as AddressInfo).port}/graphql`;
  gateway = await startTestGateway({
    supergraphSdl: composeSupergraph([{ name: 'identity', url, typeDefs }]),
    keys,
    log,
    redisUrl: redis.url,
    env: { IDENTITY_HTTP_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}` },
  });
}, 30_000);

afterAll(async () => {
  await gateway?.stop();
  await subgraph?.close();
  await new Promise((resolve) => jwks?.close(resolve));
  await redis?.stop();
});

describe('a Redis outage at the gateway', () => {
  it('answers signed-in requests UNAVAILABLE with Retry-After, keeps serving anonymous ones, and recovers', async () => {
    expect((await post('{ whoami }', { authorization: `Bearer ${token}` })).body).toEqual({ data: { whoami: 'user-1' } });

    await redis.kill();
    const during = await post('{ whoami }', { authorization: `Bearer ${token}` });
    expect(during.status).toBe(503);
    expect(during.retryAfter).toBe('5');
    expect(during.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE', reason: 'AUTH_STATE_UNAVAILABLE', retryAfterMs: 5_000 });
    // The limiter counts in memory meanwhile: anonymous callers are served, not failed.
    expect(await post('{ ping }')).toMatchObject({ status: 200, body: { data: { ping: 'pong' } } });
    await eventually(() => log.lines.some((l) => l['msg'] === 'rate limiter cannot reach Redis: counting in this process only'), { what: 'the limiter to say it counts alone' });
    expect(log.lines.filter((l) => l['level'] === 'error' && String(l['msg']).includes('request'))).toEqual([]);

    await redis.start();
    await eventually(async () => (await post('{ whoami }', { authorization: `Bearer ${token}` })).status === 200, { timeoutMs: 15_000, what: 'signed-in requests to work again' });
  });
});
