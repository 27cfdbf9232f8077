import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, Kind, parse } from 'graphql';
import type { FastifyInstance } from 'fastify';
import {
  createMemoryLogger,
  createMetrics,
  createPrincipalVerifier,
  createSubgraphHttp,
  generatePrincipalKeys,
  SUBGRAPH_DIRECTIVES_SDL,
} from '@orchestra/lib';
import { composeSupergraph } from './compose/compose';
import { jsonDepth, measureOperation, sizeVariablesOf } from './query-limits';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

// Issue 9 items 10 and 11: what a client may send, and how the gateway says no.
const typeDefs = parse(`
  ${SUBGRAPH_DIRECTIVES_SDL}
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  scalar JSON
  type Query {
    ping: String! @access(anonymous: true)
    echo(value: JSON): String @access(anonymous: true)
    items(first: Int = 20): [Item!]! @access(anonymous: true)
  }
  type Item {
    id: ID!
    children(first: Int = 20): [Item!]!
    tags: [String!]!
  }
`);

const keys = generatePrincipalKeys();
const log = createMemoryLogger('gateway-limits-test');
let subgraph: FastifyInstance;
let gateway: TestGateway;

const post = async (body: string | object, headers: Record<string, string> = {}) => {
  const res = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
};

beforeAll(async () => {
  subgraph = createSubgraphHttp({
    name: 'fixture',
    typeDefs,
    resolvers: {
      Query: {
        ping: () => 'pong',
        echo: (_: unknown, { value }: { value: unknown }) => `depth ${jsonDepth(value)}`,
        items: () => [{ id: '1', children: [], tags: [] }],
      },
    },
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
    env: { ANONYMOUS_RATE_LIMIT_PER_MINUTE: '100000', MAX_QUERY_COST: '1000', MAX_QUERY_FIELDS: '600' },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await subgraph?.close();
});

describe('query cost and breadth', () => {
  it('refuses 5,000 aliases with QUERY_TOO_BROAD, naming the count and the limit', async () => {
    const query = `{ ${Array.from({ length: 5_000 }, (_, i) => `a${i}: ping`).join(' ')} }`;
    const { status, body } = await post({ query });
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({
      message: 'operation (anonymous) selects 5000 fields (aliases and fragments counted); the limit is 600',
      extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_BROAD', fields: 5_000, limit: 600 },
    });
  });

  it('stops parsing 10,000 aliases at the token limit', async () => {
    const query = `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: ping`).join(' ')} }`;
    const { status, body } = await post({ query });
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringContaining('more that 20000 tokens') as unknown, extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' } });
  });

  it('multiplies by list sizes: the first argument sent, else its default', async () => {
    // items(first: 30) { id children(first: 40) { id } } = 1 + 30 × (1 + 1 + 40 × 1) = 1261
    const big = await post({ query: '{ items(first: 30) { id children(first: 40) { id } } }' });
    expect(big.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_COSTLY', cost: 1261 });
    // The same through a variable, and a small one that passes.
    const viaVariable = await post({ query: 'query($n: Int) { items(first: $n) { id children(first: 40) { id } } }', variables: { n: 30 } });
    expect(viaVariable.body.errors?.[0]?.extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY', cost: 1261 });
    const small = await post({ query: '{ items(first: 5) { id children(first: 5) { id tags } } }' });
    expect(small.body).toEqual({ data: { items: [{ id: '1', children: [] }] } });
  });

  it('answers each set of variables for itself once the same query has been measured (the budget cache)', async () => {
    const query = 'query($n: Int) { items(first: $n) { id children(first: 40) { id } } }';
    for (let round = 0; round < 2; round += 1) {
      const small = await post({ query, variables: { n: 1 } });
      expect(small.body.errors).toBeUndefined();
      const big = await post({ query, variables: { n: 30 } });
      expect(big.body.errors?.[0]?.extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY', cost: 1261 });
      // The same variables under another operation name are another question.
      const named = await post({ query: `query Named($n: Int) { items(first: $n) { id } } ${query.replace('query(', 'query Big(')}`, operationName: 'Big', variables: { n: 30 } });
      expect(named.body.errors?.[0]?.extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY' });
    }
  });

  it('keeps one answer for a query whose other variables change, and sizes lists by the values sent (first through a fragment too)', async () => {
    // $tag sizes nothing: the answer is kept whatever it holds. $n sizes a list inside a fragment.
    const query = 'query($tag: JSON, $n: Int) { echo(value: $tag) ...Many } fragment Many on Query { items(first: $n) { id children(first: 40) { id } } }';
    for (let round = 0; round < 2; round += 1) {
      const small = await post({ query, variables: { tag: { round }, n: 1 } });
      expect(small.body.errors).toBeUndefined();
      const big = await post({ query, variables: { tag: { round }, n: 30 } });
      expect(big.body.errors?.[0]?.extensions).toMatchObject({ reason: 'QUERY_TOO_COSTLY', cost: 1262 });
      // Once answered, the same query's variables are still checked for themselves on every request.
      const nul = await post({ query, variables: { tag: { round: 'a\u0000b' }, n: 1 } });
      expect(nul.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TEXT', field: 'variables.tag.round' });
    }
    expect(sizeVariablesOf(parse(query))).toEqual(['n']);
  });

  it('measures a fragment once however often it is spread (no exponential walk)', async () => {
    // F0 spreads F1 twice, F1 spreads F2 twice, ... 40 levels: 2^40 pings if expanded.
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const query = `{ ...F0 }\n${fragments}\nfragment F40 on Query { ping }`;
    const { body } = await post({ query });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'QUERY_TOO_BROAD' });
  });

  it('keeps every operation of the web app within the default budget', () => {
    const schema = buildSchema(readFileSync(join(__dirname, '..', 'api-schema.graphql'), 'utf8'));
    const generated = readFileSync(join(__dirname, '..', '..', 'web', 'src', 'lib', 'api', '__generated__', 'graphql.ts'), 'utf8');
    const documents = [...generated.matchAll(/new TypedDocumentString\(`([\s\S]*?)`/g)].map((m) => parse(m[1]!));
    expect(documents.length).toBeGreaterThan(10);
    for (const document of documents) {
      for (const definition of document.definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        const { cost, fields } = measureOperation(schema, document, definition, {}, 10);
        expect({ operation: definition.name?.value, withinBudget: cost <= 50_000 && fields <= 1_000 }).toEqual({ operation: definition.name?.value, withinBudget: true });
      }
    }
  });
});

describe('variables', () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i += 1) value = { v: value };
    return value;
  };

  it('refuses variables nested 5,000 levels with BAD_USER_INPUT naming the variable', async () => {
    // Written by hand: JSON.stringify itself overflows the stack at this depth.
    const value = `${'{"v":'.repeat(5_000)}"leaf"${'}'.repeat(5_000)}`;
    const { status, body } = await post(`{"query":"query($value: JSON) { echo(value: $value) }","variables":{"value":${value}}}`);
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({
      message: 'variable $value is nested more than 64 levels deep',
      extensions: { code: 'BAD_USER_INPUT', reason: 'VARIABLES_TOO_DEEP', field: 'variables.value' },
    });
  });

  it('refuses NUL characters and lone surrogates in variables and in the query with BAD_USER_INPUT naming the place (issue 9 item 9)', async () => {
    const nul = await post({ query: 'query($value: JSON) { echo(value: $value) }', variables: { value: { list: ['ok', 'a\u0000b'] } } });
    expect(nul.status).toBe(400);
    expect(nul.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TEXT', field: 'variables.value.list[1]' });
    // A lone surrogate written as a JSON escape (JSON.stringify writes it so too).
    const lone = await post('{"query":"query($value: JSON) { echo(value: $value) }","variables":{"value":{"name":"x\\ud800"}}}');
    expect(lone.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TEXT', field: 'variables.value.name' });
    const literal = await post({ query: '{ echo(value: "a\\u0000b") }' });
    expect(literal.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_TEXT', field: 'query' });
    // Real surrogate pairs are text like any other.
    const { body } = await post({ query: 'query($value: JSON) { echo(value: $value) }', variables: { value: { name: 'ok 😀' } } });
    expect(body.errors).toBeUndefined();
  });

  it('accepts variables within the limit', async () => {
    const { body } = await post({ query: 'query($value: JSON) { echo(value: $value) }', variables: { value: nested(30) } });
    expect(body).toEqual({ data: { echo: 'depth 30' } });
  });
});

describe('requests the gateway cannot read', () => {
  it('answers a body over the limit with 413 and a GraphQL error BAD_REQUEST / BODY_TOO_LARGE, logged at info', async () => {
    const { status, body } = await post({ query: '{ ping }', padding: 'x'.repeat(1_100_000) }, { 'x-request-id': 'req-too-large-1' });
    expect(status).toBe(413);
    expect(body.errors?.[0]).toEqual({
      message: 'the request body is larger than 1048576 bytes',
      extensions: { code: 'BAD_REQUEST', reason: 'BODY_TOO_LARGE', requestId: 'req-too-large-1' },
    });
    const lines = log.lines.filter((l) => l['requestId'] === 'req-too-large-1');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l['level'] === 'info')).toBe(true);
  });

  it('answers a body that is not JSON with 400 BAD_REQUEST / INVALID_JSON, logged at info', async () => {
    const { status, body } = await post('{"query": "{ ping }"', { 'x-request-id': 'req-bad-json-1' });
    expect(status).toBe(400);
    expect(body.errors?.[0]).toEqual({
      message: 'the request body is not valid JSON',
      extensions: { code: 'BAD_REQUEST', reason: 'INVALID_JSON', requestId: 'req-bad-json-1' },
    });
    expect(log.lines.filter((l) => l['requestId'] === 'req-bad-json-1').every((l) => l['level'] === 'info')).toBe(true);
  });

  it('answers an empty JSON body with BAD_REQUEST / EMPTY_BODY', async () => {
    const { status, body } = await post('');
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', reason: 'EMPTY_BODY' });
  });
});
