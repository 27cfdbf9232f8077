import { badInput, isUuid, roleAtLeast, type RequestContext, type RunEvent } from '@orchestra/lib';
import type { Engine } from '../engine/engine';
import type { ConcurrencyInput } from '../domain/flow-control';
import { cancelRun, capabilitiesKnown, changeWorkflow, createWorkflow, publishWorkflowVersion, replayDeadLetter, retryRun, type CreateWorkflowInput } from '../engine/commands';
import type { RunStarts, StartRunInput } from '../engine/run-starts';
import { isTerminalTask, type RunStatus } from '../domain/states';
import type { StepDefinition, StepInput } from '../domain/workflow-definition';
import { createSecret, deleteSecret, rotateSecret } from '../secrets/secret-commands';
import { countDeadLetters, listDeadLetters } from '../store/dead-letters';
import { listRunEvents, listTaskLogs, streamedOutputOfTask } from '../store/events';
import type { DeadLetterRow, RunRow, TaskRow, WorkerRow, WorkflowRow, WorkflowVersionRow } from '../store/rows';
import { appRunStats, countRuns, findRun, listRuns, type RunFilter } from '../store/runs';
import { listSecrets } from '../store/secrets';
import { listWorkers, type WorkerFilter } from '../store/workers';
import { countWorkflows, findWorkflowByName, findWorkflowVersion, listWorkflows } from '../store/workflows';
import { artifactResolvers } from './artifacts';
import { flowControlResolvers } from './flow-control';
import { forEachResolvers } from './for-each';
import { runAttemptResolvers } from './run-attempts';
import { scheduleResolvers } from './schedules';
import { filterText, triageResolvers } from './triage';
import { eventResolvers } from './events';
import { waitResolvers } from './waits';
import { llmResolvers } from './llm';
import { appUsageSince, usageResolvers } from './usage';
import { metricsResolvers } from '../metrics/resolvers';
import { createLoaders, type Loaders } from './loaders';
import { connectionOf, decodeCursor, pageSize } from './pagination';
import { DateTime, JSONScalar } from './scalars';

export interface OrchestrationContext extends RequestContext {
  engine: Engine;
  runStarts: RunStarts;
  loaders: Loaders;
}

export const extendContext =
  (engine: Engine, runStarts: RunStarts) =>
  (base: RequestContext): OrchestrationContext => ({ ...base, engine, runStarts, loaders: createLoaders(engine, base.principal) });

type Ctx = OrchestrationContext;
interface PageArgs {
  first?: number | null;
  after?: string | null;
}
interface RunFilterInput {
  status?: RunStatus[] | null;
  workflowId?: string | null;
  appId?: string | null;
  startedBy?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  search?: string | null;
}

/** The longest text RunFilter.search takes (an idempotency key is at most this long). */
export const RUN_SEARCH_MAX = 200;

function runSearchOf(search: string | null | undefined): RunFilter['search'] {
  if (search === null || search === undefined) return undefined;
  const text = search.trim();
  if (text === '') return undefined;
  if (text.length > RUN_SEARCH_MAX) throw badInput('filter.search', `filter.search is longer than ${RUN_SEARCH_MAX} characters`, 'TOO_LONG');
  return { runId: isUuid(text) ? text.toLowerCase() : undefined, idempotencyKey: text };
}

const uuidOrThrow = (value: string | null | undefined, field: string): string | undefined => {
  if (value === null || value === undefined) return undefined;
  if (!isUuid(value)) throw badInput(field, `${field} must be an id (a UUID)`, 'INVALID_ID');
  return value;
};

function runFilterOf(input: RunFilterInput | null | undefined, fixed: Partial<RunFilter> = {}): RunFilter {
  const filter: RunFilter = {
    statuses: input?.status ?? undefined,
    workflowId: uuidOrThrow(input?.workflowId, 'filter.workflowId'),
    appId: uuidOrThrow(input?.appId, 'filter.appId'),
    startedByUserId: input?.startedBy ?? undefined,
    createdAfter: input?.createdAfter ?? undefined,
    createdBefore: input?.createdBefore ?? undefined,
    search: runSearchOf(input?.search),
    ...fixed,
  };
  if (filter.createdAfter && filter.createdBefore && filter.createdAfter >= filter.createdBefore) {
    throw badInput('filter.createdBefore', 'createdBefore must be later than createdAfter', 'INVALID_RANGE');
  }
  return filter;
}

