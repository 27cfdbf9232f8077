import { NonRetryableError, createGuardedFetch, startOpenAiStandIn, type GuardedFetch, type OpenAiStandIn } from '@orchestra/lib';
import { testExecutorEnvironment } from '../test-support';
import { createLlmExecutor } from './llm';
import type { ModelGatewayOptions } from './llm/model-gateway';
import { RetryableError, type Executor, type ExecutorContext, type JsonValue, type LlmProviderConfig, type ModelCallRecord } from './types';

// Model providers are outside services we do not run here: these tests talk to a stand-in HTTP
// server on 127.0.0.1 that speaks the OpenAI wire protocol (lib/src/openai-stand-in.ts). Everything
// between the executor and that server is real: the openai package, HTTP, SSE parsing, timeouts.

let primary: OpenAiStandIn;
let secondary: OpenAiStandIn;
let fetch: GuardedFetch;
const stops: Array<() => void> = [];

beforeAll(async () => {
  primary = await startOpenAiStandIn({ apiKey: 'sk-primary' });
  secondary = await startOpenAiStandIn({ apiKey: 'sk-secondary' });
  fetch = createGuardedFetch({ allowPrivate: true });
});
afterEach(() => {
  primary.reset();
  secondary.reset();
});
afterAll(async () => {
  for (const stop of stops) stop();
  await Promise.all([primary.stop(), secondary.stop(), fetch.close()]);
});

const provider = (name: string, server: OpenAiStandIn, extra: Partial<LlmProviderConfig> = {}): LlmProviderConfig => ({
  name,
  baseUrl: server.baseUrl,
  apiKey: server === primary ? 'sk-primary' : 'sk-secondary',
  models: [{ alias: 'fast', model: `${name}-fast-1` }],
  prices: { inputPerMillion: 1, outputPerMillion: 2 },
  timeoutMs: 0,
  workerLocal: false,
  ...extra,
});

interface Recorded {
  deltas: Array<{ text: string; restart: boolean }>;
  calls: ModelCallRecord[];
  logs: string[];
}

let orgCounter = 0;
/** A fresh organization per context, so breakers and cool-downs of one test never reach another. */
const context = (providers: LlmProviderConfig[], signal = new AbortController().signal): { ctx: ExecutorContext; seen: Recorded } => {
  const seen: Recorded = { deltas: [], calls: [], logs: [] };
  orgCounter += 1;
  return {
    seen,
    ctx: {
      signal,
      attemptId: `attempt-${orgCounter}`,
      taskId: 'task-1',
      runId: 'run-1',
      orgId: `org-${orgCounter}`,
      stepId: 'ask',
      attempt: 1,
      progress: () => undefined,
      log: (level, message) => seen.logs.push(`${level}: ${message}`),
      delta: (text, options) => seen.deltas.push({ text, restart: options?.restart === true }),
      modelCall: (call) => seen.calls.push(call),
      llmProviders: new Map(providers.map((p) => [p.name, p])),
      gpus: [],
      storeArtifact: () => Promise.reject(new Error('no artifact store in this test')),
      artifactsStored: () => [],
    },
  };
};

const executor = (llm: Partial<ModelGatewayOptions> = {}): Executor<never> => {
  const environment = testExecutorEnvironment(fetch, llm);
  stops.push(() => environment.llm.models.stop());
  return createLlmExecutor(environment);
};

const run = (exec: Executor<never>, input: unknown, ctx: ExecutorContext): Promise<JsonValue> => exec.run(exec.input.parse(input), ctx);
type Output = Record<string, JsonValue> & { text: string; usage: Record<string, number> };
const ask = (text: string) => [{ role: 'user', content: text }];

