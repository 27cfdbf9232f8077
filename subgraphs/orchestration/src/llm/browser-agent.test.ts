import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startOpenAiStandIn, type OpenAiStandIn, type StandInBehaviour, type StandInChatRequest } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';

// browser.agent through the platform: the orchestration service (PostgreSQL, Redis) dispatches the
// step over gRPC to a worker that drives real Chromium. The model provider is an outside service we
// do not run here (a hosted LLM): a stand-in HTTP server on 127.0.0.1 speaks the OpenAI wire
// protocol and is scripted as a model that reads the page observation it is sent. The website is
// served by this test on 127.0.0.1 (the worker may reach private addresses here; the guard is
// tested in workers/). The password is an organization secret the model only knows by name.

const SECRET = `pw-${randomUUID()}`;
const API_KEY = 'sk-agent-test-0001';
const orgId = randomUUID();
const admin = userPrincipal(orgId, 'admin');

let t: TestOrchestration;
let standIn: OpenAiStandIn;
let site: Server;
let siteUrl = '';
let artifactDir = '';

const contentOf = (m: { content?: unknown }) => (typeof m.content === 'string' ? m.content : '');
const observationOf = (request: StandInChatRequest) => contentOf((request.messages ?? []).filter((m) => contentOf(m).includes('URL: ')).at(-1) ?? {});
const refOf = (observation: string, role: string, name: string) => new RegExp(`\\[(e\\d+)\\] ${role} "${name}"`).exec(observation)?.[1];
const call = (name: string, args: unknown): StandInBehaviour => ({ kind: 'answer', toolCalls: [{ name, arguments: JSON.stringify(args) }] });

/** Types the user, the password (by secret name), signs in, and returns the orders it reads on the page. */
const model = (request: StandInChatRequest): StandInBehaviour => {
  const observation = observationOf(request);
  const path = new URL(/URL: (\S+)/.exec(observation)?.[1] ?? 'http://x/').pathname;
  if (path === '/login') {
    const user = refOf(observation, 'textbox', 'User')!;
    const password = refOf(observation, 'textbox', 'Password')!;
    if (new RegExp(`\\[${user}\\][^\\n]*value=""`).test(observation)) return call('type', { ref: user, text: 'ada' });
    if (new RegExp(`\\[${password}\\][^\\n]*\\(empty\\)`).test(observation)) return call('type', { ref: password, secret: 'SHOP_PASSWORD', submit: true });
  }
  if (path === '/orders') return call('done', { result: { orders: [...observation.matchAll(/(A-\d) \| ([\d.]+)/g)].map(([, id, total]) => ({ id, total })) } });
  return call('fail', { reason: `unexpected page ${path}` });
};

