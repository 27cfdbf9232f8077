import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'graphql';
import { createMemoryLogger, SUBGRAPH_DIRECTIVES_SDL } from '@orchestra/lib';
import { composeSupergraph } from './compose/compose';
import { startTestGateway, type TestGateway } from './testing/test-gateway';

// Two subgraphs the gateway cannot use: one where nothing listens (a port just closed), one whose proxy answers
// 503. Callers get UNAVAILABLE naming the service (retryable), not a masked INTERNAL error.
const downTypeDefs = parse(`
  ${SUBGRAPH_DIRECTIVES_SDL}
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { down: String @access(anonymous: true) }
`);
const busyTypeDefs = parse(`
  ${SUBGRAPH_DIRECTIVES_SDL}
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { busy: String @access(anonymous: true) }
`);

const log = createMemoryLogger('gateway-unavailable-test');
let busy: Server;
let gateway: TestGateway;
let gatewayUrl: string;

async function post(query: string, requestId: string) {
  const res = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: JSON.stringify({ query }) });
  return (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
}

beforeAll(async () => {
  busy = createServer((_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream overloaded'));
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const busyUrl = `http://127.0.0.1:${(busy.address() as AddressInfo).port}/graphql`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const supergraphSdl = composeSupergraph([
    { name: 'catalog', url: `http://127.0.0.1:${closedPort}/graphql`, typeDefs: downTypeDefs },
    { name: 'audit', url: busyUrl, typeDefs: busyTypeDefs },
  ]);
  gateway = await startTestGateway({ supergraphSdl, log });
  gatewayUrl = gateway.url;
});

afterAll(async () => {
  await gateway?.stop();
  await new Promise((resolve) => busy.close(resolve));
});

it('answers UNAVAILABLE naming the service when nothing listens there, and logs why with the request id', async () => {
  const body = await post('{ down }', 'req-down-1');
  expect(body.errors?.[0]).toEqual({
    message: 'the catalog service is unavailable right now; try again shortly',
    extensions: { code: 'UNAVAILABLE', reason: 'SUBGRAPH_UNAVAILABLE', service: 'catalog', requestId: 'req-down-1' },
  });
  const line = log.lines.find((l) => l['msg'] === 'subgraph unavailable' && l['requestId'] === 'req-down-1');
  expect(line).toMatchObject({ subgraph: 'catalog', why: 'ECONNREFUSED' });
});

it('answers UNAVAILABLE when the subgraph (or its proxy) says 503', async () => {
  const body = await post('{ busy }', 'req-busy-1');
  expect(body.errors?.[0]?.extensions).toEqual({ code: 'UNAVAILABLE', reason: 'SUBGRAPH_UNAVAILABLE', service: 'audit', requestId: 'req-busy-1' });
  expect(log.lines.find((l) => l['msg'] === 'subgraph unavailable' && l['requestId'] === 'req-busy-1')).toMatchObject({ why: 'it answered 503' });
});