describe('llm: answers', () => {
  it('streams the answer as deltas in order, and the output holds the whole text, provider, model, usage and cost', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: 'The quick brown fox jumps over the lazy dog.', tokenDelayMs: 5 });
    const { ctx, seen } = context([provider('primary', primary)]);
    const output = (await run(exec, { provider: 'primary', model: 'fast', messages: ask('tell me about foxes'), maxTokens: 100, temperature: 0.2 }, ctx)) as Output;

    expect(seen.deltas.length).toBeGreaterThan(1);
    expect(seen.deltas.map((d) => d.text).join('')).toBe('The quick brown fox jumps over the lazy dog.');
    expect(output).toMatchObject({ text: 'The quick brown fox jumps over the lazy dog.', finishReason: 'stop', provider: 'primary', model: 'primary-fast-1' });
    // The stand-in counts a word as a token: 9 completion tokens; the prompt is its words + 4 per message.
    expect(output.usage).toMatchObject({ promptTokens: 4 + 4, completionTokens: 9, totalTokens: 17, estimated: false });
    expect(output['costUsd']).toBeCloseTo((8 * 1 + 9 * 2) / 1_000_000, 12);
    expect(output['ttftMs']).toEqual(expect.any(Number));
    expect(output['tokensPerSecond']).toBeGreaterThan(0);

    // What went over the wire: the key, the provider's name for the alias, the options, streaming with usage.
    const sent = primary.requests[0]!;
    expect(sent.headers.authorization).toBe('Bearer sk-primary');
    expect(sent.body).toMatchObject({ model: 'primary-fast-1', stream: true, stream_options: { include_usage: true }, max_tokens: 100, temperature: 0.2 });
    expect(seen.calls).toEqual([expect.objectContaining({ provider: 'primary', model: 'primary-fast-1', requestedModel: 'fast', promptTokens: 8, completionTokens: 9 })]);
    expect(seen.calls[0]!.error).toBeUndefined();
  });

  it('asks without streaming when stream is false, and prices an alias with its own prices', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: 'one two three' });
    const { ctx, seen } = context([provider('primary', primary, { models: [{ alias: 'big', model: 'big-model', prices: { inputPerMillion: 10, outputPerMillion: 30 } }] })]);
    const output = (await run(exec, { provider: 'primary', model: 'big', messages: ask('count'), stream: false }, ctx)) as Output;
    expect(primary.requests[0]!.body.stream).toBe(false);
    expect(output.text).toBe('one two three');
    expect(seen.deltas).toEqual([{ text: 'one two three', restart: false }]);
    expect(output['costUsd']).toBeCloseTo((5 * 10 + 3 * 30) / 1_000_000, 12);
  });

  it('returns tool calls with their arguments parsed', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', toolCalls: [{ name: 'lookup', arguments: '{"city":"Paris","days":3}' }] });
    const { ctx } = context([provider('primary', primary)]);
    const tools = [{ type: 'function', function: { name: 'lookup', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const output = (await run(exec, { provider: 'primary', model: 'fast', messages: ask('weather in Paris?'), tools, toolChoice: 'required' }, ctx)) as Output;
    expect(output['finishReason']).toBe('tool_calls');
    expect(output['toolCalls']).toEqual([{ id: expect.any(String), name: 'lookup', arguments: { city: 'Paris', days: 3 } }]);
    expect(primary.requests[0]!.body).toMatchObject({ tools: [{ type: 'function', function: { name: 'lookup' } }], tool_choice: 'required' });
  });

  it('estimates the usage when the provider reports none', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: 'abcdefgh', omitUsage: true });
    const { ctx } = context([provider('primary', primary)]);
    const output = (await run(exec, { provider: 'primary', model: 'fast', messages: ask('x') }, ctx)) as Output;
    expect(output.usage).toMatchObject({ completionTokens: 2, estimated: true });
  });
});

