import { isDeepStrictEqual } from 'node:util';
import { AppError, badInput, buildAuditEvent, checkJsonInput, isUniqueViolation, isUuid, newId, traceIdOf, type OutboxAuditEvent, type Principal } from '@orchestra/lib';
import { checkPriority } from '../domain/flow-control';
import { resolveRunFlow } from '../domain/run-flow';
import { noteQuotaRefusals, quotaRefusalOf, startBudget } from '../flow-control/quota-checks';
import { collectTemplates, parseTemplate, resolveTemplates, TemplateError } from '../domain/templates';
import type { RunRow, WorkflowVersionRow } from '../store/rows';
import { insertRunStarts, lookupRunStarts, startedRunRow, type RunStart, type WorkflowRef } from '../store/run-starts';
import type { NewRun } from '../store/runs';
import { createBatcher } from './coalescer';
import { SERVICE, type Engine } from './engine';
import { planAttempts, type TransitionContext } from './transitions';

/**
 * Starting runs (DESIGN.md §4): each start writes its run, tasks, first attempts with their queue
 * outbox rows, events and audit outbox row; after the commit the attempts are enqueued. Starts are
 * written together: every start of a startRuns call in one transaction (all or nothing), and
 * startRun calls of one organization that arrive while a start transaction runs go together into
 * the next one (each keeps its own answer or error). A transaction of any number of starts is four
 * round trips: BEGIN with the tenant settings, one read (lookupRunStarts: the workflow versions, the
 * idempotency keys, the organization's quotas), one write (insertRunStarts: the audit rows and the
 * queue places' fair ranks included), COMMIT; nothing is read back. An organization with a start
 * quota adds its quota lock and one count (quota-checks.ts).
 */

const MAX_RUN_INPUT_BYTES = 256 * 1024;
/** Runs one startRuns call starts, at most. */
export const MAX_START_RUNS = 100;
/** The inputs of one startRuns call together, at most (each also at most 256 KiB). */
export const MAX_START_RUNS_INPUT_BYTES = 2 * 1024 * 1024;
/** Starts written in one transaction, at most (startRun calls batched together). */
const START_BATCH_MAX = 64;
/** Start transactions of one organization under way at once. */
const START_BATCHES_AT_ONCE = 2;

export interface StartRunInput {
  workflowId?: string | null;
  workflowName?: string | null;
  /** 0 or absent: the latest version. */
  version?: number | null;
  input?: unknown;
  idempotencyKey?: string | null;
  /** 1 … 5: its tasks' priority where their step sets none (default: the workflow's, else 3). */
  priority?: number | null;
  /** Start later: the run is SCHEDULED until then (at most a year ahead; a time already past starts it now). */
  startAt?: Date | null;
}

export interface StartRunResult {
  run: RunRow;
  /** The idempotency key matched an earlier run, which is returned. */
  deduplicated: boolean;
}

/** Who did it, as runs remember it. */
const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;

/** A start whose input passed the checks that need no database. */
interface CheckedStart {
  principal: Principal;
  /** Where its input sits in the request (`input`, `inputs[3]`): errors name their field under it. */
  field: string;
  ref: WorkflowRef;
  /** How the workflow was named (for messages). */
  named: string;
  key: string | null;
  input: Record<string, unknown>;
  bytes: number;
  priority: number | null;
  startAt: Date | null;
}

/** How far ahead a run may be started for later. */
export const MAX_START_AT_AHEAD_MS = 366 * 86_400_000;

function checkStartAt(startAt: Date | null | undefined, field: string): Date | null {
  if (startAt === null || startAt === undefined) return null;
  if (!(startAt instanceof Date) || Number.isNaN(startAt.getTime())) throw badInput(field, 'startAt is an ISO 8601 instant', 'INVALID_START_AT');
  const ahead = startAt.getTime() - Date.now();
  if (ahead > MAX_START_AT_AHEAD_MS) throw badInput(field, 'startAt is at most a year ahead', 'START_AT_TOO_FAR');
  return ahead > 0 ? startAt : null;
}

