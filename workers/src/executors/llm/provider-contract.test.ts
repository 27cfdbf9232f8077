import { createGuardedFetch, startOpenAiStandIn, type GuardedFetch, type OpenAiStandIn } from '@orchestra/lib';
import type { LlmProviderConfig } from '../types';
import { ProviderCallError, callProvider } from './provider-call';

/**
 * The contract the llm executor relies on from an OpenAI-compatible provider, run against:
 * - the stand-in server on 127.0.0.1 (always: hosted providers are outside services we do not run
 *   here, lib/src/openai-stand-in.ts plays one), and
 * - a real endpoint when one is configured: LLM_CONTRACT_BASE_URL (e.g. http://127.0.0.1:11434/v1
 *   for a local Ollama, or a hosted provider), LLM_CONTRACT_API_KEY, LLM_CONTRACT_MODEL
 *   (skipped otherwise).
 * The same assertions hold for both, so the stand-in cannot drift from what real servers do.
 */

interface Target {
  name: string;
  provider: () => LlmProviderConfig;
  model: string;
  /** Whether a wrong key is refused (a local server may take any). */
  checksKey: boolean;
}

let standIn: OpenAiStandIn;
let fetch: GuardedFetch;

const realBase = process.env['LLM_CONTRACT_BASE_URL'];
const targets: Target[] = [
  {
    name: 'stand-in',
    provider: () => ({ name: 'stand-in', baseUrl: standIn.baseUrl, apiKey: 'sk-contract', models: [], prices: { inputPerMillion: 0, outputPerMillion: 0 }, timeoutMs: 0, workerLocal: false }),
    model: 'stand-in-model',
    checksKey: true,
  },
  ...(realBase
    ? [
        {
          name: `real endpoint ${realBase}`,
          provider: (): LlmProviderConfig => ({ name: 'real', baseUrl: realBase, apiKey: process.env['LLM_CONTRACT_API_KEY'] ?? '', models: [], prices: { inputPerMillion: 0, outputPerMillion: 0 }, timeoutMs: 0, workerLocal: false }),
          model: process.env['LLM_CONTRACT_MODEL'] ?? 'gpt-4o-mini',
          checksKey: (process.env['LLM_CONTRACT_API_KEY'] ?? '') !== '',
        },
      ]
    : []),
];

/** What the stand-in answers: what a small instruction-following model answers to the prompts below. */
beforeAll(async () => {
  standIn = await startOpenAiStandIn({
    apiKey: 'sk-contract',
    respond: (request) => {
      if ((request.tools?.length ?? 0) > 0) return { kind: 'answer', toolCalls: [{ name: request.tools![0]!.function.name, arguments: '{"city":"Paris"}' }] };
      if (request.response_format?.type === 'json_object') return { kind: 'answer', text: '{"answer": 4}' };
      return { kind: 'answer', text: 'one, two, three, four, five', tokenDelayMs: 2 };
    },
  });
  fetch = createGuardedFetch({ allowPrivate: true });
});
afterAll(async () => {
  await Promise.all([standIn.stop(), fetch.close()]);
});

const signal = () => AbortSignal.timeout(60_000);
const count = [{ role: 'user' as const, content: 'Count from one to five in words, separated by commas. Nothing else.' }];

if (!realBase) it.todo('the same contract against a real endpoint (set LLM_CONTRACT_BASE_URL, LLM_CONTRACT_API_KEY, LLM_CONTRACT_MODEL)');

describe.each(targets)('provider contract: $name', (target) => {
  it('streams an answer in pieces whose concatenation is the text, with a finish reason and usage', async () => {
    const pieces: string[] = [];
    const answer = await callProvider({ provider: target.provider(), model: target.model, body: { messages: count, max_tokens: 50, temperature: 0 }, stream: true, timeoutMs: 30_000, signal: signal(), fetch, onToken: (t) => pieces.push(t) });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(answer.text);
    expect(answer.text.toLowerCase()).toContain('three');
    expect(['stop', 'length']).toContain(answer.finishReason);
    expect(answer.usageEstimated).toBe(false);
    expect(answer.promptTokens).toBeGreaterThan(0);
    expect(answer.completionTokens).toBeGreaterThan(0);
    expect(answer.ttftMs).toBeLessThanOrEqual(answer.durationMs);
    expect(answer.model).not.toBe('');
  });

  it('answers without streaming, with usage', async () => {
    const answer = await callProvider({ provider: target.provider(), model: target.model, body: { messages: count, max_tokens: 50, temperature: 0 }, stream: false, timeoutMs: 30_000, signal: signal(), fetch });
    expect(answer.text.toLowerCase()).toContain('three');
    expect(answer.usageEstimated).toBe(false);
    expect(answer.completionTokens).toBeGreaterThan(0);
  });

  it('answers JSON in json mode', async () => {
    const answer = await callProvider({
      provider: target.provider(),
      model: target.model,
      body: { messages: [{ role: 'user', content: 'What is 2 + 2? Answer as JSON: {"answer": <number>}' }], response_format: { type: 'json_object' }, temperature: 0, max_tokens: 50 },
      stream: true,
      timeoutMs: 30_000,
      signal: signal(),
      fetch,
    });
    expect(JSON.parse(answer.text)).toEqual({ answer: 4 });
  });

  it('streams a tool call with its name and JSON arguments', async () => {
    const answer = await callProvider({
      provider: target.provider(),
      model: target.model,
      body: {
        messages: [{ role: 'user', content: 'What is the weather in Paris? Use the tool.' }],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'current weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
        tool_choice: 'required',
        temperature: 0,
      },
      stream: true,
      timeoutMs: 30_000,
      signal: signal(),
      fetch,
    });
    expect(answer.finishReason).toBe('tool_calls');
    expect(answer.toolCalls).toHaveLength(1);
    expect(answer.toolCalls[0]).toMatchObject({ id: expect.any(String), name: 'get_weather' });
    expect((JSON.parse(answer.toolCalls[0]!.arguments) as { city: string }).city).toMatch(/paris/i);
  });

  (target.checksKey ? it : it.skip)('refuses a wrong API key with a 401 that is not an outage', async () => {
    const failure = await callProvider({ provider: { ...target.provider(), apiKey: 'sk-wrong-key' }, model: target.model, body: { messages: count, max_tokens: 5 }, stream: true, timeoutMs: 30_000, signal: signal(), fetch }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ProviderCallError);
    expect(failure).toMatchObject({ code: 'PROVIDER_REJECTED', options: { status: 401, countsAgainstCircuit: false, retryable: false } });
  });
});