describe('llm: fallback', () => {
  it('goes to the second provider when the first answers 500, logs the skip and accounts for both calls', async () => {
    const exec = executor();
    primary.script({ kind: 'error', status: 500, message: 'upstream exploded' });
    secondary.script({ kind: 'answer', text: 'from the second' });
    const { ctx, seen } = context([provider('primary', primary), provider('secondary', secondary)]);
    const output = (await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('hi') }, ctx)) as Output;
    expect(output).toMatchObject({ text: 'from the second', provider: 'secondary', skipped: [{ provider: 'primary', code: 'PROVIDER_HTTP_5XX' }] });
    expect(seen.logs).toContainEqual(expect.stringMatching(/^warn: provider primary skipped \(PROVIDER_HTTP_5XX\): HTTP 500: .*upstream exploded/));
    expect(seen.calls.map((c) => [c.provider, c.error?.code])).toEqual([
      ['primary', 'PROVIDER_HTTP_5XX'],
      ['secondary', undefined],
    ]);
    expect(secondary.requests[0]!.headers.authorization).toBe('Bearer sk-secondary');
  });

  it('honours a 429 Retry-After: skipped now, not called again by the next task until it has passed', async () => {
    const exec = executor();
    const providers = [provider('primary', primary), provider('secondary', secondary)];
    const { ctx } = context(providers);
    primary.script({ kind: 'error', status: 429, message: 'slow down', retryAfterSeconds: 1 });
    const first = (await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('one') }, ctx)) as Output;
    expect(first).toMatchObject({ provider: 'secondary', skipped: [{ provider: 'primary', code: 'PROVIDER_RATE_LIMITED' }] });
    expect(primary.requests).toHaveLength(1);

    // Another task of the same organization on this worker: the primary is cooling down, not asked.
    const again = context(providers).ctx;
    const second = (await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('two') }, { ...again, orgId: ctx.orgId })) as Output;
    expect(second).toMatchObject({ provider: 'secondary', skipped: [{ provider: 'primary', code: 'PROVIDER_COOLING_DOWN' }] });
    expect(primary.requests).toHaveLength(1);

    await new Promise((r) => setTimeout(r, 1_050));
    const third = (await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('three') }, { ...again, orgId: ctx.orgId })) as Output;
    expect(third['provider']).toBe('primary');
    expect(primary.requests).toHaveLength(2);
  });

  it('opens a provider circuit after repeated failures, and closes it after a successful half-open probe', async () => {
    const exec = executor({ circuitFailureThreshold: 3, circuitResetMs: 300 });
    const providers = [provider('primary', primary), provider('secondary', secondary)];
    const { ctx } = context(providers);
    const input = { providers: ['primary', 'secondary'], model: 'fast', messages: ask('hi') };
    primary.respondWith(() => ({ kind: 'error', status: 503, message: 'overloaded' }));
    try {
      for (let i = 0; i < 3; i += 1) await run(exec, input, ctx);
      expect(primary.requests).toHaveLength(3);
      // Open: the primary is not even asked.
      const whileOpen = (await run(exec, input, ctx)) as Output;
      expect(whileOpen['skipped']).toEqual([expect.objectContaining({ provider: 'primary', code: 'PROVIDER_CIRCUIT_OPEN' })]);
      expect(primary.requests).toHaveLength(3);

      // After the reset period one probe goes through; it succeeds and the circuit closes.
      primary.respondWith((request) => ({ kind: 'answer', text: `probe ok ${String(request.model)}` }));
      await new Promise((r) => setTimeout(r, 350));
      const probe = (await run(exec, input, ctx)) as Output;
      expect(probe['provider']).toBe('primary');
      const after = (await run(exec, input, ctx)) as Output;
      expect(after['provider']).toBe('primary');
      expect(primary.requests).toHaveLength(5);
    } finally {
      primary.respondWith((request) => ({ kind: 'answer', text: `You said: ${JSON.stringify(request.messages?.at(-1)?.content)}` }));
    }
  });

  it('a failed half-open probe opens the circuit again', async () => {
    const exec = executor({ circuitFailureThreshold: 2, circuitResetMs: 200 });
    const { ctx } = context([provider('primary', primary)]);
    const input = { provider: 'primary', model: 'fast', messages: ask('hi') };
    primary.script({ kind: 'error', status: 500 }, { kind: 'error', status: 500 }, { kind: 'error', status: 502 });
    for (let i = 0; i < 2; i += 1) await expect(run(exec, input, ctx)).rejects.toThrow(RetryableError);
    await expect(run(exec, input, ctx)).rejects.toThrow(/PROVIDER_CIRCUIT_OPEN/);
    await new Promise((r) => setTimeout(r, 250));
    await expect(run(exec, input, ctx)).rejects.toThrow(/PROVIDER_HTTP_5XX/);
    await expect(run(exec, input, ctx)).rejects.toThrow(/PROVIDER_CIRCUIT_OPEN/);
    expect(primary.requests).toHaveLength(3);
  });

  it('fails the attempt as retryable, listing each provider\'s error, when every provider fails', async () => {
    const exec = executor();
    primary.script({ kind: 'error', status: 500, message: 'primary broke' });
    secondary.script({ kind: 'error', status: 429, message: 'secondary busy', retryAfterSeconds: 7 });
    const { ctx } = context([provider('primary', primary), provider('secondary', secondary)]);
    const failure = await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('hi') }, ctx).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RetryableError);
    expect(failure).toMatchObject({ code: 'ALL_PROVIDERS_FAILED', retryAfterMs: 7_000 });
    expect((failure as Error).message).toMatch(/primary: PROVIDER_HTTP_5XX HTTP 500: .*primary broke.*; secondary: PROVIDER_RATE_LIMITED HTTP 429: .*secondary busy/);
  });

  it('fails without retry when every provider refuses the request itself (4xx)', async () => {
    const exec = executor();
    primary.script({ kind: 'error', status: 400, message: 'context too long' });
    const { ctx } = context([provider('primary', primary)]);
    const failure = await run(exec, { provider: 'primary', model: 'fast', messages: ask('hi') }, ctx).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NonRetryableError);
    expect(failure).toMatchObject({ code: 'PROVIDER_REJECTED' });
    expect((failure as Error).message).toMatch(/HTTP 400: .*context too long/);
  });

  it('treats a wrong API key as a refusal, not an outage', async () => {
    const exec = executor();
    const { ctx } = context([provider('primary', primary, { apiKey: 'sk-wrong' })]);
    await expect(run(exec, { provider: 'primary', model: 'fast', messages: ask('hi') }, ctx)).rejects.toMatchObject({ code: 'PROVIDER_REJECTED', message: expect.stringMatching(/HTTP 401/) });
  });

  it('times out a provider that sends no first token, and one that stalls mid-stream (restarting the streamed text)', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: 'too late', firstTokenDelayMs: 5_000 });
    secondary.script({ kind: 'answer', text: 'on time' });
    const slow = context([provider('primary', primary, { timeoutMs: 150 }), provider('secondary', secondary)]);
    const started = Date.now();
    const output = (await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('hi') }, slow.ctx)) as Output;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(output).toMatchObject({ text: 'on time', skipped: [{ provider: 'primary', code: 'PROVIDER_TIMEOUT', message: 'no answer within 150 ms' }] });
    expect(primary.requests[0]!.abortedAt).toEqual(expect.any(Number));

    primary.script({ kind: 'stall', text: 'half of an answer that never ends', afterTokens: 3 });
    secondary.script({ kind: 'answer', text: 'a whole answer' });
    const stalled = context([provider('primary', primary, { timeoutMs: 150 }), provider('secondary', secondary)]);
    const recovered = (await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('hi') }, stalled.ctx)) as Output;
    expect(recovered['skipped']).toEqual([{ provider: 'primary', code: 'PROVIDER_TIMEOUT', message: 'no new token for 150 ms' }]);
    // The subscriber saw three tokens of the first answer, then the second answer from the start.
    const restartAt = stalled.seen.deltas.findIndex((d) => d.restart);
    expect(stalled.seen.deltas.slice(0, restartAt).map((d) => d.text).join('')).toBe('half of an ');
    expect(stalled.seen.deltas.slice(restartAt).map((d) => d.text).join('')).toBe('a whole answer');
    // The stalled call spent tokens: it is accounted as a failed call with what it streamed.
    expect(stalled.seen.calls[0]).toMatchObject({ provider: 'primary', error: { code: 'PROVIDER_TIMEOUT' } });
    expect(stalled.seen.calls[0]!.completionTokens).toBeGreaterThan(0);
  });

  it('goes on to the next provider when a stream breaks off', async () => {
    const exec = executor();
    primary.script({ kind: 'break', text: 'this will break soon', afterTokens: 2 });
    secondary.script({ kind: 'answer', text: 'fine' });
    const { ctx } = context([provider('primary', primary), provider('secondary', secondary)]);
    const output = (await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('hi') }, ctx)) as Output;
    expect(output).toMatchObject({ text: 'fine', skipped: [{ provider: 'primary', code: 'PROVIDER_UNREACHABLE' }] });
  });

  it('accounts for the tokens of a stream cut mid-way through a tool call', async () => {
    const exec = executor();
    primary.script({ kind: 'break', text: '', afterTokens: 0, toolCalls: [{ name: 'lookup', arguments: JSON.stringify({ query: 'a long question about many things '.repeat(4) }) }] });
    secondary.script({ kind: 'answer', text: 'fine' });
    const cut = context([provider('primary', primary), provider('secondary', secondary)]);
    await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('hi') }, cut.ctx);
    // The failed call spent the prompt and the tool call's pieces it streamed: both counted, and priced.
    expect(cut.seen.calls[0]).toMatchObject({ provider: 'primary', error: { code: 'PROVIDER_UNREACHABLE' } });
    expect(cut.seen.calls[0]!.promptTokens).toBeGreaterThan(0);
    expect(cut.seen.calls[0]!.completionTokens).toBeGreaterThan(10);
    expect(cut.seen.calls[0]!.costUsd).toBeGreaterThan(0);
  });

  it('accounts for the tokens a provider reported with an answer it then got wrong (no choices, no finish), streamed or not', async () => {
    const exec = executor();
    for (const stream of [true, false]) {
      primary.script({ kind: 'noChoices', completionTokens: 37 });
      secondary.script({ kind: 'answer', text: 'fine' });
      const { ctx, seen } = context([provider('primary', primary), provider('secondary', secondary)]);
      const output = (await run(exec, { providers: ['primary', 'secondary'], model: 'fast', messages: ask('hi'), stream }, ctx)) as Output;
      expect(output['skipped']).toEqual([{ provider: 'primary', code: stream ? 'PROVIDER_UNREACHABLE' : 'PROVIDER_BAD_ANSWER', message: expect.any(String) }]);
      // The failed call is accounted with the provider's own counts (the stand-in's prompt count is 4 + 1 word).
      expect(seen.calls[0]).toMatchObject({ provider: 'primary', promptTokens: 5, completionTokens: 37, error: { code: stream ? 'PROVIDER_UNREACHABLE' : 'PROVIDER_BAD_ANSWER' } });
      expect(seen.calls[0]!.costUsd).toBeGreaterThan(0);
      expect(output.usage['completionTokens']).toBe(37 + seen.calls[1]!.completionTokens);
    }
  });

  it('aborts the HTTP stream at once when the attempt is cancelled', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: 'word '.repeat(200), tokenDelayMs: 50 });
    const controller = new AbortController();
    const { ctx, seen } = context([provider('primary', primary)], controller.signal);
    const running = run(exec, { provider: 'primary', model: 'fast', messages: ask('go on') }, ctx);
    while (seen.deltas.length < 2) await new Promise((r) => setTimeout(r, 10));
    const cancelledAt = Date.now();
    controller.abort(new Error('cancelled'));
    await expect(running).rejects.toThrow();
    while (primary.requests[0]!.abortedAt === undefined) await new Promise((r) => setTimeout(r, 5));
    // Long before the 10 s the whole answer would take (generous: the machine may be busy).
    expect(primary.requests[0]!.abortedAt - cancelledAt).toBeLessThan(3_000);
    expect(seen.deltas.length).toBeLessThan(20);
  });
});

