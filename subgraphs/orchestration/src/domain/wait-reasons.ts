/**
 * Why a task that has not started is waiting: one registry for every part of the engine that makes
 * a task wait (the dispatcher, flow control, wait steps, GPU and worker-local provider placement). A task's reason is stored
 * with it (`tasks.wait_reason`, store/tasks.ts `setWaitReasons`) and shown as `Task.waitReason`
 * (GraphQL enum TaskWaitKind, which lists the same kinds: a test keeps them equal).
 *
 * Add a kind here (and to TaskWaitKind in schema.graphql) when a new cause of waiting appears.
 */
export const WAIT_REASON_KINDS = [
  /** Its retry delay has not run out yet. */
  'RETRY_BACKOFF',
  /** No live worker in its pool has the capability and labels it needs. */
  'NO_WORKER',
  /** Workers that can run it exist, but none has a free slot. */
  'NO_FREE_SLOT',
  /** Work of its organization with a higher priority goes first. */
  'PRIORITY',
  /** Slots go to other organizations in turn (fair dispatch between organizations). */
  'FAIR_SHARE',
  /** Its concurrency key has as many runs or tasks as its limit allows. */
  'CONCURRENCY_KEY',
  /** A named rate limit it consumes has no units left in its window. */
  'RATE_LIMIT',
  /** Its organization is at one of its quotas (running tasks per pool, ...). */
  'QUOTA',
  /** A forEach item waits for one of the step's maxParallel places. */
  'MAX_PARALLEL',
  /** A wait step holds for a person's approval (flow-triggers). */
  'APPROVAL',
  /** A wait step holds for a matching event (flow-triggers). */
  'EVENT',
  /** A wait step, or a run started for later, holds until a time (flow-triggers). */
  'SCHEDULE',
  /** No worker has the GPU memory it asks for free now (llm placement). */
  'GPU',
  /** No live worker that runs it serves its worker-local model providers (declares their LLM servers). */
  'LOCAL_PROVIDER',
] as const;
export type WaitReasonKind = (typeof WAIT_REASON_KINDS)[number];

export const isWaitReasonKind = (value: unknown): value is WaitReasonKind => typeof value === 'string' && (WAIT_REASON_KINDS as readonly string[]).includes(value);

/** Why a task waits, as stored on it and shown on the run page. */
export interface WaitReason {
  kind: WaitReasonKind;
  /** For a person: what it waits for, naming the key, limit, quota or pool ("rate limit \"openai\": 5 per second used"). */
  message: string;
  /** ISO 8601: since when it waits for this reason (kept while the kind stays the same). */
  since: string;
  /** Machine-readable facts (the key, the limit's name, the quota's name, until when). Never secrets. */
  details?: Record<string, unknown> | undefined;
}

/** Message lengths stored, at most (a message names keys and limits a tenant chose). */
const MAX_MESSAGE = 500;

/** A wait reason starting now. */
export const waitReason = (kind: WaitReasonKind, message: string, details?: Record<string, unknown>, since: Date = new Date()): WaitReason => ({
  kind,
  message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
  since: since.toISOString(),
  ...(details === undefined ? {} : { details }),
});
