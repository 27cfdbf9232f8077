import { describeGpuRequest, modelMatches, type GpuRequest } from '../../domain/gpu-request';
import { waitReason, type WaitReason } from '../../domain/wait-reasons';
import type { SlotCandidate } from '../../store/dispatch';
import type { GpuReservation } from '../../store/gpu-placement';
import type { AttemptGpu, WorkerRow } from '../../store/rows';
import type { PlacementRequest } from './claim-policy';

/**
 * GPU-aware placement (issue 14), a filter in front of the slot placement: a step that asks for
 * GPUs (domain/gpu-request.ts) takes a free slot only on a worker where `gpus` of its reported GPUs
 * of the model asked for each have `gpuMemoryMiB` free, and reserves that memory there until the
 * attempt ends. Pure functions of the rows the claim transaction read (store/gpu-placement.ts reads
 * them under a lock that GPU claims share, so two dispatchers never fill one GPU twice).
 *
 * A GPU's free memory is its reported total minus the larger of what the worker reports used and
 * what Orchestra has placed there and not finished: the reported use already holds the attempts
 * that have loaded their model, the reservations hold the ones that have not yet, and memory some
 * other program holds counts too. (Reported used memory that is ours and also reserved is not
 * counted twice, so two 20 GiB steps fit on one 40 GiB GPU however far they have loaded.)
 */

const MIB = 1024 * 1024;

/** A GPU as placement sees it: its model and the MiB it has free for new attempts. */
export interface GpuState {
  index: number;
  model: string;
  totalMiB: number;
  freeMiB: number;
}

/** Each GPU of `worker` with its free memory, given what is reserved on it (`reservedMiB` by GPU index). */
export function gpuStates(worker: Pick<WorkerRow, 'resources'>, reservedMiB: ReadonlyMap<number, number>): GpuState[] {
  return (worker.resources?.gpus ?? []).map((g) => {
    const totalMiB = Math.floor(g.memoryTotalBytes / MIB);
    const usedMiB = Math.ceil(g.memoryUsedBytes / MIB);
    return { index: g.index, model: g.model, totalMiB, freeMiB: Math.max(0, totalMiB - Math.max(usedMiB, reservedMiB.get(g.index) ?? 0)) };
  });
}

/** Which GPUs of a worker an attempt takes: `gpus` of those that fit, the tightest fit first (big ones stay free). */
export function chooseGpus(request: GpuRequest, gpus: readonly GpuState[]): GpuState[] | undefined {
  const fitting = gpus.filter((g) => modelMatches(request, g.model) && g.freeMiB >= request.gpuMemoryMiB).sort((a, b) => a.freeMiB - b.freeMiB || a.index - b.index);
  return fitting.length >= request.gpus ? fitting.slice(0, request.gpus) : undefined;
}

/** Whether a worker's GPUs could ever hold the request (enough GPUs of the model, each big enough), however busy. */
export const couldEverFit = (request: GpuRequest, worker: Pick<WorkerRow, 'resources'>): boolean =>
  (worker.resources?.gpus ?? []).filter((g) => modelMatches(request, g.model) && Math.floor(g.memoryTotalBytes / MIB) >= request.gpuMemoryMiB).length >= request.gpus;

export interface GpuPlacement {
  slot: SlotCandidate;
  gpus: AttemptGpu[];
}

/**
 * Places requests that all ask for the same GPUs (`request`) on `candidates` (free slots locked by
 * the claim, in random order), counting `reservations` and what this call places as it goes: each
 * request takes the first candidate whose worker has the GPUs free. Requests left out wait.
 */
export function placeOnGpus(requests: readonly PlacementRequest[], request: GpuRequest, candidates: readonly SlotCandidate[], reservations: readonly GpuReservation[]): Map<string, GpuPlacement> {
  const reserved = new Map<string, Map<number, number>>();
  for (const r of reservations) {
    const byGpu = reserved.get(r.workerId) ?? new Map<number, number>();
    byGpu.set(r.index, (byGpu.get(r.index) ?? 0) + r.memoryMiB);
    reserved.set(r.workerId, byGpu);
  }
  const states = new Map<string, GpuState[]>();
  const stateOf = (c: SlotCandidate): GpuState[] => {
    let known = states.get(c.workerId);
    if (!known) {
      known = gpuStates(c.worker, reserved.get(c.workerId) ?? new Map());
      states.set(c.workerId, known);
    }
    return known;
  };
  const placed = new Map<string, GpuPlacement>();
  const taken = new Set<SlotCandidate>();
  for (const { attemptId } of requests) {
    for (const candidate of candidates) {
      if (taken.has(candidate)) continue;
      const chosen = chooseGpus(request, stateOf(candidate));
      if (!chosen) continue;
      for (const g of chosen) g.freeMiB -= request.gpuMemoryMiB;
      taken.add(candidate);
      placed.set(attemptId, { slot: candidate, gpus: chosen.map((g) => ({ index: g.index, model: g.model, memoryMiB: request.gpuMemoryMiB })) });
      break;
    }
  }
  return placed;
}

/**
 * Why a GPU step found no place: no online worker that runs it could ever hold it ("no worker with
 * 2 GPUs of 40 GiB online"), or the ones that could are busy or their GPU memory is taken now.
 */
export function gpuWaitReason(request: GpuRequest, capable: readonly Pick<WorkerRow, 'id' | 'resources'>[], where: { pool: string; capability: string }): WaitReason {
  const asked = describeGpuRequest(request);
  const fitting = capable.filter((w) => couldEverFit(request, w));
  const details = { pool: where.pool, capability: where.capability, gpus: request.gpus, gpuMemoryMiB: request.gpuMemoryMiB, ...(request.gpuModel === undefined ? {} : { gpuModel: request.gpuModel }) };
  if (fitting.length === 0) {
    return waitReason('GPU', `no worker with ${asked} online (pool "${where.pool}", ${where.capability})`, { ...details, fittingWorkers: 0 });
  }
  return waitReason('GPU', `every worker with ${asked} is busy or has too little GPU memory free now (${fitting.length} online)`, { ...details, fittingWorkers: fitting.length });
}
