// browser.agent on real Chromium, driven through the worker's attempt table (progress, logs, deltas,
// model call records and artifacts as the Execute stream carries them). The model providers are
// outside services we do not run here (hosted LLMs): a stand-in HTTP server on 127.0.0.1 speaks the
// OpenAI wire protocol (lib/src/openai-stand-in.ts), and this test scripts it as a model that reads
// the observation it is sent and answers with tool calls — so a wrong observation fails the test.
// The website is served by this test on 127.0.0.2 (the guard allows that one loopback address, as a
// stand-in for a remote website; 127.0.0.3 is a second allowed site, 127.0.0.1 stays private).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createFsArtifactStore, createGuardedFetch, createMemoryLogger, isPrivateAddress, startOpenAiStandIn, type GuardedFetch, type OpenAiStandIn, type StandInBehaviour, type StandInChatRequest } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { createAttemptTable, type AttemptTable } from '../../attempts';
import { createBrowserHost, browserUnusable, type BrowserHost } from '../browser/browser-host';
import { createModelGateway, type ModelGateway } from '../llm/model-gateway';
import { createBrowserAgentExecutorOn } from './index';

jest.setTimeout(180_000);

const EXECUTABLE = process.env['BROWSER_EXECUTABLE_PATH'] ?? '/usr/bin/chromium';
const SECRET = `pw-${randomUUID()}`;
const SITE_HOST = '127.0.0.2';
const OTHER_HOST = '127.0.0.3';

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
const html = (res: ServerResponse, title: string, body: string) =>
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`);

/** A three-page shop: sign in (the password is the secret), the account, the orders table. */
let siteHits: string[] = [];
const site = createServer((req, res) => {
  void (async () => {
    siteHits.push(req.url ?? '');
    const url = new URL(req.url ?? '/', `http://${SITE_HOST}`);
    const user = /sid=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
    switch (url.pathname) {
      case '/login':
        return html(
          res,
          'Sign in',
          `<h1>Sign in</h1><form method="post" action="/session"><label for="user">User</label><input id="user" name="user"><label for="password">Password</label><input id="password" name="password" type="password"><button type="submit">Sign in</button></form>`,
        );
      case '/session': {
        const form = new URLSearchParams(await readBody(req));
        if (form.get('password') !== SECRET) return html(res, 'Wrong password', '<h1>Wrong password</h1><a href="/login">Try again</a>');
        return res.writeHead(303, { location: '/account', 'set-cookie': `sid=${encodeURIComponent(form.get('user') ?? '')}; Path=/` }).end();
      }
      case '/account':
        if (!user) return res.writeHead(303, { location: '/login' }).end();
        return html(res, 'Account', `<h1>Welcome ${user}</h1><p>You have 2 orders.</p><a href="/orders">Orders</a> <a href="/login">Sign out</a>`);
      case '/orders':
        if (!user) return res.writeHead(303, { location: '/login' }).end();
        return html(res, 'Orders', `<h1>Orders of ${user}</h1><table id="orders"><tr><th>Order</th><th>Amount</th></tr><tr><td>A-1</td><td>10.00</td></tr><tr><td>A-2</td><td>25.50</td></tr></table>`);
      case '/long':
        return html(res, 'Long', `<h1>A long page</h1>${'<p>filler</p>'.repeat(200)}`);
      default:
        return res.writeHead(404).end('not found');
    }
  })();
});
let otherHits: string[] = [];
const other = createServer((req, res) => {
  otherHits.push(req.url ?? '');
  html(res, 'Other', '<h1>Another site</h1>');
});
let privateHits: string[] = [];
const privateServer = createServer((req, res) => {
  privateHits.push(req.url ?? '');
  html(res, 'Private', '<h1>private</h1>');
});

// ---- the scripted model: it reads the observation it is sent ----