async function runConnection(ctx: Ctx, args: PageArgs, filter: RunFilter) {
  const size = pageSize(args.first);
  const after = decodeCursor(args.after, isUuid);
  const { rows, total } = await ctx.engine.inTenant(ctx.principal, async (tx) => ({
    rows: await listRuns(tx, filter, after, size + 1),
    total: await countRuns(tx, filter),
  }));
  rows.forEach((r) => ctx.loaders.run.prime(r.id, r));
  return connectionOf(rows, size, total, (r) => r.id, after !== undefined);
}

const stepInputsOf = (steps: ReadonlyArray<StepInput>): StepInput[] => steps.map((s) => ({ ...s }));
/** Infrastructure detail of the fleet (worker addresses, their LLM servers) is shown to admins and owners only. */
const seesInfrastructure = (ctx: Ctx): boolean => ctx.principal.kind === 'user' && roleAtLeast(ctx.principal.role, 'admin');
const labelsOf = (labels: Record<string, string>) => Object.entries(labels).map(([key, value]) => ({ key, value }));
const durationOf = (start: Date | null, end: Date | null): number | null => (start && end ? end.getTime() - start.getTime() : null);
const WINDOW_MS: Record<string, number> = { LAST_HOUR: 3_600_000, LAST_24_HOURS: 86_400_000, LAST_7_DAYS: 7 * 86_400_000, LAST_30_DAYS: 30 * 86_400_000 };

