import type { Queryable } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import type { SlotNeeds } from '../../store/dispatch';
import { capableWorkers } from '../../store/gpu-placement';
import { setWaitReasons } from '../../store/tasks';
import { localProviderWaitReason } from './local-providers';

/** A step with worker-local providers that found no slot in a claim. */
export interface LocalProviderWait {
  attemptId: string;
  taskId: string;
  /** Its own organization's providers, as resolved for it at dispatch. */
  providers: readonly Pick<automationV1.LlmProvider, 'name' | 'baseUrl' | 'workerLocal'>[];
}

/**
 * Records on each task why it waits (local-providers.ts localProviderWaitReason), inside the claim
 * transaction (claims.ts), and resolves to attempt id → the reason's message. Each task's reason
 * names its own providers: one group of needs may hold steps of several organizations whose
 * providers share a URL. A GPU step (`keepGpuReason`) whose local servers some worker serves keeps
 * the GPU claim's reason, which says more.
 */
export async function recordLocalProviderWaits(tx: Queryable, needs: SlotNeeds, left: readonly LocalProviderWait[], keepGpuReason: boolean): Promise<Map<string, string>> {
  const waiting = new Map<string, string>();
  if (left.length === 0) return waiting;
  const capable = await capableWorkers(tx, needs);
  const reasons = left.map((w) => ({ wait: w, reason: localProviderWaitReason(w.providers, capable, needs) })).filter(({ reason }) => !keepGpuReason || reason.kind === 'LOCAL_PROVIDER');
  await setWaitReasons(
    tx,
    reasons.map(({ wait, reason }) => ({ taskId: wait.taskId, reason })),
  );
  for (const { wait, reason } of reasons) waiting.set(wait.attemptId, reason.message);
  return waiting;
}
