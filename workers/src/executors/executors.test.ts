import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NonRetryableError, createGuardedFetch, type GuardedFetch } from '@orchestra/lib';
import { testExecutorEnvironment } from '../test-support';
import { createExecutorRegistry } from './registry';
import { TRANSFORM_LIMITS } from './transform';
import { RetryableError, type Executor, type ExecutorContext, type JsonValue } from './types';

type Event = ['progress', number, string | undefined] | ['log', string, string];

const context = (signal: AbortSignal = new AbortController().signal): { ctx: ExecutorContext; events: Event[] } => {
  const events: Event[] = [];
  return {
    events,
    ctx: {
      signal,
      attemptId: 'attempt-1',
      taskId: 'task-1',
      runId: 'run-1',
      orgId: 'org-1',
      stepId: 'step-1',
      attempt: 1,
      progress: (fraction, message) => events.push(['progress', fraction, message]),
      log: (level, message) => events.push(['log', level, message]),
      delta: () => undefined,
      modelCall: () => undefined,
      llmProviders: new Map(),
      gpus: [],
      storeArtifact: () => Promise.reject(new Error('no artifact store in this test')),
      artifactsStored: () => [],
    },
  };
};

/** Validates like the worker does, then runs. */
const run = (executor: Executor<never>, input: unknown, ctx: ExecutorContext): Promise<JsonValue> => executor.run(executor.input.parse(input), ctx);

const inputIssues = (executor: Executor<never>, input: unknown) => {
  const result = executor.input.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

// A local HTTP server stands in for the third-party websites http.request talks to. It lives on
// loopback, so only a worker that allows private networks may reach it.
let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> = {
  '/json': (_req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('x-answer', '42');
    res.end(JSON.stringify({ items: [{ id: 1 }, { id: 2 }] }));
  },
  '/echo': (req, res, body) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, contentType: req.headers['content-type'] ?? null, auth: req.headers['authorization'] ?? null, body }));
  },
  '/text': (_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('plain words');
  },
  '/broken-json': (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{not json');
  },
  '/status/503': (_req, res) => {
    res.statusCode = 503;
    res.end('try later');
  },
  '/status/429': (_req, res) => {
    res.statusCode = 429;
    res.end('slow down');
  },
  '/status/404': (_req, res) => {
    res.statusCode = 404;
    res.end('no such thing');
  },
  '/big': (_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('x'.repeat(10_000));
  },
  '/hang': () => {
    // Never answers: the client's timeout or abort has to end the request.
  },
};

let privateFetch: GuardedFetch;
let publicFetch: GuardedFetch;
let open: ReadonlyMap<string, Executor<never>>;
let guarded: ReadonlyMap<string, Executor<never>>;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const route = routes[req.url ?? ''];
      if (route) route(req, res, body);
      else {
        res.statusCode = 500;
        res.end('no route');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  privateFetch = createGuardedFetch({ allowPrivate: true });
  publicFetch = createGuardedFetch({ allowPrivate: false });
  open = createExecutorRegistry(testExecutorEnvironment(privateFetch));
  guarded = createExecutorRegistry(testExecutorEnvironment(publicFetch));
});

