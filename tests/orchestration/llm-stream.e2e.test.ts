import { createClient, type Client, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { eventually, startOpenAiStandIn, type OpenAiStandIn } from '@orchestra/lib';
import type { Platform } from '../src/platform';
import { as, createWorkflow, signUp, startOrchestraPlatform, startRun, waitForRun, type Session } from './helpers';

/**
 * Issue 14's token streaming end to end: a model's answer reaches a graphql-ws subscriber on a real
 * WebSocket to the gateway as TASK_OUTPUT_DELTA run events, in more than one delta, in order, and the
 * stored output is their concatenation. The model provider is an outside service we do not run: a
 * stand-in HTTP server on 127.0.0.1 (lib/src/openai-stand-in.ts) speaks the OpenAI wire protocol and
 * paces its answer token by token. Everything else is real: gateway, identity, orchestration, a
 * worker process, PostgreSQL and Redis.
 */

let platform: Platform;
let standIn: OpenAiStandIn;
let owner: Session;
let other: Session;
const clients: Client[] = [];

interface DeltaView {
  seq: number;
  kind: string;
  stepId: string | null;
  outputDelta: { seq: number; offset: number; text: string; restart: boolean } | null;
}

const WATCH = `
  subscription Watch($runId: ID!) {
    runEvents(runId: $runId, afterSeq: 0) { seq kind stepId outputDelta { seq offset text restart } }
  }
`;

function watch(session: Session, runId: string) {
  const client = createClient({ url: platform.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${session.accessToken}` } });
  clients.push(client);
  const events: DeltaView[] = [];
  const errors: unknown[] = [];
  const completed = new Promise<void>((resolve) => {
    client.subscribe(
      { query: WATCH, variables: { runId } },
      {
        next: (result: ExecutionResult<{ runEvents: DeltaView }>) => {
          if (result.errors) errors.push(...result.errors);
          if (result.data) events.push(result.data.runEvents);
        },
        error: (error) => {
          errors.push(error);
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return { events, errors, completed };
}

beforeAll(async () => {
  standIn = await startOpenAiStandIn({});
  // The stand-in is on 127.0.0.1: the worker may reach private addresses (a hosted provider would be public).
  platform = await startOrchestraPlatform(1);
  owner = await signUp(platform, 'Streaming Org');
  other = await signUp(platform, 'Other Org');
  await eventually(
    async () => {
      const res = await platform.graphql<{ capabilities: string[] }>('{ capabilities }', {}, as(owner));
      return res.data?.capabilities.includes('llm') ? true : undefined;
    },
    { timeoutMs: 60_000, what: 'a worker offering llm' },
  );
  const provider = await platform.graphql(`mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { id } }`, { input: { name: 'stand-in', baseUrl: standIn.baseUrl } }, as(owner));
  expect(provider.errors).toBeUndefined();
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(clients.map(async (c) => c.dispose()));
  await platform?.stop();
  await standIn?.stop();
});

describe('a streamed model answer through the gateway', () => {
  it('reaches a graphql-ws subscriber in more than one delta, in order, and the stored output is their concatenation', async () => {
    const answer = Array.from({ length: 80 }, (_, i) => `token${i}`).join(' ');
    standIn.script({ kind: 'answer', text: answer, tokenDelayMs: 25 });
    await createWorkflow(platform, owner, 'ask', [{ id: 'ask', capability: 'llm', input: { provider: 'stand-in', model: 'gpt-small-1', messages: [{ role: 'user', content: 'Count' }] }, retry: { maxAttempts: 1 } }]);
    const { id: runId } = await startRun(platform, owner, { workflowName: 'ask', input: {} });
    const live = watch(owner, runId);
    const intruder = watch(other, runId);
    await live.completed;
    await intruder.completed;
    expect(live.errors).toEqual([]);

    const seqs = live.events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const deltas = live.events.filter((e) => e.kind === 'TASK_OUTPUT_DELTA');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.every((e) => e.stepId === 'ask')).toBe(true);
    expect(deltas.map((e) => e.outputDelta!.seq)).toEqual(deltas.map((_, i) => i + 1));
    const text = deltas.reduce((sofar, e) => (e.outputDelta!.restart ? e.outputDelta!.text : sofar + e.outputDelta!.text), '');

    const run = await waitForRun(platform, owner, runId);
    expect(run.status).toBe('SUCCEEDED');
    const output = run.tasks[0]!.output as { text: string };
    expect(output.text).toBe(answer);
    expect(text).toBe(output.text);

    // Another organization's subscriber gets NOT_FOUND and not one delta.
    expect(intruder.events).toEqual([]);
    expect(intruder.errors).toEqual([[expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) as unknown })]]);
  });

  it('exports the organization’s usage as CSV with the caller’s credential, its own organization only', async () => {
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const url = (query: string) => new URL(`/usage.csv?${query}`, platform.gatewayUrl);
    const get = (query: string, session?: Session) => fetch(url(query), { headers: session ? { authorization: `Bearer ${session.accessToken}` } : {} });
    const mine = await get(`from=${from}&to=${to}&groupBy=PROVIDER`, owner);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(mine.headers.get('content-disposition')).toMatch(/^attachment; filename="usage-provider-/);
    const [header, ...rows] = (await mine.text()).trim().split('\r\n');
    expect(header).toBe('key,name,calls,failedCalls,promptTokens,completionTokens,totalTokens,costUsd,gpuSeconds');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.split(',').slice(0, 4)).toEqual(['stand-in', '', '1', '0']);
    // By day (the default grouping): today's UTC line, with the same totals as usage(groupBy: DAY) in GraphQL.
    const byDay = await get(`from=${from}&to=${to}`, owner);
    expect(byDay.headers.get('content-disposition')).toMatch(/^attachment; filename="usage-day-/);
    const [dayHeader, ...dayRows] = (await byDay.text()).trim().split('\r\n');
    expect(dayHeader).toBe(header);
    const graphql = await platform.graphql<{ usage: Array<{ key: string; calls: number; promptTokens: number; completionTokens: number; totalTokens: number; costUsd: number }> }>(
      'query($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to, groupBy: DAY) { key calls promptTokens completionTokens totalTokens costUsd } }',
      { from, to },
      as(owner),
    );
    expect(graphql.errors).toBeUndefined();
    expect(graphql.data!.usage.map((g) => g.key)).toEqual([new Date().toISOString().slice(0, 10)]);
    const day = graphql.data!.usage[0]!;
    expect(dayRows).toHaveLength(1);
    expect(dayRows[0]!.split(',').slice(0, 7)).toEqual([day.key, '', String(day.calls), '0', String(day.promptTokens), String(day.completionTokens), String(day.totalTokens)]);
    expect(day.calls).toBe(1);
    expect(day.completionTokens).toBeGreaterThan(1);
    // The other organization made no model request: a header and nothing else.
    expect((await (await get(`from=${from}&to=${to}`, other)).text()).trim().split('\r\n')).toEqual([header]);
    // No credential, a missing field, a bad range: refused with the field named.
    expect((await get(`from=${from}&to=${to}`)).status).toBe(401);
    const missing = await get(`to=${to}`, owner);
    expect([missing.status, await missing.text()]).toEqual([400, expect.stringContaining('BAD_USER_INPUT (from)') as unknown]);
    const backwards = await get(`from=${to}&to=${from}`, owner);
    expect([backwards.status, await backwards.text()]).toEqual([400, expect.stringContaining('BAD_USER_INPUT (to)') as unknown]);
  });
});
