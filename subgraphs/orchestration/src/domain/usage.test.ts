import type { automationV1 } from '@orchestra/proto';
import { costUsd, gpuUsageOf, modelCallRow, pricesOf, tokensPerSecond } from './usage';

const provider = (name: string, prices: [number, number], models: automationV1.LlmModelAlias[] = []): automationV1.LlmProvider => ({
  name,
  baseUrl: 'https://models.test/v1',
  apiKey: '',
  models,
  inputPricePerMillion: prices[0],
  outputPricePerMillion: prices[1],
  timeoutMs: 0,
  workerLocal: false,
  rateLimited: '',
});
const providers = [provider('openai', [3, 6], [{ alias: 'small', model: 'gpt-small-1', hasPrices: true, inputPricePerMillion: 1, outputPricePerMillion: 2 }, { alias: 'big', model: 'gpt-big-1', hasPrices: false, inputPricePerMillion: 0, outputPricePerMillion: 0 }])];
const keys = { orgId: 'o', runId: 'r', taskId: 't', attemptId: 'a', workflowId: 'w', appId: null };

describe('usage of an attempt', () => {
  it('prices a call at its alias’s own prices, else the provider’s, else nothing', () => {
    expect(pricesOf(providers, 'openai', 'small', 'gpt-small-1')).toEqual({ input: 1, output: 2 });
    expect(pricesOf(providers, 'openai', 'big', 'gpt-big-1')).toEqual({ input: 3, output: 6 });
    expect(pricesOf(providers, 'openai', 'gpt-other', 'gpt-other')).toEqual({ input: 3, output: 6 });
    expect(pricesOf(providers, 'unknown', 'small', 'small')).toEqual({ input: 0, output: 0 });
    expect(costUsd(1_000, 500, { input: 1, output: 2 })).toBe(0.002);
  });

  it('bounds what the worker reported and computes the cost itself', () => {
    const call: automationV1.ModelCall = { provider: 'openai', model: 'gpt-small-1', requestedModel: 'small', promptTokens: 1000, completionTokens: -5, ttftMs: 100, durationMs: 1100, errorCode: '', errorMessage: 'ignored', costUsd: 999 };
    const row = modelCallRow(call, keys, providers, 'id-1');
    expect(row).toMatchObject({ promptTokens: 1000, completionTokens: 0, costUsd: 0.001, errorCode: null, errorMessage: null, tokensPerSecond: 0 });
    expect(modelCallRow({ ...call, completionTokens: 500, provider: 'x'.repeat(500) }, keys, providers, 'id-2').provider).toHaveLength(100);
    expect(tokensPerSecond(500, 1100, 100)).toBe(500);
  });

  it('records GPU time on a worker with GPUs only: the placed ones, else all of them', () => {
    const gpuWorker = { id: 'w1', resources: { gpus: [{ index: 0, model: 'A100' }, { index: 1, model: 'H100' }] } };
    expect(gpuUsageOf(keys, { id: 'cpu', resources: { gpus: [] } }, [], 5_000)).toBeUndefined();
    expect(gpuUsageOf(keys, { id: 'cpu', resources: null }, [], 5_000)).toBeUndefined();
    expect(gpuUsageOf(keys, gpuWorker, [1], 2_500)).toMatchObject({ gpuCount: 1, gpuModels: ['H100'], seconds: 2.5, gpuSeconds: 2.5 });
    expect(gpuUsageOf(keys, gpuWorker, [], 2_500)).toMatchObject({ gpuCount: 2, gpuModels: ['A100', 'H100'], seconds: 2.5, gpuSeconds: 5 });
  });
});
