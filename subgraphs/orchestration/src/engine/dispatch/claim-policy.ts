import type { SecretMasker } from '@orchestra/lib';
import type { automationV1 } from '@orchestra/proto';
import type { SlotCandidate, SlotNeeds } from '../../store/dispatch';
import type { AttemptRow, RunRow, TaskRow, WorkerRow } from '../../store/rows';

/**
 * The claim decisions, as pure functions of the rows a claim transaction read under its runs'
 * locks: whether a queued attempt may start now (admitAttempt), what it asks of a worker
 * (slotNeedsOf), which free slot each startable attempt takes (PlacementPolicy), and what a claim
 * that found no slot does (noSlotDelayMs). claims.ts runs them inside the transaction; nothing
 * here reads the database, the clock or the queue, so each rule is unit-tested on its own.
 *
 * Where to extend:
 * - a gate that holds an attempt back before it looks for a worker (concurrency keys, rate
 *   limits, quotas, a wait): a new `wait` or `drop` answer of admitAttempt, with its reason;
 * - which worker an attempt goes to (GPU memory that fits, counting what the same batch already
 *   placed; preferring a worker; fairness between organizations within a batch): a PlacementPolicy
 *   (placeInOrder is the default), and fields of SlotNeeds that lockFreeSlots filters candidates on
 *   (the worker-local LLM servers a model step's providers use: local-providers.ts).
 */

/** What a claim answers for one queued attempt. */
export type Claim =
  | { kind: 'drop'; reason: string }
  /** Not yet: its retry backoff runs until `delayMs` from now, or no worker has a free slot. */
  | { kind: 'wait'; cause: 'backoff'; delayMs: number; reason: string }
  /** `waitRecorded`: the claim already stored why on the task (a GPU step: gpu-claims.ts; a worker-local provider's: local-provider-claims.ts). */
  | { kind: 'wait'; cause: 'no-slot'; reason: string; waitRecorded?: boolean }
  /** Flow control holds it back (a concurrency key at its limit, ...): the reason is recorded on its task. */
  | { kind: 'wait'; cause: 'flow'; reason: string; delayMs?: number }
  /**
   * Claimed: `input` is for the worker's request only (secrets resolved); `task.input` is what is
   * stored and shown (secrets masked), and `masker` masks the attempt's secrets in whatever comes back.
   */
  | { kind: 'claimed'; run: RunRow; task: TaskRow; attempt: AttemptRow; worker: WorkerRow; input: unknown; masker: SecretMasker; secretValues: string[]; llmProviders: automationV1.LlmProvider[] };

/** The first look at a queued attempt: drop it, let it wait, handle a redelivery, or let it look for a slot. */
export type Admission =
  | Extract<Claim, { kind: 'drop' }>
  | Extract<Claim, { kind: 'wait'; cause: 'backoff' }>
  /** The attempt is RUNNING: delivered again because its job's holder stalled or died (see redelivery). */
  | { kind: 'redelivered' }
  /** It may start now: resolve its input and find it a slot. */
  | { kind: 'admit'; attempt: AttemptRow; task: TaskRow };

/** A backoff shorter than this is not worth a trip through the delayed set. */
export const BACKOFF_SLACK_MS = 10;

/**
 * Decides what to do with a queued attempt from its run, attempt and task as read under the run's
 * lock (`attempt` undefined: not found, or not of this run).
 */
export function admitAttempt(run: RunRow, attempt: AttemptRow | undefined, task: TaskRow | undefined, now: number): Admission {
  if (!attempt) return { kind: 'drop', reason: 'attempt not found' };
  if (attempt.status === 'RUNNING') return { kind: 'redelivered' };
  if (attempt.status !== 'QUEUED') return { kind: 'drop', reason: `attempt is ${attempt.status}` };
  if (!task || task.currentAttemptId !== attempt.id || task.status !== 'QUEUED') return { kind: 'drop', reason: 'task moved on' };
  if (run.status !== 'QUEUED' && run.status !== 'RUNNING') return { kind: 'drop', reason: `run is ${run.status}` };
  const notBefore = attempt.availableAt.getTime() - now;
  if (notBefore > BACKOFF_SLACK_MS) return { kind: 'wait', cause: 'backoff', delayMs: notBefore, reason: 'retry backoff' };
  return { kind: 'admit', attempt, task };
}

/**
 * A RUNNING attempt delivered again: dropped if this process runs it; if another dispatcher holds
 * it, that one's liveness decides (`check-holder`); else it was lost and runs again (`recover`).
 */
export function redelivery(attempt: Pick<AttemptRow, 'dispatcherId'>, { dispatcherId, executingHere }: { dispatcherId: string; executingHere: boolean }): { kind: 'drop'; reason: string } | { kind: 'check-holder'; holder: string } | { kind: 'recover' } {
  if (executingHere) return { kind: 'drop', reason: 'already executing here' };
  const holder = attempt.dispatcherId;
  if (holder !== null && holder !== dispatcherId) return { kind: 'check-holder', holder };
  return { kind: 'recover' };
}

/** Workers and endpoints a claim passes over now (suspected dead, circuit open). */
export interface Avoided {
  workerIds: readonly string[];
  endpoints: readonly string[];
}

/**
 * What an attempt of `task` asks of a worker; `llmEndpoints`: the worker-local LLM servers its model
 * providers use (local-providers.ts localEndpointsOf), which the worker must declare, every one.
 */