/** Checks one start's input (no database); throws BAD_USER_INPUT (or NOT_FOUND for an id that is not one) naming the field. */
export function checkStart(principal: Principal, input: StartRunInput, field: string): CheckedStart {
  const byId = input.workflowId ?? undefined;
  const byName = input.workflowName ?? undefined;
  if ((byId === undefined) === (byName === undefined)) throw badInput(`${field}.workflowId`, 'give exactly one of workflowId and workflowName', 'WORKFLOW_REQUIRED');
  if (byId !== undefined && !isUuid(byId)) throw new AppError('NOT_FOUND', `workflow ${byId} not found`, { reason: 'WORKFLOW_NOT_FOUND', field: `${field}.workflowId` });
  const key = input.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || key.length > 200)) throw badInput(`${field}.idempotencyKey`, 'an idempotency key has 1 to 200 characters', 'INVALID_IDEMPOTENCY_KEY');
  const runInput = input.input ?? {};
  if (runInput === null || typeof runInput !== 'object' || Array.isArray(runInput)) throw badInput(`${field}.input`, 'a run input is a JSON object', 'INVALID_RUN_INPUT');
  // Nested at most what a worker decodes, text PostgreSQL can store (issue 9 items 7, 9), naming the place.
  checkJsonInput(runInput, `${field}.input`);
  const bytes = JSON.stringify(runInput).length;
  if (bytes > MAX_RUN_INPUT_BYTES) throw badInput(`${field}.input`, `a run input has at most ${MAX_RUN_INPUT_BYTES} bytes`, 'RUN_INPUT_TOO_LARGE');
  const version = input.version ?? 0;
  if (!Number.isInteger(version) || version < 0) throw badInput(`${field}.version`, 'version is a positive number (0 or none for the latest)', 'INVALID_VERSION');
  const priority = checkPriority(input.priority, `${field}.priority`, 'the run') ?? null;
  const startAt = checkStartAt(input.startAt, `${field}.startAt`);
  return {
    principal,
    field,
    priority,
    startAt,
    ref: byId !== undefined ? { workflowId: byId, version } : { workflowName: byName, version },
    named: byId ?? (byName as string),
    key,
    input: runInput as Record<string, unknown>,
    bytes,
  };
}

/** Every `{{ input.x }}` of the version must exist in the run's input: say so now rather than when the step runs. */
export function checkInputReferences(version: WorkflowVersionRow, input: unknown, field: string): void {
  for (const step of version.steps) {
    for (const expression of collectTemplates(step.input)) {
      if (parseTemplate(expression).root !== 'input') continue;
      try {
        resolveTemplates(`{{ ${expression} }}`, { input, steps: {}, run: { id: '' } });
      } catch (error) {
        if (error instanceof TemplateError) throw badInput(`${field}.input`, `the run input does not fit step "${step.id}": ${error.message}`, 'MISSING_RUN_INPUT');
        throw error;
      }
    }
  }
}

/** The earlier run of an idempotency key is the answer when the workflow and input match; CONFLICT otherwise. */
function checkSameStart(start: CheckedStart, earlier: { id: string; workflowId: string; input: unknown }, workflowId: string): void {
  if (earlier.workflowId !== workflowId || !isDeepStrictEqual(earlier.input, start.input)) {
    throw new AppError('CONFLICT', `idempotency key "${start.key}" was already used for run ${earlier.id} with a different workflow or input`, {
      reason: 'IDEMPOTENCY_KEY_REUSED',
      field: `${start.field}.idempotencyKey`,
    });
  }
}

export type StartOutcome = { ok: true; result: StartRunResult } | { ok: false; error: AppError };

/**
 * Starts runs in the transaction of `ctx` (one organization's): one statement reads every
 * workflow version and idempotency key, one writes every new run with its audit row. A start that
 * cannot be made (no such workflow or version, an input that does not fit, a key used for another
 * input) gets its error and writes nothing; the others go on, unless `allOrNothing`: then the first
 * such error is thrown before anything is written.
 */
