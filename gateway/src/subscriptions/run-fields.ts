import { AppError, badInput, isUuid, type Principal, type RunEvent } from '@orchestra/lib/gateway';
import type { SubscriptionField, EntityLink } from './registry';
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

/** Subscription.runEvents: one run's events in seq order, resumable after a seq. */
export function runEventsField({ feeds, runVisible }: RunFieldDeps): SubscriptionField<{ runId: string; afterSeq: number }, RunEvent> {
  return {
    name: 'runEvents',
    access: { role: RUNS_READ.role, scopes: [...RUNS_READ.scopes] },
    parseArgs(raw) {
      const afterSeq = typeof raw['afterSeq'] === 'number' ? raw['afterSeq'] : 0;
      if (afterSeq < 0) throw badInput('afterSeq', 'afterSeq must be 0 or more', 'OUT_OF_RANGE');
      return { runId: requireId('runId', raw['runId']), afterSeq };
    },
    async authorizeResource(principal, { runId }) {
      // The run's stream carries its organization: most subscribers cost no query at all.
      const orgId = await feeds.orgOf(runId);
      if (orgId !== undefined) {
        if (orgId !== principal.orgId) throw runNotFound(runId);
        return;
      }
      // Nothing in Redis (an old run, a flushed Redis): ask the graph as the subscriber.
      if (!(await runVisible(principal, runId))) throw runNotFound(runId);
      feeds.learnOrg(runId, principal.orgId!);
    },
    attach: ({ runId, afterSeq }, sink, principal) => feeds.attachRun(runId, afterSeq, sink, principal),
    eventKey: (event) => `${event.runId}:${event.seq}`,
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
