import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createMemoryLogger, PRINCIPAL_HEADER, type Principal } from '@orchestra/lib';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayContext } from './context';
import { createSubgraphFetcher, SignedPrincipalDataSource } from './subgraph-datasource';

// The data source against a real HTTP server answering as a subgraph (or a proxy in front of one) might.
let server: Server;
let url: string;
let answer: { status: number; type: string; body: string | Buffer; encoding?: string; delayMs?: number } = { status: 200, type: 'application/json', body: '{}' };
const received: Array<{ headers: IncomingHttpHeaders; body: unknown }> = [];
const fetch = createSubgraphFetcher();

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(raw) as unknown });
      const { status, type, body, encoding, delayMs } = answer;
      setTimeout(() => res.writeHead(status, { 'content-type': type, ...(encoding ? { 'content-encoding': encoding } : {}) }).end(body), delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await fetch.close();
  await new Promise((resolve) => server.close(resolve));
});

const principal: Principal = { kind: 'user', id: 'u1', scopes: [], requestId: 'req_ds1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
const log = createMemoryLogger('datasource-test');
const context: GatewayContext = { principal, principalHeader: 'signed.identity.header', requestId: 'req_ds1', log };
const call = (source: SignedPrincipalDataSource, request: GraphQLDataSourceProcessOptions<GatewayContext>['request'] = { query: '{ me { id } }', variables: { a: 1 }, operationName: 'Me' }) =>
  source.process({ kind: 'incoming operation', request, context, incomingRequestContext: {} } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);

describe('the subgraph data source', () => {
  it('posts the operation as JSON with the signed principal, the request id and the trace, and returns the answer', async () => {
    answer = { status: 200, type: 'application/json; charset=utf-8', body: '{"data":{"me":{"id":"u1"}}}' };
    received.length = 0;
    const response = await call(new SignedPrincipalDataSource({ name: 'identity', url, fetcher: fetch.fetcher }));
    expect(response.data).toEqual({ me: { id: 'u1' } });
    expect(received[0]!.body).toEqual({ query: '{ me { id } }', variables: { a: 1 }, operationName: 'Me' });
    expect(received[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      [PRINCIPAL_HEADER]: 'signed.identity.header',
      'x-request-id': 'req_ds1',
      traceparent: principal.traceparent,
    });
  });

  it('makes a refusal by status into an error carrying the status and body (401 as UNAUTHENTICATED)', async () => {
    answer = { status: 401, type: 'application/json', body: '{"errors":[{"message":"no"}]}' };
    await expect(call(new SignedPrincipalDataSource({ name: 'identity', url, fetcher: fetch.fetcher }))).rejects.toMatchObject({
      message: '401: Unauthorized',
      extensions: { code: 'UNAUTHENTICATED', response: { status: 401, body: { errors: [{ message: 'no' }] } } },
    });
    answer = { status: 500, type: 'text/plain', body: 'boom' };
    await expect(call(new SignedPrincipalDataSource({ name: 'identity', url, fetcher: fetch.fetcher }))).rejects.toMatchObject({
      message: '500: Internal Server Error',
      extensions: { response: { status: 500, body: 'boom' } },
    });
  });

  it('refuses an answer that is not a JSON object', async () => {
    answer = { status: 200, type: 'text/html', body: '<html>proxy page</html>' };
    await expect(call(new SignedPrincipalDataSource({ name: 'identity', url, fetcher: fetch.fetcher }))).rejects.toThrow('Expected JSON response body, but received: <html>proxy page</html>');
  });

  it('says UNAVAILABLE naming the service for 503 and for a refused connection', async () => {
    answer = { status: 503, type: 'text/plain', body: 'overloaded' };
    await expect(call(new SignedPrincipalDataSource({ name: 'identity', url, fetcher: fetch.fetcher }))).rejects.toMatchObject({
      extensions: { code: 'UNAVAILABLE', reason: 'SUBGRAPH_UNAVAILABLE', service: 'identity' },
    });
    await expect(call(new SignedPrincipalDataSource({ name: 'catalog', url: 'http://127.0.0.1:1/graphql', fetcher: fetch.fetcher }))).rejects.toMatchObject({
      message: 'the catalog service is unavailable right now; try again shortly',
      extensions: { code: 'UNAVAILABLE', service: 'catalog' },
    });
    expect(log.lines.filter((l) => l['msg'] === 'subgraph unavailable').map((l) => l['subgraph'])).toEqual(['identity', 'catalog']);
  });

  it('sends what the gateway itself put on the call (live composition asks with a signed principal)', async () => {
    answer = { status: 200, type: 'application/json', body: '{"data":{"_service":{"sdl":"type Query { a: String }"}}}' };
    received.length = 0;
    const source = new SignedPrincipalDataSource({ name: 'identity', url, fetcher: fetch.fetcher });
    const headers = new Headers({ [PRINCIPAL_HEADER]: 'service.principal.header' });
    const response = await source.process({ kind: 'loading schema', request: { query: '{ _service { sdl } }', http: { method: 'POST', url, headers } }, context: {} } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>);
    expect(response.data).toEqual({ _service: { sdl: 'type Query { a: String }' } });
    expect(received[0]!.headers[PRINCIPAL_HEADER]).toBe('service.principal.header');
    expect(received[0]!.headers['x-request-id']).toBeUndefined();
  });

  it('reads an answer compressed although not asked to be, and gives Apollo the fetch response it reads', async () => {
    answer = { status: 200, type: 'application/json', body: gzipSync('{"data":{"me":{"id":"u2"}}}'), encoding: 'gzip' };
    received.length = 0;
    const response = await call(new SignedPrincipalDataSource({ name: 'identity', url, fetcher: fetch.fetcher }));
    expect(response.data).toEqual({ me: { id: 'u2' } });
    expect(received[0]!.headers['accept-encoding']).toBeUndefined();

    answer = { status: 200, type: 'application/json; charset=utf-8', body: '{"data":{"ok":true}}' };
    const raw = await fetch.fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ ok }"}' });
    expect({ ok: raw.ok, status: raw.status, statusText: raw.statusText, url: raw.url }).toEqual({ ok: true, status: 200, statusText: 'OK', url });
    expect(raw.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(raw.headers.has('date')).toBe(true);
    expect([...raw.headers].map(([name]) => name)).toContain('content-type');
    const copy = raw.clone();
    expect(await raw.json()).toEqual({ data: { ok: true } });
    expect(await copy.text()).toBe('{"data":{"ok":true}}');
  });

  it('stops a call when its signal aborts', async () => {
    answer = { status: 200, type: 'application/json', body: '{"data":{}}', delayMs: 300 };
    const controller = new AbortController();
    const pending = fetch.fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 20);
    await expect(pending).rejects.toThrow('caller gave up');
    await expect(fetch.fetcher(url, { method: 'POST', body: '{}', signal: controller.signal })).rejects.toThrow('caller gave up');
  });
});