beforeAll(async () => {
  site = createServer((req, res) => {
    const page = (title: string, body: string) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>${title}</title><body>${body}</body>`);
    if (req.url === '/session' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (new URLSearchParams(body).get('password') !== SECRET) page('Wrong', '<h1>Wrong password</h1>');
        else res.writeHead(303, { location: '/orders' }).end();
      });
      return;
    }
    if (req.url === '/orders') return page('Orders', '<h1>Orders</h1><table><tr><th>id</th><th>total</th></tr><tr><td>A-1</td><td>12.50</td></tr><tr><td>A-2</td><td>7.00</td></tr></table>');
    return page('Sign in', '<form method="post" action="/session"><label for="u">User</label><input id="u" name="user"><label for="p">Password</label><input id="p" name="password" type="password"><button>Sign in</button></form>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  standIn = await startOpenAiStandIn({ apiKey: API_KEY, respond: model });
  artifactDir = await mkdtemp(join(tmpdir(), 'orchestra-agent-platform-'));
  t = await startTestOrchestration();
  await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true', ARTIFACT_DIR: artifactDir });
  await eventually(async () => ((await t.graphql<{ capabilities: string[] }>(admin, '{ capabilities }')).data?.capabilities.includes('browser.agent') ? true : undefined), {
    timeoutMs: 30_000,
    what: 'the worker to advertise browser.agent',
  });
  for (const [name, value] of [['OPENAI_KEY', API_KEY], ['SHOP_PASSWORD', SECRET]]) {
    expect((await t.graphql(admin, `mutation($n: String!, $v: String!) { createSecret(name: $n, value: $v) { id } }`, { n: name, v: value })).errors).toBeUndefined();
  }
  const provider = await t.graphql(admin, `mutation($i: CreateLlmProviderInput!) { createLlmProvider(input: $i) { id } }`, {
    i: { name: 'hosted', baseUrl: standIn.baseUrl, apiKeySecret: 'OPENAI_KEY', models: [{ alias: 'small', model: 'agent-model-1' }], pricePer1MInput: 1, pricePer1MOutput: 2 },
  });
  expect(provider.errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await standIn?.stop();
  await new Promise((resolve) => site?.close(resolve));
  if (artifactDir) await rm(artifactDir, { recursive: true, force: true });
});

const agentStep = (input: Record<string, unknown>) => ({
  id: 'agent',
  capability: 'browser.agent',
  retry: { maxAttempts: 1 },
  input: { provider: 'hosted', model: 'small', goal: 'Sign in as ada and list her orders', startUrl: `${siteUrl}/login`, maxSteps: 6, secrets: { SHOP_PASSWORD: '{{ secrets.SHOP_PASSWORD }}' }, ...input },
});
const CREATE_WORKFLOW = `mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }`;

describe('browser.agent through orchestration and a gRPC worker', () => {
  it('refuses a bad browser.agent step at createWorkflow, naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ maxSteps: 51 }, 'input.steps[0].input.maxSteps', 'INVALID_BROWSER_AGENT_INPUT'],
      [{ startUrl: 'file:///etc/passwd' }, 'input.steps[0].input.startUrl', 'INVALID_BROWSER_AGENT_INPUT'],
      [{ allowedDomains: ['not a domain'] }, 'input.steps[0].input.allowedDomains[0]', 'INVALID_BROWSER_AGENT_INPUT'],
      [{ maxStep: 3 }, 'input.steps[0].input.maxStep', 'INVALID_BROWSER_AGENT_INPUT'],
      [{ goal: undefined }, 'input.steps[0].input.goal', 'INVALID_BROWSER_AGENT_INPUT'],
      [{ provider: 'nobody' }, 'input.steps[0].input.provider', 'UNKNOWN_PROVIDER'],
    ];
    for (const [input, field, reason] of cases) {
      const res = await t.graphql(admin, CREATE_WORKFLOW, { i: { name: `bad-agent-${randomUUID().slice(0, 8)}`, steps: [agentStep(input)] } });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
    }
  });

  it('reaches the goal: the result, the steps, screenshots as artifacts, usage accounted; the secret reaches only the site', async () => {
    const created = await t.graphql<{ createWorkflow: { id: string } }>(admin, CREATE_WORKFLOW, { i: { name: 'agent-orders', steps: [agentStep({})] } });
    expect(created.errors).toBeUndefined();
    const started = await t.graphql<{ startRun: { run: { id: string } } }>(admin, `mutation($i: StartRunInput!) { startRun(input: $i) { run { id } } }`, { i: { workflowId: created.data!.createWorkflow.id } });
    expect(started.errors).toBeUndefined();
    const runId = started.data!.startRun.run.id;
    const QUERY = `query($id: ID!) { run(id: $id) { status usage { promptTokens completionTokens costUsd } tasks { id status output error { code message } usage { promptTokens completionTokens } artifacts { name contentType } logs { message } } } }`;
    type RunView = {
      status: string;
      usage: { promptTokens: number; completionTokens: number; costUsd: number };
      tasks: Array<{ id: string; status: string; output: Record<string, unknown> | null; error: { code: string; message: string } | null; usage: { promptTokens: number }; artifacts: Array<{ name: string; contentType: string }>; logs: Array<{ message: string }> }>;
    };
    const run = await eventually(
      async () => {
        const res = await t.graphql<{ run: RunView }>(admin, QUERY, { id: runId });
        return res.data?.run.status === 'SUCCEEDED' || res.data?.run.status === 'FAILED' ? res.data.run : undefined;
      },
      { timeoutMs: 120_000, what: 'the agent run to finish' },
    );
    const task = run.tasks[0]!;
    expect(task.error).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(task.output).toMatchObject({
      result: { orders: [{ id: 'A-1', total: '12.50' }, { id: 'A-2', total: '7.00' }] },
      finishReason: 'done',
      provider: 'hosted',
      model: 'agent-model-1',
    });
    expect((task.output!['steps'] as Array<{ action: string }>).map((s) => s.action)).toEqual(['type', 'type', 'done']);
    expect(task.artifacts.map((a) => [a.name, a.contentType])).toEqual([
      ['step-01.jpg', 'image/jpeg'],
      ['step-02.jpg', 'image/jpeg'],
    ]);
    expect(task.logs.filter((l) => /^step \d+: /.test(l.message)).map((l) => l.message.replace(/\[e\d+\]/g, '[ref]'))).toEqual([
      'step 1: type "ada" into [ref] textbox "User" field=user',
      'step 2: type secret SHOP_PASSWORD into [ref] textbox "Password" type=password field=password (empty) and submit',
      'step 3: done',
    ]);
    // Three model calls, each accounted for the run.
    expect(standIn.requests).toHaveLength(3);
    expect(run.usage.promptTokens).toBeGreaterThan(0);
    expect(run.usage.promptTokens).toBe(task.usage.promptTokens);
    expect(run.usage.costUsd).toBeGreaterThan(0);
    // The model never got the secret's value, and the run shows it nowhere.
    expect(JSON.stringify(standIn.requests.map((r) => r.body))).not.toContain(SECRET);
    expect(JSON.stringify(run)).not.toContain(SECRET);
  }, 180_000);
});