export function slotNeedsOf(task: NeedsOf, avoided: Avoided, llmEndpoints: readonly string[] = []): SlotNeeds {
  return {
    pool: task.pool,
    capability: task.capability,
    labels: task.labels,
    avoidWorkerIds: avoided.workerIds,
    avoidEndpoints: avoided.endpoints,
    ...(task.resources ? { gpus: task.resources } : {}),
    ...(llmEndpoints.length > 0 ? { llmEndpoints } : {}),
  };
}

/** The fields of a task that say what it asks of a worker (resources: the GPUs it needs, gpu-placement.ts). */
type NeedsOf = Pick<TaskRow, 'pool' | 'capability' | 'labels'> & Partial<Pick<TaskRow, 'resources'>>;

/** Attempts that ask the same of a worker, so one statement finds slots for all of them. */
export function groupByNeeds<T extends { task: NeedsOf; llmEndpoints?: readonly string[] }>(startable: readonly T[], avoided: Avoided): Array<{ needs: SlotNeeds; startable: T[] }> {
  const groups = new Map<string, { needs: SlotNeeds; startable: T[] }>();
  for (const s of startable) {
    const needs = slotNeedsOf(s.task, avoided, s.llmEndpoints);
    const key = JSON.stringify([needs.pool, needs.capability, Object.entries(needs.labels).sort(), needs.gpus ?? null, [...(needs.llmEndpoints ?? [])].sort()]);
    const group = groups.get(key) ?? { needs, startable: [] };
    group.startable.push(s);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** An attempt that may start, with what it needs, looking for a slot. */
export interface PlacementRequest {
  attemptId: string;
  task: Pick<TaskRow, 'id' | 'runId' | 'pool' | 'capability' | 'labels'>;
}

/**
 * Chooses a slot among `candidates` (free, locked by this transaction, in random order) for each
 * request, each slot at most once; requests left out wait for a slot. Resolves to attempt id →
 * the slot it takes.
 */
export type PlacementPolicy = (requests: readonly PlacementRequest[], candidates: readonly SlotCandidate[]) => Map<string, SlotCandidate>;

/** The default placement: the i-th request takes the i-th candidate (random order spreads the load over free slots). */
export const placeInOrder: PlacementPolicy = (requests, candidates) => {
  const placed = new Map<string, SlotCandidate>();
  requests.forEach((request, i) => {
    const slot = candidates[i];
    if (slot) placed.set(request.attemptId, slot);
  });
  return placed;
};

/**
 * Checks a policy's answer: a slot may go to one attempt only, and only a slot that was offered.
 * A policy that breaks this is a bug; throwing rolls the claim transaction back.
 */
export function checkPlacement(requests: readonly PlacementRequest[], candidates: readonly SlotCandidate[], placed: ReadonlyMap<string, SlotCandidate>): void {
  const offered = new Set(candidates.map((c) => `${c.workerId}#${c.slot}`));
  const asked = new Set(requests.map((r) => r.attemptId));
  const taken = new Set<string>();
  for (const [attemptId, slot] of placed) {
    const key = `${slot.workerId}#${slot.slot}`;
    if (!asked.has(attemptId)) throw new Error(`placement policy placed attempt ${attemptId}, which did not ask`);
    if (!offered.has(key)) throw new Error(`placement policy chose slot ${key}, which was not offered`);
    if (taken.has(key)) throw new Error(`placement policy gave slot ${key} twice`);
    taken.add(key);
  }
}

/** Why an attempt that found no slot waits (the reason its claim reports). */
export const noSlotReason = (task: Pick<TaskRow, 'capability' | 'pool'>): string => `no live worker with a free slot for ${task.capability} in pool ${task.pool}`;

/** Looks at the short cap (≥ 2 s) before the delay grows on: ~15 s of looking at the default retry delay. */
export const NO_SLOT_SHORT_LOOKS = 10;
/** The longest an attempt that keeps finding no slot stays delayed between looks. */
export const NO_SLOT_MAX_DELAY_MS = 30_000;

/**
 * How long an attempt that found no free slot stays in the delayed set before it looks again, by
 * how many times it already looked: doubling from `retryDelayMs`, capped at the larger of
 * `retryDelayMs` and 2 s for its first NO_SLOT_SHORT_LOOKS looks, then doubling on to 30 s. A slot
 * freeing up here, a worker's heartbeat with free slots and a worker registering promote delayed
 * attempts sooner (slot-waits.ts), so the cap is what an attempt waits only when none of those comes:
 * above all when no live worker offers its capability at all. At 2 s for ever, 100 such attempts
 * (the subscription bench's runs, whose `noop` step no worker offers) were claimed, found no slot
 * and moved back to the delayed set 50 times a second: 12.7–18% of a core of an idle orchestration.
 */
export function noSlotDelayMs(looks: number, retryDelayMs: number): number {
  const shortCap = Math.max(retryDelayMs, 2_000);
  const n = Math.max(looks, 1);
  if (n <= NO_SLOT_SHORT_LOOKS) return Math.min(retryDelayMs * 2 ** Math.min(n - 1, 4), shortCap);
  return Math.min(shortCap * 2 ** Math.min(n - NO_SLOT_SHORT_LOOKS, 5), Math.max(shortCap, NO_SLOT_MAX_DELAY_MS));
}

/** Jobs of a pool a dispatcher takes at once: the pool's live slots (when known), at least one, at most `max`. */
export function poolConcurrency(slots: number | undefined, max: number): number {
  return slots === undefined ? max : Math.max(1, Math.min(slots, max));
}
