import { llmBaseUrlKey } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import { waitReason, type WaitReason } from '../../domain/wait-reasons';
import type { WorkerRow } from '../../store/rows';

/**
 * Worker-local model providers (issue 14): a provider marked worker-local (the GPU box's own Ollama
 * or vLLM, `http://127.0.0.1:11434/v1`) is reached only from a worker that declares its base URL
 * (WORKER_LLM_ENDPOINTS, stored as workers.llm_endpoints at registration). A model step whose
 * providers include worker-local ones is placed only on a worker that declares every one of their
 * URLs (store/dispatch.ts lockFreeSlots); a step no online worker serves waits with the reason
 * below, and fails after its queue timeout like any waiting step.
 *
 * Every worker-local provider of a fallback list counts, not just the first: the worker skips one it
 * does not serve (PROVIDER_NOT_LOCAL), so a worker serving only some of them would quietly run the
 * step on the later providers of the list, which is not the fallback order the step asked for.
 *
 * The providers here are the step's own organization's (resolved at dispatch under its row
 * security): another organization's provider with the same URL plays no part, and the reason names
 * only the step's own providers.
 */

type LocalProvider = Pick<automationV1.LlmProvider, 'name' | 'baseUrl' | 'workerLocal'>;

/** The worker-local LLM servers a model step's providers use: each worker-local provider's base URL (llmBaseUrlKey), once each, sorted. */
export function localEndpointsOf(providers: readonly Pick<LocalProvider, 'baseUrl' | 'workerLocal'>[]): string[] {
  return [...new Set(providers.filter((p) => p.workerLocal).map((p) => llmBaseUrlKey(p.baseUrl)))].sort();
}

/** Whether a worker declares every one of `endpoints`. */
export const servesAll = (worker: Pick<WorkerRow, 'llmEndpoints'>, endpoints: readonly string[]): boolean => {
  const declared = new Set(worker.llmEndpoints.map(llmBaseUrlKey));
  return endpoints.every((e) => declared.has(e));
};

/** `"ollama" (http://127.0.0.1:11434/v1)`, for each worker-local provider of the step. */
const describeLocal = (providers: readonly LocalProvider[]): string =>
  providers
    .filter((p) => p.workerLocal)
    .map((p) => `"${p.name}" (${llmBaseUrlKey(p.baseUrl)})`)
    .join(', ');

/**
 * Why a step with worker-local providers found no slot: no online worker that runs it (pool,
 * capability, labels: `capable`) declares their LLM servers (LOCAL_PROVIDER), or the ones that do are
 * all busy (NO_FREE_SLOT, naming the servers).
 */
export function localProviderWaitReason(providers: readonly LocalProvider[], capable: readonly Pick<WorkerRow, 'llmEndpoints'>[], where: { pool: string; capability: string }): WaitReason {
  const endpoints = localEndpointsOf(providers);
  const local = providers.filter((p) => p.workerLocal);
  const serving = capable.filter((w) => servesAll(w, endpoints)).length;
  const details = { pool: where.pool, capability: where.capability, providers: local.map((p) => p.name), llmEndpoints: endpoints, servingWorkers: serving };
  const which = `${local.length === 1 ? 'its worker-local model provider' : 'all of its worker-local model providers'} ${describeLocal(providers)}`;
  if (serving === 0) return waitReason('LOCAL_PROVIDER', `no online worker of pool "${where.pool}" that runs ${where.capability} serves ${which}`, details);
  return waitReason('NO_FREE_SLOT', `every worker of pool "${where.pool}" that runs ${where.capability} and serves ${which} is busy (${serving} online)`, details);
}
