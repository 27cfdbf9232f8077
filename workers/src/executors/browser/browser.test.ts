// The browser executor on real Chromium (Debian's, BROWSER_EXECUTABLE_PATH or /usr/bin/chromium),
// driven through the worker's attempt table (progress, logs, secret masking, artifacts as the
// Execute stream carries them). Pages are served by this test: a "site" on 127.0.0.2 stands in for
// a remote website (the guard here allows that one loopback address, and only it), and a "private"
// server on 127.0.0.1 stands in for what the guard must keep pages away from (it counts its hits).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createFsArtifactStore, createMemoryLogger, eventually, isPrivateAddress, type ArtifactStore } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { createAttemptTable, type AttemptTable } from '../../attempts';
import { browserUnusable, createBrowserHost, type BrowserHost } from './browser-host';
import { createBrowserExecutorOn } from './index';

// Generous: the first test launches Chromium, and the machine may be busy.
jest.setTimeout(180_000);

const EXECUTABLE = process.env['BROWSER_EXECUTABLE_PATH'] ?? '/usr/bin/chromium';
const SECRET = `pw-${randomUUID()}`;
const SITE_HOST = '127.0.0.2';

const listen = async (server: Server, host: string) => {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
};

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
  });

const html = (res: ServerResponse, body: string, headers: Record<string, string> = {}) =>
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers }).end(`<!doctype html><html><head><title>${/<h1[^>]*>(.*?)<\/h1>/.exec(body)?.[1] ?? 'page'}</title></head><body>${body}</body></html>`);

let privateHits: string[] = [];
let privatePort = 0;
let sitePort = 0;
const site = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', `http://${SITE_HOST}`);
    const cookies = req.headers.cookie ?? '';
    switch (url.pathname) {
      case '/login':
        return html(
          res,
          `<h1>Sign in</h1><form method="post" action="/session"><input id="user" name="user"><input id="password" name="password" type="password"><button id="submit" type="submit">Sign in</button></form>`,
        );
      case '/session': {
        const form = new URLSearchParams(await readBody(req));
        if (form.get('password') !== SECRET) return html(res, '<h1>Wrong password</h1>');
        return res.writeHead(303, { location: '/account', 'set-cookie': `sid=${encodeURIComponent(form.get('user') ?? '')}; Path=/; HttpOnly` }).end();
      }
      case '/account':
        if (!cookies.includes('sid=')) return res.writeHead(303, { location: '/login' }).end();
        return html(
          res,
          `<h1>Account of ${/sid=([^;]*)/.exec(cookies)?.[1] ?? ''}</h1><a id="home" href="/login" data-id="42">home</a>
           <table id="orders"><tr><th>Order</th><th>Amount</th></tr><tr><td>A-1</td><td>10.00</td></tr><tr><td>A-2</td><td>25.50</td></tr></table>
           <ul><li class="tag">red</li><li class="tag">green</li></ul>`,
        );
      case '/set-cookie':
        return html(res, '<h1>Cookie set</h1>', { 'set-cookie': 'visited=yes; Path=/' });
      case '/show-cookie':
        return html(res, `<h1>Cookies</h1><p id="cookie">[${cookies}]</p>`);
      case '/slow':
        return html(res, '<h1>Nothing comes</h1>');
      case '/private-subresource':
        return html(res, `<h1>Embeds</h1><img src="http://127.0.0.1:${privatePort}/pixel.png"><iframe src="http://127.0.0.1:${privatePort}/frame"></iframe><script>const ws = new WebSocket('ws://127.0.0.1:${privatePort}/socket'); ws.onerror = () => { document.title = 'socket refused'; };</script>`);
      case '/redirect-private':
        return res.writeHead(302, { location: `http://127.0.0.1:${privatePort}/secret` }).end();
      case '/download-page':
        return html(res, '<h1>Files</h1><a id="csv" href="/report.csv">report</a>');
      case '/report.csv':
        return res.writeHead(200, { 'content-type': 'text/csv', 'content-disposition': 'attachment; filename="report.csv"' }).end('a,b\n1,2\n');
      default:
        return res.writeHead(404).end('not found');
    }
  })();
});
const privateServer = createServer((req, res) => {
  privateHits.push(req.url ?? '');
  res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>private</h1>');
});
privateServer.on('upgrade', (req: IncomingMessage, socket: { destroy(): void }) => {
  privateHits.push(`upgrade ${req.url ?? ''}`);
  socket.destroy();
});

