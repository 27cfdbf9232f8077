import { join } from 'node:path';
import { parse } from 'graphql';
import type { FastifyInstance } from 'fastify';
import { SUBGRAPH_DIRECTIVES_SDL } from './access';
import { createPool, type Pool } from './db';
import { AppError } from './errors';
import { createMemoryLogger } from './log';
import { createMetrics } from './metrics';
import { runMigrations } from './migrate';
import { createPrincipalSigner, createPrincipalVerifier, generatePrincipalKeys, type Principal } from './principal';
import { createSubgraphHttp, type RequestContext } from './subgraph';
import { createTestSchema, TEST_DATABASE_URL } from './testing';

const keys = generatePrincipalKeys();
const signer = createPrincipalSigner(keys.privateKeyPem);
const log = createMemoryLogger();
let app: FastifyInstance;
let pool: Pool;
let drop: () => Promise<void>;

const typeDefs = parse(`
  ${SUBGRAPH_DIRECTIVES_SDL}
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query {
    hello: String! @access(anonymous: true)
    secret: String!
    adminThing: String! @access(role: "admin")
    keyThing: String! @access(role: "viewer", scopes: ["things:read"])
    boom: String!
  }
  type Mutation {
    rename(id: ID!, name: String!): Thing! @access(role: "admin") @audit(action: "thing.rename", targetType: "Thing")
  }
  type Thing @key(fields: "id") {
    id: ID!
    name: String!
  }
`);

const resolvers = {
  Query: {
    hello: () => 'hi',
    secret: () => 'for members',
    adminThing: () => 'for admins',
    keyThing: () => 'for keys',
    boom: () => {
      throw new Error('the database password is hunter2');
    },
  },
  Mutation: {
    rename: (_: unknown, args: { id: string; name: string }) => {
      if (args.name === '') throw new AppError('BAD_USER_INPUT', 'name must not be empty', { field: 'name' });
      return { id: args.id, name: args.name };
    },
  },
  Thing: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `thing ${ref.id}` }) },
};

const user = (role: Principal['role']): Principal => ({ kind: 'user', id: 'u1', userId: 'u1', orgId: '0190d3f0-0000-7000-8000-000000000001', role, scopes: [], requestId: 'req_t1' });
const apiKey = (scopes: string[]): Principal => ({ kind: 'apiKey', id: 'k1', apiKeyId: 'k1', orgId: '0190d3f0-0000-7000-8000-000000000001', scopes, requestId: 'req_t2' });
const anonymous: Principal = { kind: 'anonymous', id: 'anonymous', scopes: [], requestId: 'req_t3' };

async function post(query: string, principal?: Principal | string, variables?: Record<string, unknown>) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (typeof principal === 'string') headers['x-orchestra-principal'] = principal;
  else if (principal) headers['x-orchestra-principal'] = await signer.sign(principal);
  const res = await app.inject({ method: 'POST', url: '/graphql', headers, payload: { query, variables } });
  return { status: res.statusCode, body: res.json<{ data: Record<string, unknown> | null; errors?: Array<{ message: string; extensions: Record<string, unknown> }> }>() };
}

