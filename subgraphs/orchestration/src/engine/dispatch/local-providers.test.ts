import type { WorkerRow } from '../../store/rows';
import { localEndpointsOf, localProviderWaitReason, servesAll } from './local-providers';

const OLLAMA = 'http://127.0.0.1:11434/v1';
const VLLM = 'http://127.0.0.1:8000/v1';
const provider = (name: string, baseUrl: string, workerLocal: boolean) => ({ name, baseUrl, workerLocal });
const worker = (llmEndpoints: string[]) => ({ llmEndpoints }) as Pick<WorkerRow, 'llmEndpoints'>;
const where = { pool: 'gpu', capability: 'llm' };

describe('the LLM servers a model step needs', () => {
  it('are the base URLs of every worker-local provider of its list, each once, in the form workers declare them', () => {
    expect(localEndpointsOf([provider('hosted', 'https://api.openai.com/v1', false)])).toEqual([]);
    expect(localEndpointsOf([provider('ollama', `${OLLAMA}/`, true), provider('hosted', 'https://api.openai.com/v1', false), provider('vllm', ` ${VLLM} `, true), provider('again', OLLAMA, true)])).toEqual([
      VLLM,
      OLLAMA,
    ].sort());
  });

  it('are served by a worker that declares every one of them', () => {
    expect(servesAll(worker([OLLAMA]), [])).toBe(true);
    expect(servesAll(worker([OLLAMA, VLLM]), [OLLAMA])).toBe(true);
    expect(servesAll(worker([`${OLLAMA}/`]), [OLLAMA])).toBe(true);
    expect(servesAll(worker([OLLAMA]), [OLLAMA, VLLM])).toBe(false);
    expect(servesAll(worker([]), [OLLAMA])).toBe(false);
  });
});

describe('why a step of worker-local providers waits', () => {
  it('says no online worker serves its provider, naming the provider and its URL', () => {
    const reason = localProviderWaitReason([provider('ollama', OLLAMA, true)], [worker([]), worker([VLLM])], where);
    expect(reason).toMatchObject({
      kind: 'LOCAL_PROVIDER',
      message: `no online worker of pool "gpu" that runs llm serves its worker-local model provider "ollama" (${OLLAMA})`,
      details: { pool: 'gpu', capability: 'llm', providers: ['ollama'], llmEndpoints: [OLLAMA], servingWorkers: 0 },
    });
  });

  it('asks for all of a fallback list’s worker-local providers, and names only those', () => {
    const reason = localProviderWaitReason([provider('ollama', OLLAMA, true), provider('hosted', 'https://api.openai.com/v1', false), provider('vllm', VLLM, true)], [worker([OLLAMA]), worker([VLLM])], where);
    expect(reason.kind).toBe('LOCAL_PROVIDER');
    expect(reason.message).toBe(`no online worker of pool "gpu" that runs llm serves all of its worker-local model providers "ollama" (${OLLAMA}), "vllm" (${VLLM})`);
    expect(reason.message).not.toContain('hosted');
  });

  it('says the serving workers are busy when some are online', () => {
    const reason = localProviderWaitReason([provider('ollama', OLLAMA, true)], [worker([OLLAMA]), worker([OLLAMA, VLLM]), worker([])], where);
    expect(reason).toMatchObject({ kind: 'NO_FREE_SLOT', message: `every worker of pool "gpu" that runs llm and serves its worker-local model provider "ollama" (${OLLAMA}) is busy (2 online)`, details: { servingWorkers: 2 } });
  });
});