describe('llm: JSON answers', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } }, required: ['name', 'age'], additionalProperties: false };
  const input = { provider: 'primary', model: 'fast', messages: ask('who?'), responseFormat: { type: 'jsonSchema', schema } };

  it('returns the parsed JSON of a valid answer, and sends the schema to the provider', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: '{"name": "Ada", "age": 36}' });
    const { ctx } = context([provider('primary', primary)]);
    const output = (await run(exec, input, ctx)) as Output;
    expect(output['json']).toEqual({ name: 'Ada', age: 36 });
    expect(primary.requests[0]!.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'answer', schema, strict: false } });
    expect(output['reasked']).toBeUndefined();
  });

  it('asks once more with the validation error when the first answer is invalid', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: '{"name": "Ada", "age": "thirty-six"}' }, { kind: 'answer', text: '```json\n{"name": "Ada", "age": 36}\n```' });
    const { ctx, seen } = context([provider('primary', primary)]);
    const output = (await run(exec, input, ctx)) as Output;
    expect(output).toMatchObject({ json: { name: 'Ada', age: 36 }, reasked: true });
    const reask = primary.requests[1]!.body.messages!;
    expect(reask.at(-2)).toEqual({ role: 'assistant', content: '{"name": "Ada", "age": "thirty-six"}' });
    expect(String(reask.at(-1)!.content)).toMatch(/at \/age: must be integer/);
    // Both calls are paid for and summed in the output.
    expect(seen.calls).toHaveLength(2);
    expect(output.usage['completionTokens']).toBe(seen.calls[0]!.completionTokens + seen.calls[1]!.completionTokens);
    expect(seen.deltas.filter((d) => d.restart)).toHaveLength(1);
  });

  it('fails as INVALID_MODEL_OUTPUT naming the path when the re-ask is invalid too', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: '{"name": "Ada"}' }, { kind: 'answer', text: '{"name": 7, "age": 1}' });
    const { ctx } = context([provider('primary', primary)]);
    const failure = await run(exec, input, ctx).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NonRetryableError);
    expect(failure).toMatchObject({ code: 'INVALID_MODEL_OUTPUT', message: expect.stringMatching(/at \/name: must be string/) });
  });

  it('json mode accepts any JSON and re-asks when the answer is not JSON', async () => {
    const exec = executor();
    primary.script({ kind: 'answer', text: 'Sure! Here it is: {' }, { kind: 'answer', text: '[1, 2, 3]' });
    const { ctx } = context([provider('primary', primary)]);
    const output = (await run(exec, { ...input, responseFormat: 'json' }, ctx)) as Output;
    expect(output['json']).toEqual([1, 2, 3]);
    expect(primary.requests[0]!.body.response_format).toEqual({ type: 'json_object' });
  });

  it('refuses a schema that is not a JSON schema, without calling the provider', async () => {
    const exec = executor();
    const { ctx } = context([provider('primary', primary)]);
    await expect(run(exec, { ...input, responseFormat: { type: 'jsonSchema', schema: { type: 'no-such-type' } } }, ctx)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringMatching(/^input\.responseFormat\.schema: not a valid JSON schema/),
    });
    expect(primary.requests).toHaveLength(0);
  });
});