async function writeStarts(ctx: TransitionContext, engine: Engine, starts: readonly CheckedStart[], { allOrNothing = false } = {}): Promise<StartOutcome[]> {
  const orgId = (starts[0] as CheckedStart).principal.orgId as string;
  const lookup = await lookupRunStarts(
    ctx.tx,
    orgId,
    starts.map((s) => s.ref),
    starts.flatMap((s) => (s.key === null ? [] : [s.key])),
  );
  // Quotas (runs per minute, queued tasks, waiting wait steps) of the organization, counted only when one applies.
  const startsWaits = lookup.workflows.some((found) => found?.version?.steps.some((step) => step.dependsOn.length === 0 && step.wait));
  const budget = await startBudget(ctx.tx, orgId, engine.config, { startsWaits, quota: lookup.quota });
  const outcomes: Array<StartOutcome | { ok: true; planned: number; deduplicated: boolean }> = [];
  const writes: RunStart[] = [];
  const audit: OutboxAuditEvent[] = [];
  /** Starts of this batch by idempotency key: a second start with the same key answers with the first's run. */
  const plannedByKey = new Map<string, number>();
  for (const [i, start] of starts.entries()) {
    const { principal, key } = start;
    try {
      const found = lookup.workflows[i];
      if (!found) throw new AppError('NOT_FOUND', `workflow ${start.named} not found`, { reason: 'WORKFLOW_NOT_FOUND', field: `${start.field}.${start.ref.workflowId !== undefined ? 'workflowId' : 'workflowName'}` });
      const { workflow, version } = found;
      const earlier = key === null ? undefined : lookup.earlier.get(key);
      const planned = key === null ? undefined : plannedByKey.get(key);
      if (earlier || planned !== undefined) {
        const run = earlier ?? (writes[planned as number] as RunStart).run;
        checkSameStart(start, run, workflow.id);
        audit.push(buildAuditEvent(SERVICE, principal, { action: 'run.start', targetType: 'Run', targetId: run.id, diff: { deduplicated: true, idempotencyKey: key } }));
        outcomes.push(earlier ? { ok: true, result: { run: earlier, deduplicated: true } } : { ok: true, planned: planned as number, deduplicated: true });
        continue;
      }
      const number = start.ref.version === 0 ? workflow.latestVersion : start.ref.version;
      if (!version) throw new AppError('NOT_FOUND', `workflow "${workflow.name}" has no version ${number}`, { reason: 'WORKFLOW_VERSION_NOT_FOUND', field: `${start.field}.version` });
      checkInputReferences(version, start.input, start.field);
      const flow = resolveRunFlow(workflow.id, version.options, version.steps, start.input, start.priority, start.field);
      const newRun: NewRun = {
        id: newId(),
        orgId: principal.orgId as string,
        workflowId: workflow.id,
        workflowVersion: number,
        appId: workflow.appId,
        input: start.input,
        idempotencyKey: key,
        startedByKind: principal.kind,
        startedById: principal.id,
        startedByUserId: principal.userId ?? null,
        startedByApiKeyId: principal.apiKeyId ?? null,
        startedByDisplay: principal.display ?? null,
        requestId: principal.requestId,
        // Kept only when well-formed (the gateway always sends one that is).
        traceparent: traceIdOf(principal.traceparent) === undefined ? null : (principal.traceparent ?? null),
        ...flow.run,
        ...(start.startAt ? { startAt: start.startAt } : {}),
      };
      // Its first steps: wait steps start waiting (waitingTasks), the others are queued for a worker (queuedTasks).
      const roots = version.steps.filter((step) => step.dependsOn.length === 0);
      budget?.take(roots.filter((step) => !step.wait).length, roots.filter((step) => step.wait).length);
      const tasks = version.steps.map((step) => ({ id: newId(), step, ...(flow.tasks.get(step.id) as NonNullable<ReturnType<typeof flow.tasks.get>>) }));
      const startedBy = `started by ${actorOf(principal)} (workflow "${workflow.name}" v${number})`;
      ctx.effects.event(newRun, start.startAt ? { kind: 'RUN_STATUS', runStatus: 'SCHEDULED', message: `${startedBy} to start at ${start.startAt.toISOString()}` } : { kind: 'RUN_STATUS', runStatus: 'QUEUED', message: startedBy });
      // A run for later queues nothing now: the schedule ticker queues its first tasks at startAt.
      const attempts = start.startAt ? [] : planAttempts(
        ctx,
        newRun,
        tasks.filter(({ step }) => step.dependsOn.length === 0).map(({ id, step, priority }) => ({ id, stepId: step.id, status: 'PENDING' as const, attempts: 0, pool: step.pool, priority, wait: step.wait ?? null })),
      );
      if (key !== null) plannedByKey.set(key, writes.length);
      outcomes.push({ ok: true, planned: writes.length, deduplicated: false });
      writes.push({ run: newRun, tasks, attempts, events: ctx.effects.takeNewRunEvents(newRun.id) });
      audit.push(
        buildAuditEvent(SERVICE, principal, {
          action: 'run.start',
          targetType: 'Run',
          targetId: newRun.id,
          diff: { after: { workflowId: workflow.id, workflow: workflow.name, version: number, idempotencyKey: key } },
        }),
      );
    } catch (error) {
      if (!(error instanceof AppError) || allOrNothing) throw error;
      outcomes.push({ ok: false, error });
    }
  }
  // A quota that refused starts tells the organization's admins, once per quota per window (this transaction commits).
  if (budget) await noteQuotaRefusals(ctx.tx, SERVICE, orgId, outcomes.flatMap((o) => ('error' in o ? [o.error] : [])));
  if (writes.length === 0 && audit.length === 0) return outcomes as StartOutcome[];
  const { at, fairRanks } = await insertRunStarts(ctx.tx, writes, audit);
  // Their queue places were ranked by the insert (engine.ts ranks only what is still unranked).
  for (const entry of ctx.effects.enqueue) {
    const rank = fairRanks.get(entry.attemptId);
    if (rank !== undefined) entry.rank = rank;
  }
  const rows = writes.map((w) => startedRunRow(w.run, w.events.length, at));
  for (const w of writes) {
    const { run, tasks } = w;
    engine.log.info('run started', { runId: run.id, orgId: run.orgId, workflowId: run.workflowId, version: run.workflowVersion, tasks: tasks.length, requestId: run.requestId, traceId: traceIdOf(run.traceparent ?? undefined) });
  }
  return outcomes.map((o) => ('planned' in o ? { ok: true, result: { run: rows[o.planned] as RunRow, deduplicated: o.deduplicated } } : o));
}