beforeAll(async () => {
  const test = await createTestSchema('libsub');
  drop = test.drop;
  pool = createPool({ url: TEST_DATABASE_URL, schema: test.schema, applicationName: 'lib-test', log });
  await runMigrations({ pool, schema: test.schema, dir: join(__dirname, '__fixtures__', 'migrations'), tenantRole: 'orchestra_libtest_tenant', log });
  const metrics = createMetrics('lib-test', { defaultMetrics: false });
  app = createSubgraphHttp<RequestContext>({
    name: 'test',
    typeDefs,
    resolvers: resolvers,
    verifier: createPrincipalVerifier(keys.publicKeyPem),
    log,
    metrics,
    readiness: { db: () => pool.query('SELECT 1') },
    audit: { service: 'test', pool, log },
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await pool.end();
  await drop();
});

describe('subgraph behind the gateway signature', () => {
  it.each([
    ['no header', undefined, 'PRINCIPAL_MISSING'],
    ['a garbage header', 'not-a-jws', 'PRINCIPAL_INVALID'],
  ])('refuses %s, for _entities and _service too', async (_name, header, reason) => {
    for (const query of ['{ hello }', '{ _service { sdl } }', '{ _entities(representations: [{ __typename: "Thing", id: "1" }]) { ... on Thing { name } } }']) {
      const { status, body } = await post(query, header);
      expect(status).toBe(401);
      expect(body.data).toBeNull();
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
    }
  });

  it('refuses a principal signed by someone else', async () => {
    const forged = await createPrincipalSigner(generatePrincipalKeys().privateKeyPem).sign(user('owner'));
    const { status, body } = await post('{ secret }', forged);
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions['code']).toBe('UNAUTHENTICATED');
  });

  it('serves _entities to a signed principal', async () => {
    const { body } = await post('{ _entities(representations: [{ __typename: "Thing", id: "7" }]) { ... on Thing { name } } }', user('viewer'));
    expect(body).toEqual({ data: { _entities: [{ name: 'thing 7' }] } });
  });
});

describe('@access', () => {
  it('lets anonymous callers reach only anonymous fields', async () => {
    expect((await post('{ hello }', anonymous)).body).toEqual({ data: { hello: 'hi' } });
    const { body } = await post('{ secret }', anonymous);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SIGN_IN_REQUIRED' });
  });

  it('checks roles', async () => {
    expect((await post('{ adminThing }', user('owner'))).body.data).toEqual({ adminThing: 'for admins' });
    const { body } = await post('{ adminThing }', user('operator'));
    expect(body.errors?.[0]).toMatchObject({ message: 'Query.adminThing needs role admin or higher (you are operator)', extensions: { code: 'FORBIDDEN' } });
  });

  it('checks API key scopes, and keeps keys off fields without scopes', async () => {
    expect((await post('{ keyThing }', apiKey(['things:read']))).body.data).toEqual({ keyThing: 'for keys' });
    expect((await post('{ keyThing }', apiKey([]))).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_SCOPE' });
    expect((await post('{ secret }', apiKey(['things:read']))).body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_FOR_API_KEYS' });
  });
});

describe('errors', () => {
  it('masks internal errors with the request id and logs the cause', async () => {
    const { status, body } = await post('{ boom }', user('viewer'));
    expect(status).toBe(200);
    expect(body.errors?.[0]).toMatchObject({ message: 'Internal error (request id req_t1)', extensions: { code: 'INTERNAL', requestId: 'req_t1' } });
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(log.lines.some((l) => l['msg'] === 'resolver failed' && l['requestId'] === 'req_t1')).toBe(true);
  });

  it('names the field of bad input', async () => {
    const { body } = await post('mutation { rename(id: "1", name: "") { id } }', user('admin'));
    expect(body.errors?.[0]).toMatchObject({ message: 'name must not be empty', extensions: { code: 'BAD_USER_INPUT', field: 'name' } });
  });

  it('reports a query that does not validate as BAD_USER_INPUT', async () => {
    const { body } = await post('{ nope }', user('viewer'));
    expect(body.errors?.[0]?.extensions['code']).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0]?.message).toContain('Cannot query field "nope"');
  });
});

describe('@audit on mutations', () => {
  it('records refused and failed mutations with their error code', async () => {
    await post('mutation { rename(id: "t1", name: "x") { id } }', user('viewer'));
    await post('mutation { rename(id: "t2", name: "") { id } }', user('admin'));
    const { rows } = await pool.query<{ event: { action: string; targetId: string; outcome: string; actor: { id: string } } }>(
      "SELECT event FROM audit_outbox WHERE event->>'targetId' IN ('t1', 't2') ORDER BY id",
    );
    expect(rows.map((r) => [r.event.action, r.event.targetId, r.event.outcome])).toEqual([
      ['thing.rename', 't1', 'FORBIDDEN'],
      ['thing.rename', 't2', 'BAD_USER_INPUT'],
    ]);
  });

  it('refuses to build a schema with an unaudited mutation', () => {
    expect(() =>
      createSubgraphHttp<RequestContext>({
        name: 'bad',
        typeDefs: parse(`
          ${SUBGRAPH_DIRECTIVES_SDL}
          type Query { a: String }
          type Mutation { b: String }
        `),
        resolvers: {},
        verifier: createPrincipalVerifier(keys.publicKeyPem),
        log,
        metrics: createMetrics('x', { defaultMetrics: false }),
        readiness: {},
        audit: { service: 'bad', pool, log },
      }),
    ).toThrow('bad: Mutation.b has no @audit(action, targetType): every mutation must be audited');
  });
});

describe('ops routes', () => {
  it('serve /healthz, /readyz and /metrics', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ok', checks: { db: 'ok' } });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toContain('orchestra_http_request_duration_seconds');
  });
});
