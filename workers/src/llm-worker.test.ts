import { startOpenAiStandIn, unaryCall, type OpenAiStandIn } from '@orchestra/lib';
import { automationV1 } from '@orchestra/proto';
import { asOrchestrator, execute, nextAttemptId, resultOf, startTestRegistry, startWorker, type Started, type TestRegistry } from './test-support';

// The model provider is an outside service we do not run: a stand-in HTTP server on 127.0.0.1 that
// speaks the OpenAI wire protocol plays it. The worker, its gRPC server and the openai client are real.

describe('llm attempts through the worker', () => {
  let registry: TestRegistry;
  let started: Started;
  let local: OpenAiStandIn;

  const providerOf = (server: OpenAiStandIn, apiKey = 'sk-secret-value-123'): automationV1.LlmProvider =>
    automationV1.LlmProvider.fromPartial({ name: 'ollama', baseUrl: server.baseUrl, apiKey, workerLocal: true, inputPricePerMillion: 1, outputPricePerMillion: 1, models: [{ alias: 'small', model: 'llama3.2:1b' }] });

  beforeAll(async () => {
    local = await startOpenAiStandIn({ apiKey: 'sk-secret-value-123' });
    registry = await startTestRegistry();
    // The stand-in plays the GPU box's own model server: the worker declares it as a local endpoint.
    started = await startWorker(registry, { WORKER_LLM_ENDPOINTS: local.baseUrl });
  });

  afterAll(async () => {
    started.client.close();
    await started.worker.stop();
    await registry.stop();
    await local.stop();
  });

  it('declares its local model endpoints in Register and Describe', async () => {
    const described = await unaryCall(started.client, started.client.describe, {}, asOrchestrator());
    expect(described.llmEndpoints).toEqual([local.baseUrl]);
    await new Promise((r) => setTimeout(r, 200));
    expect(registry.registers.at(-1)?.worker?.llmEndpoints).toEqual([local.baseUrl]);
  });

  it('streams tokens as delta messages in order, a model call record, then the result; the key is never logged', async () => {
    local.script({ kind: 'answer', text: 'alpha beta gamma delta', tokenDelayMs: 5 });
    const attemptId = nextAttemptId('llm');
    const run = execute(started.client, {
      attemptId,
      orgId: 'org-a',
      capability: 'llm',
      input: { provider: 'ollama', model: 'small', messages: [{ role: 'user', content: 'say four words' }] },
      llmProviders: [providerOf(local)],
    });
    expect(await run.ended).toBeUndefined();
    const kinds = run.events.map((e) => e.event?.$case);
    expect(kinds.at(-1)).toBe('result');
    const deltas = run.events.flatMap((e) => (e.event?.$case === 'delta' ? [e.event.value.text] : []));
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('alpha beta gamma delta');
    const calls = run.events.flatMap((e) => (e.event?.$case === 'modelCall' ? [e.event.value] : []));
    expect(calls).toEqual([expect.objectContaining({ provider: 'ollama', model: 'llama3.2:1b', requestedModel: 'small', promptTokens: 7, completionTokens: 4, errorCode: '' })]);
    // The model call comes after the last delta and before the result.
    expect(kinds.lastIndexOf('delta')).toBeLessThan(kinds.indexOf('modelCall'));
    const result = resultOf(run.events);
    expect(result?.outcome).toMatchObject({ $case: 'success', value: { output: { text: 'alpha beta gamma delta', provider: 'ollama', model: 'llama3.2:1b' } } });
    expect(JSON.stringify(started.log.lines)).not.toContain('sk-secret-value-123');
  });

  it('reports a provider Retry-After on the failure so the next attempt waits', async () => {
    local.script({ kind: 'error', status: 429, retryAfterSeconds: 3 });
    const run = execute(started.client, {
      attemptId: nextAttemptId('llm-429'),
      orgId: 'org-b',
      capability: 'llm',
      input: { provider: 'ollama', model: 'small', messages: [{ role: 'user', content: 'hi' }] },
      llmProviders: [providerOf(local)],
    });
    expect(await run.ended).toBeUndefined();
    expect(resultOf(run.events)?.outcome).toMatchObject({ $case: 'failure', value: { code: 'ALL_PROVIDERS_FAILED', retryable: true, retryAfterMs: 3_000 } });
  });

  it('cancel aborts the provider stream at once', async () => {
    local.script({ kind: 'answer', text: 'token '.repeat(500), tokenDelayMs: 20 });
    const attemptId = nextAttemptId('llm-cancel');
    const run = execute(started.client, {
      attemptId,
      orgId: 'org-c',
      capability: 'llm',
      input: { provider: 'ollama', model: 'small', messages: [{ role: 'user', content: 'go' }] },
      llmProviders: [providerOf(local)],
    });
    await run.firstEvent;
    while (run.events.filter((e) => e.event?.$case === 'delta').length < 3) await new Promise((r) => setTimeout(r, 10));
    const cancelledAt = Date.now();
    await unaryCall(started.client, started.client.cancel, { attemptId, reason: 'test' }, asOrchestrator());
    expect(await run.ended).toBeUndefined();
    expect(resultOf(run.events)?.outcome).toMatchObject({ $case: 'failure', value: { code: 'CANCELLED' } });
    const request = local.requests.at(-1)!;
    while (request.abortedAt === undefined) await new Promise((r) => setTimeout(r, 5));
    // Long before the 10 s the whole answer would take (generous: the machine may be busy).
    expect(request.abortedAt - cancelledAt).toBeLessThan(3_000);
  });
});
