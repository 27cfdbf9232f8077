import type { Queryable } from '@orchestra/lib';
import type { GpuRequest } from '../../domain/gpu-request';
import { lockFreeSlots, type SlotCandidate, type SlotNeeds } from '../../store/dispatch';
import { capableWorkers, gpuReservations, lockGpuPlacement, recordAttemptGpus } from '../../store/gpu-placement';
import type { AttemptGpu } from '../../store/rows';
import { setWaitReasons } from '../../store/tasks';
import type { PlacementRequest } from './claim-policy';
import { gpuWaitReason, placeOnGpus } from './gpu-placement';

/** Free slots a GPU claim looks at, at most: more than the group, since some workers' GPUs may be full. */
const GPU_CANDIDATES = 200;

export interface GpuGroupPlacement {
  candidates: SlotCandidate[];
  placed: Map<string, SlotCandidate>;
  /** The GPUs each placed attempt took (recorded on it). */
  gpus: Map<string, AttemptGpu[]>;
  /** Why each attempt left out waits (recorded on its task). */
  waiting: Map<string, string>;
}

/**
 * Places a group of GPU steps inside the claim transaction (claims.ts): takes the GPU placement
 * lock, locks free slots of workers with enough GPUs, reads what RUNNING attempts reserve on them,
 * places (gpu-placement.ts), records the GPUs on the placed attempts and the reason on the tasks
 * that wait ("no worker with 2 GPUs of 40 GiB online").
 */
export async function placeGpuGroup(tx: Queryable, needs: SlotNeeds & { gpus?: GpuRequest | undefined }, requests: readonly PlacementRequest[]): Promise<GpuGroupPlacement> {
  const request = needs.gpus as GpuRequest;
  await lockGpuPlacement(tx);
  const candidates = await lockFreeSlots(tx, needs, Math.min(GPU_CANDIDATES, requests.length * 8 + 8));
  const reservations = await gpuReservations(
    tx,
    candidates.map((c) => c.workerId),
  );
  const onGpus = placeOnGpus(requests, request, candidates, reservations);
  const placed = new Map([...onGpus].map(([attemptId, p]) => [attemptId, p.slot]));
  const gpus = new Map([...onGpus].map(([attemptId, p]) => [attemptId, p.gpus]));
  await recordAttemptGpus(
    tx,
    [...gpus].map(([attemptId, g]) => ({ attemptId, gpus: g })),
  );
  const waiting = new Map<string, string>();
  const left = requests.filter((r) => !placed.has(r.attemptId));
  if (left.length > 0) {
    const reason = gpuWaitReason(request, await capableWorkers(tx, needs), needs);
    await setWaitReasons(
      tx,
      left.map((r) => ({ taskId: r.task.id, reason })),
    );
    for (const r of left) waiting.set(r.attemptId, reason.message);
  }
  return { candidates, placed, gpus, waiting };
}
