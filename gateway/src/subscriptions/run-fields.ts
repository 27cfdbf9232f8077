import { AppError, badInput, isUuid, type Principal, type RunEvent } from '@orchestra/lib/gateway';
import type { SubscriptionField, EntityLink } from './registry';
import { batchingSink, type RunEventBatch } from './run-event-batches';
import type { RunFeeds } from './run-feeds';

export interface RunFieldDeps {
  feeds: RunFeeds;
  /** Whether `principal` can see run `runId` through the graph (row-level security), for runs Redis knows nothing about. */
  runVisible(principal: Principal, runId: string): Promise<boolean>;
}

const RUNS_READ = { role: 'viewer', scopes: ['runs:read'] } as const;

const requireId = (field: string, value: unknown): string => {
  if (typeof value !== 'string' || !isUuid(value)) throw badInput(field, `${field} ${JSON.stringify(value)} is not a valid id`, 'INVALID_ID');
  return value;
};

const runNotFound = (runId: string) => new AppError('NOT_FOUND', `run ${runId} not found in your organization`, { reason: 'RUN_NOT_FOUND' });

const parseAfterSeq = (raw: Record<string, unknown>): number => {
  const afterSeq = typeof raw['afterSeq'] === 'number' ? raw['afterSeq'] : 0;
  if (afterSeq < 0) throw badInput('afterSeq', 'afterSeq must be 0 or more', 'OUT_OF_RANGE');
  return afterSeq;
};

/** May `principal` watch run `runId`? Its organization's runs only (NOT_FOUND otherwise, as for a run that does not exist). */
async function authorizeRun({ feeds, runVisible }: RunFieldDeps, principal: Principal, runId: string): Promise<void> {
  // The run's stream carries its organization: most subscribers cost no query at all.
  const orgId = await feeds.orgOf(runId);
  if (orgId !== undefined) {
    if (orgId !== principal.orgId) throw runNotFound(runId);
    return;
  }
  // Nothing in Redis (an old run, a flushed Redis): ask the graph as the subscriber.
  if (!(await runVisible(principal, runId))) throw runNotFound(runId);
  feeds.learnOrg(runId, principal.orgId!);
}

/** Subscription.runEvents: one run's events in seq order, resumable after a seq. */
export function runEventsField(deps: RunFieldDeps): SubscriptionField<{ runId: string; afterSeq: number }, RunEvent> {
  return {
    name: 'runEvents',
    access: { role: RUNS_READ.role, scopes: [...RUNS_READ.scopes] },
    parseArgs: (raw) => ({ runId: requireId('runId', raw['runId']), afterSeq: parseAfterSeq(raw) }),
    authorizeResource: (principal, { runId }) => authorizeRun(deps, principal, runId),
    attach: ({ runId, afterSeq }, sink, principal) => deps.feeds.attachRun(runId, afterSeq, sink, principal),
    eventKey: (event) => `${event.runId}:${event.seq}`,
  };
}

/** How runEventBatches gathers events: how long a batch waits for more, and its most events. */
export interface RunBatchOptions {
  windowMs: number;
  maxEvents: number;
}

export const DEFAULT_RUN_BATCHES: RunBatchOptions = { windowMs: 200, maxEvents: 500 };
/** progressOf names at most this many tasks (a workflow has at most 200 steps). */
export const MAX_PROGRESS_OF = 1_000;

interface RunBatchArgs {
  runId: string;
  afterSeq: number;
  /** TASK_PROGRESS events of only these tasks; undefined: of all. */
  progressOf: ReadonlySet<string> | undefined;
}

/**
 * Subscription.runEventBatches: runEvents gathered into one message per short window
 * (run-event-batches.ts), optionally without the progress of tasks the subscriber does not show.
 */
export function runEventBatchesField(deps: RunFieldDeps, options: RunBatchOptions = DEFAULT_RUN_BATCHES): SubscriptionField<RunBatchArgs, RunEventBatch> {
  return {
    name: 'runEventBatches',
    access: { role: RUNS_READ.role, scopes: [...RUNS_READ.scopes] },
    parseArgs(raw) {
      const list = raw['progressOf'];
      let progressOf: Set<string> | undefined;
      if (Array.isArray(list)) {
        if (list.length > MAX_PROGRESS_OF) throw badInput('progressOf', `progressOf names at most ${MAX_PROGRESS_OF} tasks (got ${list.length})`, 'OUT_OF_RANGE');
        progressOf = new Set(list.map((id, i) => requireId(`progressOf[${i}]`, id)));
      }
      return { runId: requireId('runId', raw['runId']), afterSeq: parseAfterSeq(raw), progressOf };
    },
    authorizeResource: (principal, { runId }) => authorizeRun(deps, principal, runId),
    attach({ runId, afterSeq, progressOf }, sink, principal) {
      const keep = progressOf ? (event: RunEvent) => event.kind !== 'TASK_PROGRESS' || (event.taskId !== null && progressOf.has(event.taskId)) : undefined;
      const batches = batchingSink(runId, sink, { ...options, ...(keep ? { keep } : {}) });
      const detach = deps.feeds.attachRun(runId, afterSeq, batches, principal);
      return () => {
        batches.cancel();
        detach();
      };
    },
    // A batch is known by the seqs it covers: with the same arguments (part of the execution group), the same events.
    eventKey: (batch) => `${batch.runId}:${batch.firstSeq}-${batch.lastSeq}`,
  };
}

/** Subscription.runStatusChanged: the organization's run status changes, optionally of one workflow. */
export function runStatusChangedField({ feeds }: Pick<RunFieldDeps, 'feeds'>): SubscriptionField<{ workflowId: string | undefined }, RunEvent> {
  return {
    name: 'runStatusChanged',
    access: { role: RUNS_READ.role, scopes: [...RUNS_READ.scopes] },
    parseArgs(raw) {
      const workflowId = raw['workflowId'];
      return { workflowId: workflowId === undefined || workflowId === null ? undefined : requireId('workflowId', workflowId) };
    },
    // The feed is the principal's own organization's; nothing else to check.
    authorizeResource: () => Promise.resolve(),
    attach({ workflowId }, sink, principal) {
      return feeds.attachOrg(principal.orgId!, {
        offer: (event) => {
          if (workflowId === undefined || event.workflowId === workflowId) sink.offer(event);
        },
        complete: () => sink.complete(),
        fail: (error) => sink.fail(error),
      });
    },
    eventKey: (event) => `${event.runId}:${event.seq}`,
  };
}

/** RunEvent.run and RunEvent.task come from the federated graph by the keys the event carries. */
export const RUN_EVENT_LINKS: ReadonlyArray<EntityLink<RunEvent>> = [
  { type: 'RunEvent', field: 'run', rootField: 'run', keyOf: (event) => event.runId },
  { type: 'RunEvent', field: 'task', rootField: 'task', keyOf: (event) => event.taskId },
];