const contentOf = (m: { content?: unknown }) => (typeof m.content === 'string' ? m.content : '');
/** The newest page observation in the request (the only one sent in full). */
const observationOf = (request: StandInChatRequest): string => {
  const withPage = (request.messages ?? []).filter((m) => contentOf(m).includes('URL: '));
  return contentOf(withPage.at(-1) ?? {});
};
const lastToolReply = (request: StandInChatRequest): string => contentOf([...(request.messages ?? [])].reverse().find((m) => m.role === 'tool') ?? {});
const urlOf = (observation: string) => /URL: (\S+)/.exec(observation)?.[1] ?? '';
/** The ref of the element the observation lists with this role and name. */
const refOf = (observation: string, role: string, name: string): string | undefined => new RegExp(`\\[(e\\d+)\\] ${role} ${JSON.stringify(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).exec(observation)?.[1];
const call = (name: string, args: unknown, text?: string): StandInBehaviour => ({ kind: 'answer', toolCalls: [{ name, arguments: JSON.stringify(args) }], ...(text === undefined ? {} : { text }) });

/** Signs in as ada (the password typed as the secret SHOP_PASSWORD), opens the orders and returns them. */
const shopper = (request: StandInChatRequest): StandInBehaviour => {
  const observation = observationOf(request);
  const path = new URL(urlOf(observation) || 'http://x/').pathname;
  if (path === '/login') {
    const user = refOf(observation, 'textbox', 'User');
    const password = refOf(observation, 'textbox', 'Password');
    if (!user || !password) return call('fail', { reason: 'no sign-in form in the observation' });
    if (new RegExp(`\\[${user}\\][^\\n]*value=""`).test(observation)) return call('type', { ref: user, text: 'ada' }, 'I type the user name.');
    if (new RegExp(`\\[${password}\\][^\\n]*\\(empty\\)`).test(observation)) return call('type', { ref: password, secret: 'SHOP_PASSWORD' });
    return call('click', { ref: refOf(observation, 'button', 'Sign in') });
  }
  if (path === '/account') return call('click', { ref: refOf(observation, 'link', 'Orders') });
  if (path === '/orders') {
    const reply = lastToolReply(request);
    if (!reply.startsWith('extracted text:')) return call('extract', { selector: '#orders' });
    const rows = (reply.split('\n\n')[0] ?? '')
      .split('\n')
      .slice(2)
      .map((line) => line.split('\t'));
    return call('done', { result: { user: /Orders of (\w+)/.exec(observation)?.[1], orders: rows.map(([id, amount]) => ({ id, amount })) } });
  }
  return call('fail', { reason: `unexpected page ${path}` });
};

const unusable = browserUnusable(EXECUTABLE);
const describeWithBrowser = unusable === undefined ? describe : describe.skip;
if (unusable !== undefined) console.warn(`browser.agent tests skipped: ${unusable}`);

describeWithBrowser('browser.agent (real Chromium, a stand-in model)', () => {
  let dir: string;
  let host: BrowserHost;
  let table: AttemptTable;
  let models: ModelGateway;
  let fetch: GuardedFetch;
  let primary: OpenAiStandIn;
  let secondary: OpenAiStandIn;
  let sitePort = 0;
  let otherPort = 0;
  let privatePort = 0;
  const log = createMemoryLogger('browser-agent-test');
  const siteUrl = (path: string) => `http://${SITE_HOST}:${sitePort}${path}`;

  beforeAll(async () => {
    sitePort = await listen(site, SITE_HOST);
    otherPort = await listen(other, OTHER_HOST);
    privatePort = await listen(privateServer, '127.0.0.1');
    primary = await startOpenAiStandIn({ apiKey: 'sk-primary', respond: shopper });
    secondary = await startOpenAiStandIn({ apiKey: 'sk-secondary', respond: shopper });
    dir = await mkdtemp(join(tmpdir(), 'orchestra-agent-artifacts-'));
    fetch = createGuardedFetch({ allowPrivate: true });
    models = createModelGateway({ fetch, localFetch: fetch, localEndpoints: [], circuitFailureThreshold: 100, circuitResetMs: 60_000, defaultTimeoutMs: 30_000 });
    host = createBrowserHost({ executablePath: EXECUTABLE, log });
    // The guard allows the two stand-in websites' addresses and nothing else private.
    const executor = createBrowserAgentExecutorOn({ host, models, maxContexts: 4, allowPrivateNetwork: false, isBlocked: (a) => a !== SITE_HOST && a !== OTHER_HOST && isPrivateAddress(a) });
    table = createAttemptTable({ slots: 4, executors: new Map([['browser.agent', executor]]), log, artifactStore: createFsArtifactStore(dir) });
  });

  afterAll(async () => {
    await host?.stop();
    models?.stop();
    await fetch?.close();
    await Promise.all([primary?.stop(), secondary?.stop()]);
    await Promise.all([site, other, privateServer].map((s) => new Promise((resolve) => s.close(resolve))));
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    primary.reset();
    secondary.reset();
    primary.respondWith(shopper);
    secondary.respondWith(shopper);
    siteHits = [];
    otherHits = [];
    privateHits = [];
  });

  const provider = (name: string, server: OpenAiStandIn) =>
    automationV1.LlmProvider.fromPartial({ name, baseUrl: server.baseUrl, apiKey: server === primary ? 'sk-primary' : 'sk-secondary', inputPricePerMillion: 1, outputPricePerMillion: 2, models: [{ alias: 'small', model: `${name}-model` }] });

  const run = async (input: Record<string, unknown>, { providers = [provider('primary', primary)], onEvent }: { providers?: automationV1.LlmProvider[]; onEvent?: (e: automationV1.ExecuteResponse, cancel: () => void) => void } = {}) => {
    const attemptId = `agent-${randomUUID()}`;
    const events: automationV1.ExecuteResponse[] = [];
    const request = automationV1.ExecuteRequest.fromPartial({
      attemptId,
      taskId: `task-${randomUUID()}`,
      runId: 'run-1',
      orgId: `org-${randomUUID()}`,
      stepId: 'agent',
      capability: 'browser.agent',
      attempt: 1,
      input: { provider: 'primary', model: 'small', goal: 'Sign in as ada and return her orders', startUrl: siteUrl('/login'), secrets: { SHOP_PASSWORD: SECRET }, ...input },
      llmProviders: providers,
    });
    const { attempt } = table.open(request, (e) => {
      events.push(e);
      onEvent?.(e, () => table.cancel(attemptId, 'CANCELLED', 'cancelled by the test'));
    });
    const result = await attempt.done;
    return { events, result };
  };
  const failureOf = (result: automationV1.TaskResult) => (result.outcome?.$case === 'failure' ? result.outcome.value : undefined);
  const outputOf = (result: automationV1.TaskResult) => (result.outcome?.$case === 'success' ? (result.outcome.value.output as Record<string, unknown>) : undefined);
  const logsOf = (events: automationV1.ExecuteResponse[]) => events.flatMap((e) => (e.event?.$case === 'log' ? [e.event.value.message] : []));
  const callsOf = (events: automationV1.ExecuteResponse[]) => events.flatMap((e) => (e.event?.$case === 'modelCall' ? [e.event.value] : []));
  const allRequests = () => [...primary.requests, ...secondary.requests];

  it('reaches the goal: signs in with a secret it never sees, reads the orders, returns them; each step logged, streamed and screenshotted, usage summed', async () => {
    const { events, result } = await run({});
    expect(failureOf(result)).toBeUndefined();
    const output = outputOf(result)!;
    expect(output['result']).toEqual({ user: 'ada', orders: [{ id: 'A-1', amount: '10.00' }, { id: 'A-2', amount: '25.50' }] });
    expect(output['finishReason']).toBe('done');
    expect(output['provider']).toBe('primary');
    expect(output['url']).toBe(siteUrl('/orders'));
    const steps = output['steps'] as Array<{ step: number; action: string; arguments: unknown; ok: boolean; screenshot?: string; reason?: string }>;
    expect(steps.map((s) => s.action)).toEqual(['type', 'type', 'click', 'click', 'extract', 'done']);
    expect(steps[0]).toMatchObject({ step: 1, label: expect.stringMatching(/^type "ada" into \[e\d+\] textbox "User"/), arguments: { text: 'ada' }, ok: true, reason: 'I type the user name.', screenshot: 'step-01.jpg' });
    expect(steps[1]!.arguments).toEqual({ ref: expect.stringMatching(/^e\d+$/), secret: 'SHOP_PASSWORD', submit: false });

    // The site got the password: the worker typed the secret's value.
    expect(siteHits).toContain('/account');
    // The model never did: not in any request, nor in a log line, a delta, the output.
    expect(JSON.stringify(allRequests().map((r) => r.body))).not.toContain(SECRET);
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(JSON.stringify(log.lines)).not.toContain(SECRET);
    // It saw the password field filled once the secret was typed.
    expect(observationOf(primary.requests[2]!.body)).toMatch(/textbox "Password" type=password field=password \(filled\)/);

    // Each action is a progress event with the model's stated reason.
    const progress = events.flatMap((e) => (e.event?.$case === 'progress' ? [e.event.value.message] : []));
    expect(progress).toContainEqual(expect.stringMatching(/^step 1: type "ada" into \[e\d+\] textbox "User".* \u2014 I type the user name\.$/));
    expect(progress.filter((m) => /^step \d+: /.test(m))).toHaveLength(6);
    // One log line, one delta line and one screenshot per step.
    expect(logsOf(events).filter((l) => /^step \d+: /.test(l))).toHaveLength(6);
    const deltas = events.flatMap((e) => (e.event?.$case === 'delta' ? [e.event.value.text] : [])).join('');
    expect(deltas).toMatch(/^step 1: type "ada" into \[e\d+\] textbox "User" field=user\nstep 2: type secret SHOP_PASSWORD into \[e\d+\] textbox "Password"/);
    const artifacts = events.flatMap((e) => (e.event?.$case === 'artifact' ? [e.event.value.name] : []));
    expect(artifacts).toEqual(['step-01.jpg', 'step-02.jpg', 'step-03.jpg', 'step-04.jpg', 'step-05.jpg']);

    // Usage: one model call per step, each accounted, summed in the output.
    const calls = callsOf(events);
    expect(calls).toHaveLength(6);
    expect(primary.requests).toHaveLength(6);
    const usage = output['usage'] as { promptTokens: number; completionTokens: number; totalTokens: number; modelCalls: number };
    expect(usage.promptTokens).toBe(calls.reduce((s, c) => s + c.promptTokens, 0));
    expect(usage.completionTokens).toBe(calls.reduce((s, c) => s + c.completionTokens, 0));
    expect(usage.modelCalls).toBe(6);
    expect(output['costUsd']).toBeGreaterThan(0);
    // Only the newest observation goes in full: earlier ones are left out, so the prompt stays bounded.
    const lastMessages = primary.requests[5]!.body.messages!.map(contentOf).join('\n');
    expect(lastMessages.match(/URL: /g)).toHaveLength(1);
  });

  it('stops at maxSteps with MAX_STEPS_REACHED after exactly that many model turns', async () => {
    primary.respondWith(() => call('scroll', { direction: 'down' }));
    const { result } = await run({ startUrl: siteUrl('/long'), maxSteps: 3 });
    expect(failureOf(result)).toMatchObject({ code: 'MAX_STEPS_REACHED', retryable: false });
    expect(failureOf(result)!.message).toMatch(/^the goal was not reached within maxSteps \(3\) steps; the last: scroll at /);
    expect(primary.requests).toHaveLength(3);
    // The scrolls moved the page, and the model was shown where it is.
    expect(observationOf(primary.requests[2]!.body)).toMatch(/Scroll: [1-9]\d* of \d+ px/);
  });

  it('feeds an unknown ref back to the model as an error, which then goes on', async () => {
    primary.script(call('click', { ref: 'e999' }));
    primary.respondWith((request) => {
      const reply = lastToolReply(request);
      return call('done', { result: reply });
    });
    const { result } = await run({});
    const output = outputOf(result)!;
    expect(output['result']).toMatch(/^error UNKNOWN_REF: there is no element \[e999\] on this page/);
    expect((output['steps'] as Array<{ ok: boolean; error?: { code: string } }>)[0]).toMatchObject({ ok: false, error: { code: 'UNKNOWN_REF' } });
  });

  it('refuses a navigation to a private address and one outside allowedDomains, telling the model', async () => {
    primary.script(call('navigate', { url: `http://127.0.0.1:${privatePort}/admin` }), call('navigate', { url: `http://${OTHER_HOST}:${otherPort}/` }));
    primary.respondWith((request) => call('done', { result: (request.messages ?? []).filter((m) => m.role === 'tool').map((m) => contentOf(m).split('\n')[0]) }));
    // 127.0.0.1 is an allowed domain here: the network guard refuses it all the same.
    const { result } = await run({ allowedDomains: [SITE_HOST, '127.0.0.1'] });
    const output = outputOf(result)!;
    expect(output['result']).toEqual([
      expect.stringMatching(/^error PRIVATE_ADDRESS_BLOCKED: navigation refused: 127\.0\.0\.1 is not an allowed address/),
      expect.stringMatching(/^error DOMAIN_NOT_ALLOWED: navigation to 127\.0\.0\.3 refused: it is not one of the step's allowedDomains/),
    ]);
    expect(privateHits).toEqual([]);
    expect(otherHits).toEqual([]);
    expect(output['url']).toBe(siteUrl('/login'));
  });

  it('falls back to the next provider mid-loop; the failed call is accounted too', async () => {
    // The first two turns on the primary, then it fails (500) and the secondary takes over.
    let turns = 0;
    primary.respondWith((request) => (turns++ < 2 ? shopper(request) : { kind: 'error', status: 500, message: 'overloaded' }));
    const { events, result } = await run({ provider: undefined, providers: ['primary', 'secondary'] }, { providers: [provider('primary', primary), provider('secondary', secondary)] });
    const output = outputOf(result)!;
    expect(output['result']).toMatchObject({ user: 'ada' });
    expect(output['provider']).toBe('secondary');
    expect(output['skipped']).toEqual([{ provider: 'primary', code: 'PROVIDER_HTTP_5XX', message: expect.stringContaining('HTTP 500') }]);
    const calls = callsOf(events);
    expect(calls.filter((c) => c.provider === 'primary' && c.errorCode === '')).toHaveLength(2);
    expect(calls.filter((c) => c.provider === 'primary' && c.errorCode === 'PROVIDER_HTTP_5XX').length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((c) => c.provider === 'secondary')).toHaveLength(4);
    expect(logsOf(events).some((l) => /^provider primary skipped \(PROVIDER_HTTP_5XX\)/.test(l))).toBe(true);
  });

  it('fails TOKEN_BUDGET_EXCEEDED once the calls used more than the budget', async () => {
    const { result } = await run({ tokenBudget: 50 });
    expect(failureOf(result)).toMatchObject({ code: 'TOKEN_BUDGET_EXCEEDED', retryable: false });
    expect(primary.requests).toHaveLength(1);
  });

  it('a cancel stops the loop at once, the model call included', async () => {
    let cancel: (() => void) | undefined;
    let asked = 0;
    primary.respondWith(() => {
      asked = Date.now();
      // The model is thinking (it never answers) when the task is cancelled.
      setTimeout(() => cancel?.(), 200);
      return { kind: 'hang' };
    });
    const { result } = await run({}, { onEvent: (_e, cancelIt) => (cancel ??= cancelIt) });
    expect(failureOf(result)).toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(primary.requests).toHaveLength(1);
    expect(primary.requests[0]?.abortedAt).toBeDefined();
  });

  it('refuses bad input naming the field', async () => {
    const { result } = await run({ maxSteps: 51 });
    expect(failureOf(result)).toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('input.maxSteps: expects an integer from 1 to 50') });
  });
});