afterAll(async () => {
  await privateFetch.close();
  await publicFetch.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('registry', () => {
  it('offers the built-ins, or the subset asked for, and refuses unknown ones', () => {
    expect([...open.keys()]).toEqual(['noop', 'sleep', 'http.request', 'transform', 'llm']);
    expect([...createExecutorRegistry(testExecutorEnvironment(privateFetch), { capabilities: ['sleep'] }).keys()]).toEqual(['sleep']);
    expect(() => createExecutorRegistry(testExecutorEnvironment(privateFetch), { capabilities: ['gpu.infer'] })).toThrow(/unknown capability gpu\.infer/);
  });
});

describe('noop', () => {
  it('succeeds with its input as output', async () => {
    const { ctx } = context();
    await expect(run(open.get('noop')!, { a: [1, 'two'] }, ctx)).resolves.toEqual({ a: [1, 'two'] });
    await expect(run(open.get('noop')!, undefined, ctx)).resolves.toBeNull();
  });
});

describe('sleep', () => {
  it('sleeps with progress ticks that end at 1', async () => {
    const { ctx, events } = context();
    const output = await run(open.get('sleep')!, { ms: 60, progressEveryMs: 10 }, ctx);
    expect((output as { sleptMs: number }).sleptMs).toBeGreaterThanOrEqual(60);
    const fractions = events.filter((e) => e[0] === 'progress').map((e) => e[1]);
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBe(1);
    // How many ticks fall in between depends on the machine's load, so only their order is checked.
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
  });

  it('stops at once when aborted', async () => {
    const controller = new AbortController();
    const { ctx, events } = context(controller.signal);
    // An hour-long sleep: only the abort can end it within the test's timeout.
    const sleeping = run(open.get('sleep')!, { ms: 3_600_000 }, ctx);
    controller.abort(new Error('cancelled by test'));
    await expect(sleeping).rejects.toThrow();
    expect(events.filter((e) => e[0] === 'progress' && e[1] === 1)).toEqual([]);
  });

  it('names the field of bad input', () => {
    expect(inputIssues(open.get('sleep')!, {})).toEqual([{ path: 'ms', message: 'expects a number of milliseconds' }]);
    expect(inputIssues(open.get('sleep')!, { ms: -1 })[0]?.path).toBe('ms');
    expect(inputIssues(open.get('sleep')!, { ms: 1.5 })[0]?.message).toBe('expects whole milliseconds');
  });
});

describe('http.request (local server standing in for a third-party site, private network allowed)', () => {
  const http = () => open.get('http.request')!;

  it('returns status, headers and a JSON body parsed', async () => {
    const { ctx, events } = context();
    const output = (await run(http(), { url: `${base}/json` }, ctx)) as { status: number; headers: Record<string, string>; body: JsonValue };
    expect(output.status).toBe(200);
    expect(output.headers['x-answer']).toBe('42');
    expect(output.body).toEqual({ items: [{ id: 1 }, { id: 2 }] });
    expect(events).toContainEqual(['log', 'info', expect.stringMatching(new RegExp(`^GET ${base}/json answered 200 in \\d+ ms$`))]);
    expect(events.at(-1)).toEqual(['progress', 1, '200']);
  });

  it('sends JSON bodies as JSON and strings as they are, with the given headers', async () => {
    const { ctx } = context();
    const json = (await run(http(), { method: 'post', url: `${base}/echo`, body: { hello: 'world' }, headers: { authorization: 'Bearer t' } }, ctx)) as { body: Record<string, unknown> };
    expect(json.body).toEqual({ method: 'POST', contentType: 'application/json', auth: 'Bearer t', body: '{"hello":"world"}' });
    const text = (await run(http(), { method: 'PUT', url: `${base}/echo`, body: 'raw', headers: { 'content-type': 'text/csv' } }, ctx)) as { body: Record<string, unknown> };
    expect(text.body).toMatchObject({ method: 'PUT', contentType: 'text/csv', body: 'raw' });
  });

  it('keeps non-JSON bodies as text', async () => {
    const { ctx } = context();
    await expect(run(http(), { url: `${base}/text` }, ctx)).resolves.toMatchObject({ body: 'plain words' });
    await expect(run(http(), { url: `${base}/broken-json` }, ctx)).resolves.toMatchObject({ body: '{not json' });
  });

  it('fails retryably on 5xx and 429, and for good on other 4xx', async () => {
    const { ctx } = context();
    const unavailable = run(http(), { url: `${base}/status/503` }, ctx);
    await expect(unavailable).rejects.toBeInstanceOf(RetryableError);
    await expect(unavailable).rejects.toMatchObject({ code: 'HTTP_STATUS', message: expect.stringContaining('answered 503: try later') });
    await expect(run(http(), { url: `${base}/status/429` }, ctx)).rejects.toBeInstanceOf(RetryableError);
    const missing = run(http(), { url: `${base}/status/404` }, ctx);
    await expect(missing).rejects.toBeInstanceOf(NonRetryableError);
    await expect(missing).rejects.toMatchObject({ code: 'HTTP_STATUS', message: expect.stringContaining('answered 404') });
  });

  it('fails retryably on network errors and timeouts', async () => {
    const { ctx } = context();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(run(http(), { url: `http://127.0.0.1:${closedPort}/` }, ctx)).rejects.toMatchObject({ name: 'RetryableError', code: 'NETWORK_ERROR' });
    await expect(run(http(), { url: `${base}/hang`, timeoutMs: 100 }, ctx)).rejects.toMatchObject({ name: 'RetryableError', code: 'TIMEOUT' });
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const { ctx } = context(controller.signal);
    const pending = run(http(), { url: `${base}/hang` }, ctx);
    setImmediate(() => controller.abort(new Error('cancelled by test')));
    await expect(pending).rejects.toThrow();
  });

  it('refuses responses larger than maxResponseBytes', async () => {
    const { ctx } = context();
    await expect(run(http(), { url: `${base}/big`, maxResponseBytes: 1_000 }, ctx)).rejects.toMatchObject({ name: 'NonRetryableError', code: 'RESPONSE_TOO_LARGE' });
  });

  it('names the field of bad input', () => {
    expect(inputIssues(http(), { url: 'ftp://example.com/' })).toEqual([{ path: 'url', message: 'expects an http(s) URL' }]);
    expect(inputIssues(http(), {})[0]?.path).toBe('url');
    expect(inputIssues(http(), { url: 'https://example.com', method: 'FETCH' })[0]).toMatchObject({ path: 'method' });
    expect(inputIssues(http(), { url: 'https://example.com', body: 'x' })).toEqual([{ path: 'body', message: 'a GET request cannot have a body' }]);
    expect(inputIssues(http(), { url: 'https://example.com', headers: { 'bad header': 'x' } })[0]?.path).toBe('headers.bad header');
    expect(inputIssues(http(), { url: 'https://example.com', timeoutMs: 0 })[0]?.path).toBe('timeoutMs');
  });
});

describe('http.request on a worker that does not allow private networks', () => {
  it.each([
    ['http://127.0.0.1:PORT/json', '127.0.0.1'],
    ['http://10.1.2.3/', '10.1.2.3'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://[::1]:PORT/json', '::1'],
    ['http://[::ffff:127.0.0.1]:PORT/json', '::ffff:7f00:1'],
    ['http://localhost:PORT/json', 'localhost'],
  ])('refuses %s without sending anything', async (template, host) => {
    const before = seen.length;
    const { ctx } = context();
    const url = template.replace('PORT', new URL(base).port);
    const refused = run(guarded.get('http.request')!, { url }, ctx);
    await expect(refused).rejects.toBeInstanceOf(NonRetryableError);
    await expect(refused).rejects.toMatchObject({ code: 'PRIVATE_ADDRESS_BLOCKED', message: expect.stringContaining(`refusing to connect to ${host}: the address is not allowed`) });
    // Never the address a name resolved to: that would map the worker's network for the tenant.
    if (host === 'localhost') expect(((await refused.catch((e: unknown) => e)) as Error).message).not.toMatch(/127\.0\.0\.1|::1/);
    expect(seen.length).toBe(before);
  });
});

describe('transform', () => {
  const transform = () => open.get('transform')!;
  const apply = (input: unknown) => run(transform(), input, context().ctx);

  it('passes value through when there are no operations', async () => {
    await expect(apply({ value: { a: 1 } })).resolves.toEqual({ a: 1 });
    await expect(apply({})).resolves.toEqual({});
  });

  it('applies set, copy, remove, merge, pick and select in order', async () => {
    const value = { body: { items: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }], total: 2, secret: 's' }, status: 200 };
    await expect(
      apply({
        value,
        operations: [
          { op: 'set', path: '/meta/source', value: 'fetch' },
          { op: 'set', path: '/body/items/-', value: { id: 3, name: 'c' } },
          { op: 'copy', from: '/body/items/0/name', path: '/first' },
          { op: 'remove', path: '/body/secret' },
          { op: 'merge', path: '/meta', value: { tags: ['x'], source: 'merged' } },
        ],
      }),
    ).resolves.toEqual({
      body: { items: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }], total: 2 },
      status: 200,
      meta: { source: 'merged', tags: ['x'] },
      first: 'a',
    });
    await expect(apply({ value, operations: [{ op: 'pick', paths: ['/status', '/body/total', '/missing'] }] })).resolves.toEqual({ status: 200, body: { total: 2 } });
    await expect(apply({ value, operations: [{ op: 'select', fields: { count: '/body/total', second: '/body/items/1/name', 'a/b': '/status' } }] })).resolves.toEqual({
      count: 2,
      second: 'b',
      'a/b': 200,
    });
  });

  it('does not change the input it was given', async () => {
    const value = { list: [1] };
    await apply({ value, operations: [{ op: 'set', path: '/list/-', value: 2 }] });
    expect(value).toEqual({ list: [1] });
  });

  it('treats __proto__ as a plain key', async () => {
    const output = (await apply({ operations: [{ op: 'set', path: '/__proto__/polluted', value: true }] })) as Record<string, unknown>;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.hasOwn(output, '__proto__')).toBe(true);
    expect((Object.getPrototypeOf(output) as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.parse(JSON.stringify(output))).toEqual({ ['__proto__']: { polluted: true } });
  });

  it('names the operation and field that cannot be applied', async () => {
    const missing = apply({ value: { a: 1 }, operations: [{ op: 'set', path: '/b', value: 2 }, { op: 'copy', from: '/nope', path: '/c' }] });
    await expect(missing).rejects.toBeInstanceOf(NonRetryableError);
    await expect(missing).rejects.toMatchObject({ code: 'BAD_INPUT', message: 'input.operations[1].from: nothing at "/nope"' });
    await expect(apply({ value: { a: [1] }, operations: [{ op: 'set', path: '/a/7', value: 2 }] })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('input.operations[0]: /a/7'),
    });
    await expect(apply({ value: { a: 'text' }, operations: [{ op: 'set', path: '/a/b', value: 2 }] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('bounds the document: 40 copies of the whole document fail (OUTPUT_TOO_DEEP, OUTPUT_TOO_LARGE) instead of doubling it 40 times (issue 9 item 6)', async () => {
    const doubling = Array.from({ length: 40 }, () => ({ op: 'copy', from: '', path: '/a' }));
    const failed = apply({ value: { text: 'x'.repeat(1024) }, operations: doubling });
    await expect(failed).rejects.toBeInstanceOf(NonRetryableError);
    // Each copy nests the document one level deeper: the depth bound is met first here.
    await expect(failed).rejects.toMatchObject({ code: 'OUTPUT_TOO_DEEP', message: expect.stringMatching(/^input\.operations\[31\]: .*more than 32 levels/) });
    // Copies side by side grow without nesting: the size bound.
    const wide = Array.from({ length: 40 }, (_v, i) => ({ op: 'copy', from: '', path: `/c${i}` }));
    await expect(apply({ value: { text: 'x'.repeat(1024) }, operations: wide })).rejects.toMatchObject({
      code: 'OUTPUT_TOO_LARGE',
      message: expect.stringContaining(`larger than ${TRANSFORM_LIMITS.documentBytes} bytes`),
    });
  });

  it('bounds the work of all operations together (TRANSFORM_LIMIT)', async () => {
    // Each copy of a 1 MiB string is within the document bound once the previous one is removed, but
    // a thousand of them handle a gigabyte.
    const churn = Array.from({ length: 1000 }, () => [
      { op: 'copy', from: '/big', path: '/copy' },
      { op: 'remove', path: '/copy' },
    ]).flat().slice(0, 1000);
    await expect(apply({ value: { big: 'x'.repeat(1024 * 1024) }, operations: churn })).rejects.toMatchObject({ code: 'TRANSFORM_LIMIT', message: expect.stringContaining('handle more than') });
  });

  it('names the field of bad input', () => {
    expect(inputIssues(transform(), { operations: [{ op: 'set', path: 'no-slash', value: 1 }] })[0]?.path).toBe('operations.0.path');
    expect(inputIssues(transform(), { operations: [{ op: 'explode' }] })[0]).toMatchObject({ path: 'operations.0.op' });
    expect(inputIssues(transform(), { operations: [{ op: 'merge', value: [1] }] })[0]?.path).toBe('operations.0.value');
  });
});