/**
 * Starts runs in the caller's transaction (`ctx`, of `principal`'s organization), as startRun
 * would: a schedule's tick or an event's trigger starts its runs in the transaction that records
 * why. A start that cannot be made answers its error and writes nothing; the others go on.
 */
export async function startRunsIn(ctx: TransitionContext, engine: Engine, principal: Principal, inputs: readonly StartRunInput[], field = 'input'): Promise<StartOutcome[]> {
  return startRunsAsIn(
    ctx,
    engine,
    inputs.map((input, i) => ({ principal, input, field: inputs.length === 1 ? field : `${field}[${i}]` })),
  );
}

/**
 * startRunsIn with a principal per start (each of ctx's organization): the schedule ticker starts the
 * runs of many schedules in one statement, each run started by its own schedule.
 */
export async function startRunsAsIn(ctx: TransitionContext, engine: Engine, starts: ReadonlyArray<{ principal: Principal; input: StartRunInput; field: string }>): Promise<StartOutcome[]> {
  const checked: Array<CheckedStart | AppError> = starts.map(({ principal, input, field }) => {
    try {
      return checkStart(principal, input, field);
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
  });
  const valid = checked.filter((c): c is CheckedStart => !(c instanceof AppError));
  const written = valid.length === 0 ? [] : await writeStarts(ctx, engine, valid);
  let next = 0;
  return checked.map((c) => (c instanceof AppError ? { ok: false, error: c } : (written[next++] as StartOutcome)));
}

export interface RunStarts {
  /** Starts one run; the same idempotency key returns the same run. Written together with the other starts of its organization under way. */
  startRun(principal: Principal, input: StartRunInput): Promise<StartRunResult>;
  /**
   * Starts up to MAX_START_RUNS runs in one transaction, all or nothing: the first start that cannot
   * be made fails the call with its error, whose field names it (`inputs[3].workflowName`), and no
   * run is started. Answers in the order of `inputs`. `listField` names the list in errors (`inputs`, gRPC's `items`).
   */
  startRuns(principal: Principal, inputs: readonly StartRunInput[], listField?: string): Promise<StartRunResult[]>;
}

export function createRunStarts(engine: Engine): RunStarts {
  const noteRefusalApart = async (principal: Principal, error: unknown): Promise<void> => {
    try {
      await engine.change({ ...principal, userId: undefined }, (ctx) => noteQuotaRefusals(ctx.tx, SERVICE, principal.orgId as string, [error]));
    } catch (err) {
      engine.log.warn('could not record the notice of a quota refusal', { err, orgId: principal.orgId });
    }
  };

  /** Writes starts in a transaction of their organization; a lost idempotency-key race is written again (its run is then found). */
  const transact = async (starts: readonly CheckedStart[]): Promise<StartOutcome[]> => {
    // The organization's tenant settings only: the start statements read no user setting, so the
    // starts of every user of one organization can share a transaction.
    const write = () => engine.change({ ...(starts[0] as CheckedStart).principal, userId: undefined }, (ctx) => writeStarts(ctx, engine, starts));
    try {
      return await write();
    } catch (error) {
      // Two starts with the same key raced: the loser returns the winner's run.
      if (isUniqueViolation(error, 'runs_idempotency_key')) return write();
      throw error;
    }
  };

  // One batcher per organization (the tenant of the transaction), dropped when idle.
  const batchers = new Map<string, { start: (s: CheckedStart) => Promise<StartOutcome>; calls: number }>();
  const batched = async (start: CheckedStart): Promise<StartOutcome> => {
    const scope = start.principal.orgId ?? '';
    let entry = batchers.get(scope);
    if (!entry) {
      entry = {
        calls: 0,
        start: createBatcher<CheckedStart, StartOutcome>({
          apply: transact,
          maxBatch: START_BATCH_MAX,
          parallel: START_BATCHES_AT_ONCE,
          onBatchFailure: (error, size) => engine.log.warn('a batch of run starts failed: starting them one by one', { err: error, size }),
        }),
      };
      batchers.set(scope, entry);
    }
    entry.calls += 1;
    try {
      return await entry.start(start);
    } finally {
      entry.calls -= 1;
      if (entry.calls === 0) batchers.delete(scope);
    }
  };

  return {
    async startRun(principal, input) {
      const outcome = await batched(checkStart(principal, input, 'input'));
      if (!outcome.ok) throw outcome.error;
      return outcome.result;
    },
    async startRuns(principal, inputs, listField = 'inputs') {
      if (inputs.length === 0) return [];
      if (inputs.length > MAX_START_RUNS) throw badInput(listField, `start at most ${MAX_START_RUNS} runs per call (got ${inputs.length})`, 'TOO_MANY_RUNS');
      const starts = inputs.map((input, i) => checkStart(principal, input, `${listField}[${i}]`));
      const bytes = starts.reduce((sum, s) => sum + s.bytes, 0);
      if (bytes > MAX_START_RUNS_INPUT_BYTES) throw badInput(listField, `the run inputs of one call have at most ${MAX_START_RUNS_INPUT_BYTES} bytes together (got ${bytes})`, 'RUN_INPUTS_TOO_LARGE');
      const write = () =>
        engine.change(principal, async (ctx) => (await writeStarts(ctx, engine, starts, { allOrNothing: true })).map((o) => (o as Extract<StartOutcome, { ok: true }>).result));
      try {
        return await write();
      } catch (error) {
        if (isUniqueViolation(error, 'runs_idempotency_key')) return write();
        // All or nothing: the refusal rolled the starts back; the notice of it goes in a transaction of its own.
        if (quotaRefusalOf(error)) await noteRefusalApart(principal, error);
        throw error;
      }
    },
  };
}