describe('llm: where providers may be reached', () => {
  it('skips a worker-local provider on a worker that does not declare it, and uses it where declared', async () => {
    const local = provider('ollama', primary, { workerLocal: true });
    const elsewhere = executor();
    const { ctx } = context([local]);
    await expect(run(elsewhere, { provider: 'ollama', model: 'fast', messages: ask('hi') }, ctx)).rejects.toMatchObject({ code: 'ALL_PROVIDERS_FAILED', message: expect.stringMatching(/PROVIDER_NOT_LOCAL/) });
    expect(primary.requests).toHaveLength(0);

    const here = executor({ localEndpoints: [`${primary.baseUrl}/`] });
    const output = (await run(here, { provider: 'ollama', model: 'fast', messages: ask('hi') }, context([local]).ctx)) as Output;
    expect(output['provider']).toBe('ollama');
  });

  it('refuses a hosted provider whose base URL is a private address', async () => {
    const guarded = createGuardedFetch({ allowPrivate: false });
    try {
      const environment = testExecutorEnvironment(guarded);
      stops.push(() => environment.llm.models.stop());
      const exec = createLlmExecutor(environment);
      const { ctx } = context([provider('primary', primary)]);
      await expect(run(exec, { provider: 'primary', model: 'fast', messages: ask('hi') }, ctx)).rejects.toMatchObject({ code: 'PROVIDER_REJECTED', message: expect.stringMatching(/the address is not allowed/) });
      expect(primary.requests).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });

  it('fails clearly when the task did not bring a provider the step names', async () => {
    const exec = executor();
    const { ctx } = context([]);
    await expect(run(exec, { providers: ['primary'], model: 'fast', messages: ask('hi') }, ctx)).rejects.toMatchObject({ code: 'UNKNOWN_PROVIDER', message: expect.stringMatching(/^input\.provider/) });
  });
});

describe('llm: input', () => {
  const issues = (input: unknown) => {
    const result = executor().input.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  const valid = { provider: 'primary', model: 'fast', messages: ask('hi') };

  it('names the field at fault', () => {
    expect(issues(valid)).toEqual([]);
    expect(issues({ ...valid, maxTokens: 0 })).toEqual(['maxTokens: expects an integer from 1 to 131072']);
    expect(issues({ ...valid, maxTokens: 1e9 })).toEqual(['maxTokens: expects an integer from 1 to 131072']);
    expect(issues({ ...valid, messages: 'hello' })).toEqual(['messages: expects an array of messages']);
    expect(issues({ ...valid, messages: [] })).toEqual(['messages: expects at least one message']);
    expect(issues({ ...valid, messages: [{ role: 'robot', content: 'x' }] })[0]).toMatch(/^messages\.0\.role/);
    expect(issues({ ...valid, temperature: 3 })).toEqual(['temperature: expects a number from 0 to 2']);
    expect(issues({ model: 'fast', messages: ask('hi') })).toEqual(['provider: expects a provider (or providers: [...])']);
    expect(issues({ ...valid, providers: ['a'] })).toEqual(['providers: give either provider or providers, not both']);
    expect(issues({ ...valid, provider: 'Bad Name' })[0]).toMatch(/^provider: expects a provider name/);
    expect(issues({ ...valid, provider: undefined, providers: ['a', 'a'] })).toEqual(['providers: names a provider twice']);
    expect(issues({ ...valid, responseFormat: 'xml' })[0]).toMatch(/^responseFormat: expects "text", "json" or \{ type: "jsonSchema", schema \}/);
  });
});
