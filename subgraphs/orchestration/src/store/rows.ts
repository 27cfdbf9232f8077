import type { RunEventError } from '@orchestra/lib';
import type { ConcurrencyHold, ForEachPolicy, RateLimitUse, WorkflowOptions } from '../domain/flow-control';
import type { GpuRequest } from '../domain/gpu-request';
import type { RetryPolicy, StepDefinition } from '../domain/workflow-definition';
import type { AttemptStatus, RunStatus, TaskStatus } from '../domain/states';
import type { WaitReason } from '../domain/wait-reasons';
import type { WaitPolicy } from '../domain/wait-steps';

/** Rows as the store returns them (snake_case columns mapped to camelCase). */

export interface WorkflowRow {
  id: string;
  orgId: string;
  name: string;
  description: string | null;
  appId: string | null;
  latestVersion: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface WorkflowVersionRow {
  workflowId: string;
  orgId: string;
  version: number;
  steps: StepDefinition[];
  /** Workflow-wide priority and concurrency ({} for versions stored before issue 10). */
  options: WorkflowOptions;
  createdBy: string;
  createdAt: Date;
}

export interface ErrorInfo extends RunEventError {
  /** The step that failed, on a run's error. */
  stepId?: string;
}

export interface RunRow {
  id: string;
  orgId: string;
  workflowId: string;
  workflowVersion: number;
  appId: string | null;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: ErrorInfo | null;
  idempotencyKey: string | null;
  startedByKind: string;
  startedById: string;
  startedByUserId: string | null;
  startedByApiKeyId: string | null;
  startedByDisplay: string | null;
  requestId: string | null;
  traceparent: string | null;
  cancelReason: string | null;
  /** Given at startRun (1 … 5), else null (its tasks take their step's, else the workflow's, else 3). */
  priority: number | null;
  /** The workflow's concurrency key the run holds a place under (`<workflow id>:<value>`), and its policy. */
  concurrencyKey: string | null;
  concurrency: ConcurrencyHold | null;
  lastSeq: number;
  /** When a run started for later (SCHEDULED) is queued. */
  startAt?: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export interface TaskRow {
  id: string;
  orgId: string;
  runId: string;
  stepId: string;
  position: number;
  capability: string;
  status: TaskStatus;
  dependsOn: string[];
  inputTemplate: unknown;
  input: unknown;
  output: unknown;
  error: ErrorInfo | null;
  pool: string;
  labels: Record<string, string>;
  timeoutMs: number;
  retry: RetryPolicy;
  maxAttempts: number;
  attempts: number;
  attemptsAtReset: number;
  lostAttempts: number;
  currentAttemptId: string | null;
  progress: number | null;
  progressMessage: string | null;
  /** Why it waits, while it has not started (domain/wait-reasons.ts). */
  waitReason: WaitReason | null;
  /** 1 … 5: its step's, else its run's, else its workflow's, else 3. */
  priority: number;
  /** Its step's concurrency key (`<workflow id>/<step>:<value>`) and policy, resolved when the run started. */
  concurrencyKey: string | null;
  concurrency: ConcurrencyHold | null;
  /** The named rate limits it consumes when it starts. */
  rateLimits: RateLimitUse[] | null;
  /** A forEach step's own task: its policy (the dispatcher expands it into item tasks). Null on item tasks. */
  forEach: ForEachPolicy | null;
  /** An item task: its forEach step's task, its place in the list and the item (null otherwise). */
  parentTaskId: string | null;
  itemIndex: number | null;
  item: unknown;
  /** The GPUs it asks of a worker (its step's resources), if any. */
  resources: GpuRequest | null;
  /** How long an attempt may wait for a worker before the task fails as QUEUE_TIMEOUT. */
  queueTimeoutMs: number | null;
  /** A wait step's task: its wait (src/waits/); null for every other task. */
  wait: WaitPolicy | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AttemptRow {
  id: string;
  orgId: string;
  runId: string;
  taskId: string;
  attempt: number;
  status: AttemptStatus;
  workerId: string | null;
  dispatcherId: string | null;
  availableAt: Date;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  error: ErrorInfo | null;
  /** The GPUs it was placed on, with the memory reserved on each (null: none). */
  gpus: AttemptGpu[] | null;
}

/** A GPU an attempt was placed on. */
export interface AttemptGpu {
  index: number;
  model: string;
  /** What the dispatcher reserved on it for the attempt. */
  memoryMiB: number;
}

export interface OutboxRow {
  attemptId: string;
  orgId: string;
  runId: string;
  taskId: string;
  pool: string;
  /** Its task's priority (what its queue job is ordered by). */
  priority: number;
  availableAt: Date;
  createdAt: Date;
  enqueuedAt: Date | null;
}

export interface DeadLetterRow {
  id: string;
  orgId: string;
  runId: string;
  taskId: string;
  attemptId: string | null;
  stepId: string;
  attempts: number;
  error: ErrorInfo;
  createdAt: Date;
  replayedAt: Date | null;
  replayedBy: string | null;
  discardedAt: Date | null;
  discardedBy: string | null;
}

export interface GpuResources {
  index: number;
  model: string;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  utilizationPercent: number;
}

export interface WorkerResources {
  cpuCount: number;
  cpuLoad: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  gpus: GpuResources[];
}

export type WorkerStatus = 'ONLINE' | 'LOST' | 'OFFLINE';

export interface WorkerRow {
  id: string;
  endpoint: string;
  pool: string;
  capabilities: string[];
  slotsTotal: number;
  slotsFree: number;
  labels: Record<string, string>;
  resources: WorkerResources | null;
  version: string | null;
  /** Base URLs of the LLM servers on its own machine it declared (worker-local providers run only here; migration 036). */
  llmEndpoints: string[];
  status: WorkerStatus;
  registeredAt: Date;
  lastHeartbeatAt: Date;
  leaseExpiresAt: Date;
  leftAt: Date | null;
  /** Attempts PostgreSQL has RUNNING on it (when the query counts them). */
  running?: number;
}

// Column names are few and every row repeats them: convert each once.
const camelNames = new Map<string, string>();
const camelName = (key: string): string => {
  let name = camelNames.get(key);
  if (name === undefined) {
    name = key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (camelNames.size < 10_000) camelNames.set(key, name);
  }
  return name;
};

/** snake_case → camelCase for a row object. */
export function camelRow<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const key in row) out[camelName(key)] = row[key];
  return out as T;
}

export const camelRows = <T>(rows: Array<Record<string, unknown>>): T[] => rows.map((r) => camelRow<T>(r));

const DATE_COLUMNS = new Set([
  'createdAt',
  'updatedAt',
  'startedAt',
  'finishedAt',
  'queuedAt',
  'availableAt',
  'registeredAt',
  'lastHeartbeatAt',
  'leaseExpiresAt',
  'leftAt',
  'replayedAt',
]);

/**
 * A row that a query returned as `to_jsonb(table_alias)` (so one statement can return rows of
 * several tables): camelCase keys, and the timestamp columns back to Dates as pg would give them.
 */
export function rowFromJson<T>(json: Record<string, unknown>): T {
  const row = camelRow<Record<string, unknown>>(json);
  for (const key of Object.keys(row)) {
    const value = row[key];
    if (typeof value === 'string' && DATE_COLUMNS.has(key)) row[key] = new Date(value);
  }
  return row as T;
}

/**
 * A named statement: each connection parses and plans it once, then only binds and executes it
 * (the per-task path runs a handful of statements thousands of times). Named statements return
 * jsonb or listed columns, never `*`, so a migration that adds a column cannot break a plan
 * cached by a running process ("cached plan must not change result type").
 */
export const prepared = (name: string, text: string, values: unknown[]): { name: string; text: string; values: unknown[] } => ({
  name: `orchestration.${name}`,
  text,
  values,
});
