import { badInput, createGuardedFetch, createSecretMasker, isUuid, notFound, type Principal } from '@orchestra/lib';
import type { Engine } from '../engine/engine';
import { secretReader, SecretUnavailableError } from '../secrets/dispatch-secrets';
import { findLlmProvider, type LlmProviderRow } from '../store/llm-providers';

/**
 * "Test the connection" of a provider (issue 14): one tiny chat completion (max_tokens 1) from the
 * orchestration service, with the key from the organization's secret. The request goes through the
 * private-network guard (a tenant names the URL) unless LLM_PROVIDER_TEST_ALLOW_PRIVATE_NETWORK;
 * a worker-local provider is served only on its workers' machines and is not tried from here. The
 * answer never carries the key (the provider's error text is masked).
 */

export interface ProviderTestResult {
  ok: boolean;
  /** The model that answered (the provider's name for it). */
  model: string | null;
  latencyMs: number | null;
  /** Why it failed (the provider's status and error), or null. */
  message: string | null;
}

const TEST_TIMEOUT_MS = 15_000;

export async function testLlmProvider(engine: Engine, principal: Principal, id: string, requestedModel: string | null | undefined): Promise<ProviderTestResult> {
  if (!isUuid(id)) throw badInput('id', 'id must be a provider id (a UUID)', 'INVALID_ID');
  const orgId = principal.orgId as string;
  const { provider, apiKey } = await engine.inTenant(principal, async (tx) => {
    const found = await findLlmProvider(tx, id);
    if (!found) throw notFound('LlmProvider', id);
    if (found.apiKeySecret === null) return { provider: found, apiKey: '' };
    try {
      const values = await secretReader(tx, engine.config.SECRETS_KEYS)(orgId, [found.apiKeySecret]);
      return { provider: found, apiKey: values.get(found.apiKeySecret) ?? '' };
    } catch (error) {
      if (error instanceof SecretUnavailableError) return { provider: found, apiKey: undefined, why: error.message };
      throw error;
    }
  });
  if (apiKey === undefined) return { ok: false, model: null, latencyMs: null, message: `the API key secret "${provider.apiKeySecret}" cannot be read` };
  if (provider.workerLocal) return { ok: false, model: null, latencyMs: null, message: 'a worker-local provider is reached only from the workers that serve it: run a step on one to try it' };
  const model = modelToTry(provider, requestedModel);
  if (model === undefined) throw badInput('model', 'the provider has no models: name one to try', 'MODEL_REQUIRED');
  const masker = createSecretMasker(apiKey === '' ? [] : [apiKey]);
  const fetch = createGuardedFetch({ allowPrivate: engine.config.LLM_PROVIDER_TEST_ALLOW_PRIVATE_NETWORK, connectTimeoutMs: 5_000 });
  const started = Date.now();
  try {
    const response = await fetch(`${provider.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey === '' ? {} : { authorization: `Bearer ${apiKey}` }) },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1, stream: false }),
      signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
      redirect: 'error',
    });
    const latencyMs = Date.now() - started;
    const text = (await response.text()).slice(0, 2_000);
    if (!response.ok) return { ok: false, model: null, latencyMs, message: masker.text(`HTTP ${response.status}: ${text.slice(0, 500)}`) };
    const answered = (JSON.parse(text) as { model?: unknown }).model;
    return { ok: true, model: typeof answered === 'string' ? answered : model, latencyMs, message: null };
  } catch (error) {
    const message = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${TEST_TIMEOUT_MS} ms` : describe(error);
    engine.log.info('model provider test failed', { orgId, providerId: id, provider: provider.name, reason: masker.text(message), requestId: principal.requestId });
    return { ok: false, model: null, latencyMs: null, message: masker.text(message) };
  } finally {
    await fetch.close();
  }
}

function modelToTry(provider: LlmProviderRow, requested: string | null | undefined): string | undefined {
  if (requested) return provider.models.find((m) => m.alias === requested)?.model ?? requested;
  return provider.models[0]?.model;
}

/** A failed request's message with its cause (undici's "fetch failed" says why only there). */
const describe = (error: unknown): string =>
  error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