const unusable = browserUnusable(EXECUTABLE);
const describeWithBrowser = unusable === undefined ? describe : describe.skip;
if (unusable !== undefined) console.warn(`browser tests skipped: ${unusable}`);

describeWithBrowser('browser executor (real Chromium)', () => {
  let dir: string;
  let store: ArtifactStore;
  let host: BrowserHost;
  let table: AttemptTable;
  let strictTable: AttemptTable;
  let strictHost: BrowserHost;
  const log = createMemoryLogger('browser-test');
  const siteUrl = (path: string) => `http://${SITE_HOST}:${sitePort}${path}`;

  beforeAll(async () => {
    sitePort = await listen(site, SITE_HOST);
    privatePort = await listen(privateServer, '127.0.0.1');
    dir = await mkdtemp(join(tmpdir(), 'orchestra-browser-artifacts-'));
    store = createFsArtifactStore(dir);
    host = createBrowserHost({ executablePath: EXECUTABLE, log });
    // The guard allows the stand-in website's address and nothing else private (as in production, plus one address).
    const executor = createBrowserExecutorOn({ host, maxContexts: 4, allowPrivateNetwork: false, isBlocked: (a) => a !== SITE_HOST && isPrivateAddress(a), maxDownloadBytes: 1024 * 1024 });
    table = createAttemptTable({ slots: 8, executors: new Map([['browser', executor]]), log, artifactStore: store });
    // A worker with the production guard: every loopback address refused.
    strictHost = createBrowserHost({ executablePath: EXECUTABLE, log });
    const strict = createBrowserExecutorOn({ host: strictHost, maxContexts: 2, allowPrivateNetwork: false });
    strictTable = createAttemptTable({ slots: 2, executors: new Map([['browser', strict]]), log, artifactStore: store });
  });

  afterAll(async () => {
    await host?.stop();
    await strictHost?.stop();
    await new Promise((resolve) => site.close(resolve));
    await new Promise((resolve) => privateServer.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    privateHits = [];
  });

  const run = async (input: unknown, { on = table, secretValues = [] as string[], onEvent }: { on?: AttemptTable; secretValues?: string[]; onEvent?: (event: automationV1.ExecuteResponse, attemptId: string) => void } = {}) => {
    const attemptId = `att-${randomUUID()}`;
    const events: automationV1.ExecuteResponse[] = [];
    const request = automationV1.ExecuteRequest.fromPartial({
      attemptId,
      taskId: `task-${randomUUID()}`,
      runId: 'run-1',
      orgId: 'org-1',
      stepId: 'browse',
      capability: 'browser',
      attempt: 1,
      input,
      secretValues,
    });
    const { attempt } = table === on ? on.open(request, (e) => (events.push(e), onEvent?.(e, attemptId))) : on.open(request, (e) => (events.push(e), onEvent?.(e, attemptId)));
    const result = await attempt.done;
    return { attemptId, request, events, result, attempt };
  };
  const outcome = (result: automationV1.TaskResult) => result.outcome;
  const failureOf = (result: automationV1.TaskResult) => (result.outcome?.$case === 'failure' ? result.outcome.value : undefined);
  const outputOf = (result: automationV1.TaskResult) => (result.outcome?.$case === 'success' ? (result.outcome.value.output as Record<string, unknown>) : undefined);
  const artifactsOf = (events: automationV1.ExecuteResponse[]) => events.flatMap((e) => (e.event?.$case === 'artifact' ? [e.event.value] : []));
  const textOf = (events: automationV1.ExecuteResponse[]) =>
    events.map((e) => (e.event?.$case === 'progress' ? e.event.value.message : e.event?.$case === 'log' ? e.event.value.message : JSON.stringify(e.event))).join('\n');

  it('signs in with a secret, extracts a table, keeps a screenshot and a PDF with the right bytes; the secret shows nowhere', async () => {
    const { events, result, request } = await run(
      {
        actions: [
          { action: 'goto', url: siteUrl('/login') },
          { action: 'fill', selector: '#user', value: 'alice' },
          { action: 'fill', selector: '#password', value: SECRET },
          { action: 'click', selector: '#submit' },
          { action: 'waitFor', urlMatches: '/account$' },
          { action: 'extract', name: 'orders', selector: '#orders', table: true },
          { action: 'extract', name: 'tags', selector: '.tag', all: true },
          { action: 'extract', name: 'homeId', selector: '#home', attribute: 'data-id' },
          // A page that echoes the secret must not carry it out through an extract either.
          { action: 'extract', name: 'heading', selector: 'h1' },
          { action: 'screenshot', name: 'account', fullPage: true },
          { action: 'pdf', name: 'account' },
        ],
      },
      { secretValues: [SECRET] },
    );
    expect(failureOf(result)).toBeUndefined();
    const output = outputOf(result)!;
    expect(output['extracted']).toEqual({
      orders: [
        { Order: 'A-1', Amount: '10.00' },
        { Order: 'A-2', Amount: '25.50' },
      ],
      tags: ['red', 'green'],
      homeId: '42',
      heading: 'Account of alice',
    });
    expect(output['url']).toBe(siteUrl('/account'));
    expect(output['title']).toBe('Account of alice');

    const artifacts = artifactsOf(events);
    expect(artifacts.map((a) => [a.name, a.contentType])).toEqual([
      ['account.png', 'image/png'],
      ['account.pdf', 'application/pdf'],
    ]);
    expect(output['artifacts']).toEqual(artifacts.map(({ name, contentType, sizeBytes, sha256 }) => ({ name, contentType, sizeBytes, sha256 })));
    for (const artifact of artifacts) {
      expect(artifact.storageKey).toBe(`org-1/run-1/${request.taskId}/${request.attemptId}/${artifact.name}`);
      const stored = await store.get(artifact.storageKey);
      const chunks: Buffer[] = [];
      for await (const chunk of stored!.body) chunks.push(Buffer.from(chunk as Buffer));
      const body = Buffer.concat(chunks);
      expect(body.length).toBe(artifact.sizeBytes);
      expect(createHash('sha256').update(body).digest('hex')).toBe(artifact.sha256);
    }
    const [png, pdf] = await Promise.all(artifacts.map((a) => store.get(a.storageKey)));
    expect(png?.contentType).toBe('image/png');
    expect(pdf?.contentType).toBe('application/pdf');

    // Progress "i of n: ..." for every action, and a log line each.
    const progress = events.flatMap((e) => (e.event?.$case === 'progress' ? [e.event.value.message] : []));
    expect(progress).toContain('4 of 11: click #submit');
    expect(progress).toContain('3 of 11: fill #password');
    expect(events.filter((e) => e.event?.$case === 'log' && /^action \d+ of 11: /.test(e.event.value.message))).toHaveLength(11);
    // The secret is in nothing that left the attempt: events, output, the worker's log.
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(JSON.stringify(log.lines)).not.toContain(SECRET);
    expect(host.openContexts()).toBe(0);
  });

  it('a missing selector fails naming the action, with a screenshot of the page at that moment', async () => {
    const { events, result } = await run({
      timeoutMs: 1_000,
      actions: [
        { action: 'goto', url: siteUrl('/login'), timeoutMs: 60_000 },
        { action: 'click', selector: '#does-not-exist' },
      ],
    });
    const failure = failureOf(result)!;
    expect(failure.code).toBe('ACTION_TIMEOUT');
    expect(failure.message).toBe('action 2 (click #does-not-exist) failed: selector #does-not-exist not found after 1000 ms');
    expect(failure.retryable).toBe(false);
    const artifacts = artifactsOf(events);
    expect(artifacts.map((a) => a.name)).toEqual(['failure-2.png']);
    expect(artifacts[0]!.sizeBytes).toBeGreaterThan(100);
    expect(textOf(events)).toContain('action 2 (click #does-not-exist) failed');
  });

  it('stopOnError false records the failure and goes on', async () => {
    const { result } = await run({
      timeoutMs: 500,
      stopOnError: false,
      actions: [
        { action: 'goto', url: siteUrl('/login'), timeoutMs: 60_000 },
        { action: 'extract', name: 'missing', selector: '#nope' },
        { action: 'extract', name: 'title', selector: 'h1' },
      ],
    });
    const output = outputOf(result)!;
    expect(output['extracted']).toEqual({ title: 'Sign in' });
    expect(output['errors']).toEqual([{ index: 2, action: 'extract missing from #nope', code: 'ACTION_TIMEOUT', message: 'selector #nope not found after 500 ms' }]);
    expect((output['artifacts'] as { name: string }[]).map((a) => a.name)).toEqual(['failure-2.png']);
  });

  it('refuses a navigation, a subresource and a redirect to a private address the worker does not allow', async () => {
    const direct = await run({ actions: [{ action: 'goto', url: `http://127.0.0.1:${privatePort}/secret` }] });
    expect(failureOf(direct.result)).toMatchObject({ code: 'PRIVATE_ADDRESS_BLOCKED', retryable: false, message: expect.stringContaining('action 1 (goto') });
    expect(failureOf(direct.result)!.message).toContain('navigation refused: 127.0.0.1');

    const redirect = await run({ actions: [{ action: 'goto', url: siteUrl('/redirect-private') }] });
    expect(failureOf(redirect.result)).toMatchObject({ code: 'PRIVATE_ADDRESS_BLOCKED' });

    const embedded = await run({
      actions: [
        { action: 'goto', url: siteUrl('/private-subresource'), waitUntil: 'load' },
        { action: 'waitFor', ms: 500 },
        { action: 'extract', name: 'heading', selector: 'h1' },
      ],
    });
    // The page itself loads; what it embeds from the private address does not (image, frame, WebSocket).
    expect(outputOf(embedded.result)?.['extracted']).toEqual({ heading: 'Embeds' });
    expect(outputOf(embedded.result)?.['title']).toBe('socket refused');
    expect(privateHits).toEqual([]);

    // With the production guard even the stand-in website's loopback address is refused.
    const strict = await run({ actions: [{ action: 'goto', url: siteUrl('/login') }] }, { on: strictTable });
    expect(failureOf(strict.result)).toMatchObject({ code: 'PRIVATE_ADDRESS_BLOCKED' });
    expect(privateHits).toEqual([]);
  });

  it('cancel during a long waitFor ends the attempt at once and leaves no context open', async () => {
    let started: (() => void) | undefined;
    const waiting = new Promise<void>((resolve) => (started = resolve));
    const running = run(
      {
        actions: [
          { action: 'goto', url: siteUrl('/slow') },
          { action: 'waitFor', selector: '#never', timeoutMs: 120_000 },
        ],
      },
      {
        onEvent: (event) => {
          if (event.event?.$case === 'progress' && event.event.value.message.startsWith('2 of 2')) started?.();
        },
      },
    );
    await waiting;
    const attemptId = table.runningIds()[0]!;
    const cancelledAt = Date.now();
    expect(table.cancel(attemptId, 'CANCELLED', 'the user cancelled the run')).toBe(true);
    const { result } = await running;
    const tookMs = Date.now() - cancelledAt;
    expect(failureOf(result)).toMatchObject({ code: 'CANCELLED', retryable: false });
    // Not a timing assertion about speed: the waitFor had two minutes left; ending well before proves it was interrupted.
    expect(tookMs).toBeLessThan(60_000);
    expect(host.openContexts()).toBe(0);
  });

  it('isolates tasks: a cookie set by one task is not seen by the next on the same worker', async () => {
    const first = await run({ actions: [{ action: 'goto', url: siteUrl('/set-cookie') }, { action: 'goto', url: siteUrl('/show-cookie') }, { action: 'extract', name: 'cookie', selector: '#cookie' }] });
    expect(outputOf(first.result)?.['extracted']).toEqual({ cookie: '[visited=yes]' });
    const second = await run({ actions: [{ action: 'goto', url: siteUrl('/show-cookie') }, { action: 'extract', name: 'cookie', selector: '#cookie' }] });
    expect(outputOf(second.result)?.['extracted']).toEqual({ cookie: '[]' });
  });

  it('refuses downloads unless the action asks, and keeps an asked-for one as an artifact', async () => {
    const refused = await run({ actions: [{ action: 'goto', url: siteUrl('/download-page') }, { action: 'click', selector: '#csv' }, { action: 'extract', name: 'h', selector: 'h1' }] });
    expect(outputOf(refused.result)?.['artifacts']).toEqual([]);
    const kept = await run({ actions: [{ action: 'goto', url: siteUrl('/download-page') }, { action: 'click', selector: '#csv', download: true }] });
    const artifacts = artifactsOf(kept.events);
    expect(artifacts.map((a) => [a.name, a.sizeBytes])).toEqual([['report.csv', 8]]);
    expect(artifacts[0]!.sha256).toBe(createHash('sha256').update('a,b\n1,2\n').digest('hex'));
  });

  it('a browser killed under a running task fails the attempt retryable (BROWSER_CRASHED) and the next task runs', async () => {
    // Warm the browser so its process exists, then find it among this test process's children.
    await run({ actions: [{ action: 'goto', url: siteUrl('/login') }] });
    const chromiumPids = async () => {
      const pids: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
        const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat) ?? [];
        const ppid = Number(rest?.split(' ')[1]);
        if (ppid === process.pid && comm !== undefined && /chrom/i.test(comm)) pids.push(Number(entry));
      }
      return pids;
    };
    let started: (() => void) | undefined;
    const waiting = new Promise<void>((resolve) => (started = resolve));
    const running = run(
      { actions: [{ action: 'goto', url: siteUrl('/slow') }, { action: 'waitFor', selector: '#never', timeoutMs: 120_000 }] },
      { onEvent: (event) => event.event?.$case === 'progress' && event.event.value.message.startsWith('2 of 2') && started?.() },
    );
    await waiting;
    const pids = await eventually(async () => {
      const found = await chromiumPids();
      return found.length > 0 ? found : undefined;
    }, { what: 'the chromium process' });
    // Only processes this test's browser host started (children of this process).
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const { result } = await running;
    expect(failureOf(result)).toMatchObject({ code: 'BROWSER_CRASHED', retryable: true });
    const next = await run({ actions: [{ action: 'goto', url: siteUrl('/login') }, { action: 'extract', name: 'h', selector: 'h1' }] });
    expect(outputOf(next.result)?.['extracted']).toEqual({ h: 'Sign in' });
  });

  it('bad input names the action index and field, before anything runs', async () => {
    const cases: [unknown, RegExp][] = [
      [{ actions: [{ action: 'goto', url: siteUrl('/') }, { action: 'hover', selector: 'a' }] }, /input\.actions\.1\.action: expects action to be one of goto, click/],
      [{ actions: [{ action: 'click' }] }, /input\.actions\.0\.selector: expects a selector/],
      [{ actions: [{ action: 'goto', url: 'file:///etc/passwd' }] }, /input\.actions\.0\.url: expects an http or https URL/],
      [{ actions: [{ action: 'goto', url: 'javascript:alert(1)' }] }, /input\.actions\.0\.url: expects an http or https URL/],
      [{ actions: [] }, /input\.actions: expects at least one action/],
      [{ actions: [{ action: 'screenshot', name: '../x' }] }, /input\.actions\.0\.name/],
    ];
    for (const [input, message] of cases) {
      const { result, events } = await run(input);
      expect(failureOf(result)).toMatchObject({ code: 'BAD_INPUT', retryable: false, message: expect.stringMatching(message) });
      expect(events.filter((e) => e.event?.$case === 'progress')).toHaveLength(0);
    }
    expect(outcome).toBeDefined();
  });
});