export const resolvers = {
  DateTime,
  JSON: JSONScalar,

  Query: {
    async workflows(_: unknown, args: PageArgs & { filter?: { appId?: string | null; search?: string | null } | null }, ctx: Ctx) {
      const size = pageSize(args.first);
      const after = decodeCursor(args.after);
      const filter = { appId: uuidOrThrow(args.filter?.appId, 'filter.appId'), search: args.filter?.search ?? undefined };
      const { rows, total } = await ctx.engine.inTenant(ctx.principal, async (tx) => ({
        rows: await listWorkflows(tx, filter, after, size + 1),
        total: await countWorkflows(tx, filter),
      }));
      return connectionOf(rows, size, total, (w) => w.name, after !== undefined);
    },
    async workflow(_: unknown, args: { id?: string | null; name?: string | null }, ctx: Ctx) {
      if ((args.id == null) === (args.name == null)) throw badInput('id', 'give exactly one of id and name', 'ID_OR_NAME');
      if (args.id != null) return isUuid(args.id) ? ((await ctx.loaders.workflow.load(args.id)) ?? null) : null;
      return (await ctx.engine.inTenant(ctx.principal, (tx) => findWorkflowByName(tx, args.name as string))) ?? null;
    },
    runs: (_: unknown, args: PageArgs & { filter?: RunFilterInput | null }, ctx: Ctx) => runConnection(ctx, args, runFilterOf(args.filter)),
    async run(_: unknown, { id }: { id: string }, ctx: Ctx) {
      return isUuid(id) ? ((await ctx.loaders.run.load(id)) ?? null) : null;
    },
    async task(_: unknown, { id }: { id: string }, ctx: Ctx) {
      return isUuid(id) ? ((await ctx.loaders.task.load(id)) ?? null) : null;
    },
    async deadLetters(
      _: unknown,
      args: PageArgs & { filter?: { runId?: string | null; includeReplayed?: boolean | null; errorCode?: string | null; stepId?: string | null; workflowId?: string | null } | null },
      ctx: Ctx,
    ) {
      const size = pageSize(args.first);
      const after = decodeCursor(args.after, isUuid);
      const filter = {
        runId: uuidOrThrow(args.filter?.runId, 'filter.runId'),
        includeReplayed: args.filter?.includeReplayed ?? false,
        errorCode: filterText(args.filter?.errorCode, 'filter.errorCode'),
        stepId: filterText(args.filter?.stepId, 'filter.stepId'),
        workflowId: uuidOrThrow(args.filter?.workflowId, 'filter.workflowId'),
      };
      const { rows, total } = await ctx.engine.inTenant(ctx.principal, async (tx) => ({
        rows: await listDeadLetters(tx, filter, after, size + 1),
        total: await countDeadLetters(tx, filter),
      }));
      return connectionOf(rows, size, total, (d) => d.id, after !== undefined);
    },
    async workers(_: unknown, args: { filter?: { pool?: string | null; status?: WorkerFilter['statuses'] | null; capability?: string | null } | null }, ctx: Ctx) {
      // The fleet is shared infrastructure: counted across every org (no tenant rows are returned).
      return ctx.engine.inSystem((tx) =>
        listWorkers(tx, { pool: args.filter?.pool ?? undefined, statuses: args.filter?.status ?? undefined, capability: args.filter?.capability ?? undefined }),
      );
    },
    async capabilities(_: unknown, _args: unknown, ctx: Ctx) {
      return [...(await ctx.engine.inTenant(ctx.principal, (tx) => capabilitiesKnown(tx)))].sort();
    },
    secrets: (_: unknown, _args: unknown, ctx: Ctx) => ctx.engine.inTenant(ctx.principal, (tx) => listSecrets(tx)),
    ...flowControlResolvers.Query,
    ...artifactResolvers.Query,
    ...scheduleResolvers.Query,
    ...eventResolvers.Query,
    ...llmResolvers.Query,
    ...usageResolvers.Query,
    ...triageResolvers.Query,
    ...waitResolvers.Query,
    ...metricsResolvers.Query,
  },

  Mutation: {
    async createWorkflow(_: unknown, { input }: { input: CreateWorkflowInput }, ctx: Ctx) {
      const { workflow } = await createWorkflow(ctx.engine, ctx.principal, { ...input, steps: stepInputsOf(input.steps) });
      return workflow;
    },
    publishWorkflowVersion: (_: unknown, args: { workflowId: string; steps: StepInput[]; options?: { priority?: number | null; concurrency?: ConcurrencyInput | null } | null }, ctx: Ctx) =>
      publishWorkflowVersion(ctx.engine, ctx.principal, args.workflowId, stepInputsOf(args.steps), args.options ?? {}),
    updateWorkflow: (_: unknown, args: { id: string; input: { description?: string | null; appId?: string | null } }, ctx: Ctx) =>
      changeWorkflow(ctx.engine, ctx.principal, args.id, args.input),
    startRun: (_: unknown, { input }: { input: StartRunInput }, ctx: Ctx) => ctx.runStarts.startRun(ctx.principal, input),
    startRuns: async (_: unknown, { inputs }: { inputs: StartRunInput[] }, ctx: Ctx) => ({ runs: await ctx.runStarts.startRuns(ctx.principal, inputs) }),
    cancelRun: (_: unknown, args: { id: string; reason?: string | null }, ctx: Ctx) => cancelRun(ctx.engine, ctx.principal, args.id, args.reason),
    retryRun: (_: unknown, args: { id: string }, ctx: Ctx) => retryRun(ctx.engine, ctx.principal, args.id),
    replayDeadLetter: (_: unknown, args: { id: string }, ctx: Ctx) => replayDeadLetter(ctx.engine, ctx.principal, args.id),
    createSecret: (_: unknown, args: { name: string; value: string }, ctx: Ctx) => createSecret(ctx.engine, ctx.principal, args),
    rotateSecret: (_: unknown, args: { name: string; value: string }, ctx: Ctx) => rotateSecret(ctx.engine, ctx.principal, args),
    deleteSecret: (_: unknown, args: { name: string }, ctx: Ctx) => deleteSecret(ctx.engine, ctx.principal, args.name),
    ...flowControlResolvers.Mutation,
    ...artifactResolvers.Mutation,
    ...scheduleResolvers.Mutation,
    ...eventResolvers.Mutation,
    ...llmResolvers.Mutation,
    ...triageResolvers.Mutation,
    ...waitResolvers.Mutation,
  },

  Workflow: {
    __resolveReference: async (ref: { id: string }, ctx: Ctx) => (isUuid(ref.id) ? ((await ctx.loaders.workflow.load(ref.id)) ?? null) : null),
    app: (w: WorkflowRow) => (w.appId ? { __typename: 'App', id: w.appId } : null),
    latestVersion: async (w: WorkflowRow, _: unknown, ctx: Ctx) => (await ctx.loaders.versionsOfWorkflow.load(w.id))?.find((v) => v.version === w.latestVersion),
    version: async (w: WorkflowRow, { number }: { number: number }, ctx: Ctx) =>
      (await ctx.engine.inTenant(ctx.principal, (tx) => findWorkflowVersion(tx, w.id, number))) ?? null,
    versions: async (w: WorkflowRow, _: unknown, ctx: Ctx) => (await ctx.loaders.versionsOfWorkflow.load(w.id)) ?? [],
    runs: (w: WorkflowRow, args: PageArgs & { filter?: RunFilterInput | null }, ctx: Ctx) => runConnection(ctx, args, runFilterOf(args.filter, { workflowId: w.id })),
    ...usageResolvers.Workflow,
  },

  WorkflowVersion: {
    number: (v: WorkflowVersionRow) => v.version,
    ...flowControlResolvers.WorkflowVersion,
  },

  Step: {
    labels: (s: StepDefinition) => labelsOf(s.labels),
    ...flowControlResolvers.Step,
  },

  RateLimit: flowControlResolvers.RateLimit,
  Schedule: scheduleResolvers.Schedule,
  ScheduleFire: scheduleResolvers.ScheduleFire,
  Trigger: eventResolvers.Trigger,
  InboundWebhookDelivery: eventResolvers.InboundWebhookDelivery,
  Event: eventResolvers.Event,
  EventStart: eventResolvers.EventStart,
  LlmProvider: llmResolvers.LlmProvider,
  LlmModelAlias: llmResolvers.LlmModelAlias,

  UsageGroup: usageResolvers.UsageGroup,
  DeadLetterGroup: triageResolvers.DeadLetterGroup,
  UsageSeriesPoint: metricsResolvers.UsageSeriesPoint,

  Run: {
    ...usageResolvers.Run,
    __resolveReference: async (ref: { id: string }, ctx: Ctx) => (isUuid(ref.id) ? ((await ctx.loaders.run.load(ref.id)) ?? null) : null),
    workflow: async (r: RunRow, _: unknown, ctx: Ctx) => ctx.loaders.workflow.load(r.workflowId),
    app: (r: RunRow) => (r.appId ? { __typename: 'App', id: r.appId } : null),
    startedBy: (r: RunRow) => (r.startedByUserId ? { __typename: 'User', id: r.startedByUserId } : null),
    startedByName: (r: RunRow) => r.startedByDisplay ?? `${r.startedByKind}:${r.startedById}`,
    durationMs: (r: RunRow) => durationOf(r.createdAt, r.finishedAt),
    tasks: async (r: RunRow, _: unknown, ctx: Ctx) => (await ctx.loaders.tasksOfRun.load(r.id)) ?? [],
    async events(r: RunRow, args: { afterSeq?: number | null; first?: number | null }, ctx: Ctx) {
      const first = args.first ?? 100;
      if (!Number.isInteger(first) || first < 1 || first > 1000) throw badInput('first', 'first must be between 1 and 1000', 'INVALID_PAGE_SIZE');
      return ctx.engine.inTenant(ctx.principal, (tx) => listRunEvents(tx, r.id, Math.max(0, args.afterSeq ?? 0), first));
    },
    ...runAttemptResolvers.Run,
  },

  Task: {
    __resolveReference: async (ref: { id: string }, ctx: Ctx) => (isUuid(ref.id) ? ((await ctx.loaders.task.load(ref.id)) ?? null) : null),
    run: async (t: TaskRow, _: unknown, ctx: Ctx) => ctx.loaders.run.load(t.runId),
    attempts: (t: TaskRow) => t.attempts - t.attemptsAtReset,
    attemptHistory: async (t: TaskRow, _: unknown, ctx: Ctx) => (await ctx.loaders.attemptsOfTask.load(t.id)) ?? [],
    workerId: async (t: TaskRow, _: unknown, ctx: Ctx) => (await ctx.loaders.attemptsOfTask.load(t.id))?.find((a) => a.id === t.currentAttemptId)?.workerId ?? null,
    gpus: async (t: TaskRow, _: unknown, ctx: Ctx) => (await ctx.loaders.attemptsOfTask.load(t.id))?.find((a) => a.id === t.currentAttemptId)?.gpus ?? [],
    durationMs: (t: TaskRow) => durationOf(t.startedAt, t.finishedAt),
    priority: (t: TaskRow) => t.priority ?? 3,
    concurrencyKey: (t: TaskRow) => t.concurrency?.value ?? null,
    // A reason is shown only while the task has not started (a late write may outlive the wait).
    waitReason: (t: TaskRow) => (t.status === 'RUNNING' || isTerminalTask(t.status) ? null : t.waitReason),
    async logs(t: TaskRow, args: { afterSeq?: number | null; first?: number | null }, ctx: Ctx) {
      const first = args.first ?? 200;
      if (!Number.isInteger(first) || first < 1 || first > 1000) throw badInput('first', 'first must be between 1 and 1000', 'INVALID_PAGE_SIZE');
      return ctx.engine.inTenant(ctx.principal, (tx) => listTaskLogs(tx, t.id, Math.max(0, args.afterSeq ?? 0), first));
    },
    ...usageResolvers.Task,
    streamedOutput: (t: TaskRow, _: unknown, ctx: Ctx) => ctx.engine.inTenant(ctx.principal, (tx) => streamedOutputOfTask(tx, t.id)),
    ...artifactResolvers.Task,
    ...forEachResolvers.Task,
    ...waitResolvers.Task,
  },

  Approval: waitResolvers.Approval,
  StepWait: waitResolvers.StepWait,

  TaskAttempt: {
    number: (a: { attempt: number }) => a.attempt,
    gpus: (a: { gpus?: unknown[] | null }) => a.gpus ?? [],
    ...artifactResolvers.TaskAttempt,
    ...runAttemptResolvers.TaskAttempt,
  },

  Artifact: artifactResolvers.Artifact,

  TaskLogLine: {
    level: (e: RunEvent) => e.level ?? 'INFO',
    message: (e: RunEvent) => e.message ?? '',
  },

  RunEvent: {
    // Events recorded before the kind existed have no field at all.
    outputDelta: (e: RunEvent) => e.outputDelta ?? null,
    waitReason: (e: RunEvent) => e.waitReason ?? null,
    run: async (e: RunEvent, _: unknown, ctx: Ctx) => ctx.loaders.run.load(e.runId),
    task: async (e: RunEvent, _: unknown, ctx: Ctx) => (e.taskId ? ((await ctx.loaders.task.load(e.taskId)) ?? null) : null),
  },

  DeadLetter: {
    task: async (d: DeadLetterRow, _: unknown, ctx: Ctx) => ctx.loaders.task.load(d.taskId),
    run: async (d: DeadLetterRow, _: unknown, ctx: Ctx) => ctx.loaders.run.load(d.runId),
  },

  Worker: {
    endpoint: (w: WorkerRow, _: unknown, ctx: Ctx) => (seesInfrastructure(ctx) ? w.endpoint : null),
    llmEndpoints: (w: WorkerRow, _: unknown, ctx: Ctx) => (seesInfrastructure(ctx) ? w.llmEndpoints : null),
    labels: (w: WorkerRow) => labelsOf(w.labels),
    running: (w: WorkerRow) => w.running ?? 0,
  },

  User: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    runs: (u: { id: string }, args: PageArgs & { filter?: RunFilterInput | null }, ctx: Ctx) => runConnection(ctx, args, runFilterOf(args.filter, { startedByUserId: u.id })),
  },

  App: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    async workflows(a: { id: string }, _: unknown, ctx: Ctx) {
      if (!isUuid(a.id)) return [];
      return ctx.engine.inTenant(ctx.principal, (tx) => listWorkflows(tx, { appId: a.id }, undefined, 500));
    },
    runs: (a: { id: string }, args: PageArgs & { filter?: RunFilterInput | null }, ctx: Ctx) =>
      isUuid(a.id) ? runConnection(ctx, args, runFilterOf(args.filter, { appId: a.id })) : connectionOf([], 1, 0, () => '', false),
    async stats(a: { id: string }, { window }: { window: string }, ctx: Ctx) {
      const since = new Date(Date.now() - (WINDOW_MS[window] ?? WINDOW_MS['LAST_24_HOURS']!));
      const stats = isUuid(a.id)
        ? await ctx.engine.inTenant(ctx.principal, (tx) => appRunStats(tx, a.id, since))
        : { runs: 0, succeeded: 0, failed: 0, cancelled: 0, active: 0, p50DurationMs: null, p95DurationMs: null };
      const finished = stats.succeeded + stats.failed + stats.cancelled;
      const usage = await appUsageSince(ctx, a.id, since);
      return { window, ...stats, successRate: finished === 0 ? null : stats.succeeded / finished, usage };
    },
  },
};

/** A run by id under the principal's org (the gRPC service reads runs this way). */
export const readRun = (engine: Engine, principal: Parameters<Engine['inTenant']>[0], id: string): Promise<RunRow | undefined> =>
  isUuid(id) ? engine.inTenant(principal, (tx) => findRun(tx, id)) : Promise.resolve(undefined);
