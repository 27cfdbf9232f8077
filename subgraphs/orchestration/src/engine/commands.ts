import { AppError, badInput, checkTextInput, conflict, isUniqueViolation, isUuid, newId, notFound, recordAudit, recordAudits, traceIdOf, type Principal, type Queryable } from '@orchestra/lib';
import { checkWorkflowOptions, type ConcurrencyInput } from '../domain/flow-control';
import { isTerminalRun, RERUN_TASK_STATUSES, RETRYABLE_RUN_STATUSES } from '../domain/states';
import { assertSecretsExist, secretsReadBySteps } from '../domain/secrets';
import { BUILTIN_CAPABILITIES, validateSteps, type StepDefinition, type StepInput } from '../domain/workflow-definition';
import { checkStepReferences } from '../flow-control/definition-checks';
import { checkModelSteps } from '../llm/definition-checks';
import { findDeadLetter, markRunDeadLettersReplayed } from '../store/dead-letters';
import { existingSecretNames } from '../store/secrets';
import type { RunRow, TaskRow, WorkflowRow, WorkflowVersionRow } from '../store/rows';
import { lockRuns } from '../store/dispatch';
import { lockRun } from '../store/runs';
import { queueRefolds } from '../store/run-metrics-rollup';
import { listTasksOfRuns, resetTasks } from '../store/tasks';
import { advertisedCapabilities } from '../store/workers';
import { findWorkflowById, insertWorkflow, insertWorkflowVersion, nextWorkflowVersion, updateWorkflow } from '../store/workflows';
import { SERVICE, type Engine } from './engine';
import { cancelOpenTasksOfRuns, queueReadyTasks, setRunsStatus, setRunStatus, tasksOfRun, type TransitionContext } from './transitions';

const WORKFLOW_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,119}$/;

/** Who did it, as runs and versions remember it. */
const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;

export const capabilitiesKnown = async (db: Queryable): Promise<Set<string>> => new Set<string>([...BUILTIN_CAPABILITIES, ...(await advertisedCapabilities(db))]);

function checkAppId(appId: string | null | undefined, field: string): string | null | undefined {
  if (appId === undefined || appId === null) return appId;
  if (!isUuid(appId)) throw badInput(field, `${field} must be an app id (a UUID)`, 'INVALID_ID');
  return appId;
}

/** Steps as validateSteps gives them, also refused when they read a secret the org does not have (UNKNOWN_SECRET naming the step). */
async function checkedSteps(tx: Queryable, orgId: string, input: StepInput[], fieldBase = 'input.steps'): Promise<StepDefinition[]> {
  const steps = validateSteps(input, await capabilitiesKnown(tx), fieldBase);
  assertSecretsExist(steps, await existingSecretNames(tx, [...secretsReadBySteps(steps).keys()]), fieldBase);
  await checkStepReferences(tx, orgId, steps, fieldBase);
  await checkModelSteps(tx, steps, fieldBase);
  return steps;
}

export interface CreateWorkflowInput {
  name: string;
  description?: string | null;
  appId?: string | null;
  steps: StepInput[];
  /** Workflow-wide: 1 … 5 (default 3). */
  priority?: number | null;
  /** Workflow-wide: at most `limit` runs with the same key at once. */
  concurrency?: ConcurrencyInput | null;
}

export async function createWorkflow(engine: Engine, principal: Principal, input: CreateWorkflowInput): Promise<{ workflow: WorkflowRow; version: WorkflowVersionRow }> {
  const name = input.name.trim();
  if (!WORKFLOW_NAME.test(name)) {
    throw badInput('input.name', 'a workflow name starts with a letter or digit and has at most 120 letters, digits, spaces and _ . : -', 'INVALID_NAME');
  }
  if (input.description != null) checkTextInput(input.description, 'input.description');
  const appId = checkAppId(input.appId, 'input.appId') ?? null;
  const options = checkWorkflowOptions(input);
  if (appId !== null) await engine.apps?.assertApp(principal, appId, 'input.appId');
  return engine.inTenant(principal, async (tx) => {
    const orgId = principal.orgId as string;
    const steps = await checkedSteps(tx, orgId, input.steps);
    let workflow: WorkflowRow;
    try {
      workflow = await insertWorkflow(tx, { id: newId(), orgId, name, description: input.description ?? null, appId, createdBy: actorOf(principal) });
    } catch (error) {
      if (isUniqueViolation(error, 'workflows_name_unique')) {
        throw new AppError('CONFLICT', `a workflow named "${name}" already exists (publish a new version of it instead)`, { reason: 'WORKFLOW_EXISTS', field: 'input.name' });
      }
      throw error;
    }
    const number = (await nextWorkflowVersion(tx, workflow.id)) as number;
    const version = await insertWorkflowVersion(tx, { workflowId: workflow.id, orgId, version: number, steps, options, createdBy: actorOf(principal) });
    await recordAudit(tx, SERVICE, principal, {
      action: 'workflow.create',
      targetType: 'Workflow',
      targetId: workflow.id,
      diff: { after: { name, appId, version: number, steps: steps.map((s) => s.id) } },
    });
    return { workflow: { ...workflow, latestVersion: number }, version };
  });
}

export async function publishWorkflowVersion(
  engine: Engine,
  principal: Principal,
  workflowId: string,
  stepsInput: StepInput[],
  optionsInput: { priority?: number | null; concurrency?: ConcurrencyInput | null } = {},
): Promise<WorkflowVersionRow> {
  if (!isUuid(workflowId)) throw notFound('workflow', workflowId);
  const options = checkWorkflowOptions(optionsInput, 'options');
  return engine.inTenant(principal, async (tx) => {
    const orgId = principal.orgId as string;
    const steps = await checkedSteps(tx, orgId, stepsInput);
    const number = await nextWorkflowVersion(tx, workflowId);
    if (number === undefined) throw notFound('workflow', workflowId);
    const version = await insertWorkflowVersion(tx, { workflowId, orgId, version: number, steps, options, createdBy: actorOf(principal) });
    await recordAudit(tx, SERVICE, principal, {
      action: 'workflow.publish_version',
      targetType: 'Workflow',
      targetId: workflowId,
      diff: { after: { version: number, steps: steps.map((s) => s.id) } },
    });
    return version;
  });
}

export async function changeWorkflow(engine: Engine, principal: Principal, id: string, input: { description?: string | null; appId?: string | null }): Promise<WorkflowRow> {
  if (!isUuid(id)) throw notFound('workflow', id);
  if (input.description != null) checkTextInput(input.description, 'input.description');
  const appId = checkAppId(input.appId, 'input.appId');
  if (appId !== undefined && appId !== null) await engine.apps?.assertApp(principal, appId, 'input.appId');
  return engine.inTenant(principal, async (tx) => {
    const before = await findWorkflowById(tx, id);
    if (!before) throw notFound('workflow', id);
    const after = (await updateWorkflow(tx, id, { ...(input.description !== undefined ? { description: input.description } : {}), ...(appId !== undefined ? { appId } : {}) })) as WorkflowRow;
    await recordAudit(tx, SERVICE, principal, {
      action: 'workflow.update',
      targetType: 'Workflow',
      targetId: id,
      diff: { before: { description: before.description, appId: before.appId }, after: { description: after.description, appId: after.appId } },
    });
    return after;
  });
}

async function lockedRun(ctx: TransitionContext, runId: string): Promise<RunRow> {
  if (!isUuid(runId)) throw notFound('run', runId);
  const run = await lockRun(ctx.tx, runId);
  if (!run) throw notFound('run', runId);
  return run;
}

/** Why a cancel says it was cancelled: the reason given (trimmed, at most 500 characters), or who did it. */
export const cancelReasonOf = (principal: Principal, reason: string | null | undefined): string => (reason ?? '').trim().slice(0, 500) || `cancelled by ${actorOf(principal)}`;

/** Cancels a run: its open tasks end CANCELLED and the Execute calls of running ones are cancelled at once. */
export async function cancelRun(engine: Engine, principal: Principal, runId: string, reason: string | null | undefined): Promise<RunRow> {
  const why = cancelReasonOf(principal, reason);
  return engine.change(principal, (ctx) => cancelRunIn(ctx, engine, principal, runId, why));
}

/** Cancels a run in the caller's transaction (a schedule's CANCEL_PREVIOUS, cancelRun): its open tasks stop, it is audited. */
export async function cancelRunIn(ctx: TransitionContext, engine: Engine, principal: Principal, runId: string, why: string): Promise<RunRow> {
  const answer = (await cancelRunsIn(ctx, engine, principal, [runId], why)).get(runId);
  if (answer instanceof AppError) throw answer;
  return answer as RunRow;
}

/**
 * Cancels runs in the caller's transaction with the same statements whatever their number (a bulk
 * cancel of 100 runs is a dozen statements, not a thousand): locked in id order, their open tasks and
 * live attempts ended, each run CANCELLED and audited. Answers each id with its cancelled run, or
 * why it was not cancelled (not found, of another organization, already finished); those change nothing.
 */
export async function cancelRunsIn(ctx: TransitionContext, engine: Engine, principal: Principal, runIds: readonly string[], why: string): Promise<Map<string, RunRow | AppError>> {
  const answers = new Map<string, RunRow | AppError>();
  const valid = runIds.filter((id) => isUuid(id));
  const locked = valid.length === 0 ? new Map<string, RunRow>() : await lockRuns(ctx.tx, valid);
  const open = new Map<string, RunRow>();
  for (const id of runIds) {
    const run = locked.get(id);
    if (!run) answers.set(id, notFound('run', id));
    else if (isTerminalRun(run.status)) answers.set(id, conflict(`run ${run.id} has already finished (${run.status}) and cannot be cancelled`, 'RUN_FINISHED'));
    else open.set(run.id, run);
  }
  if (open.size === 0) return answers;
  const tasksByRun = new Map<string, TaskRow[]>();
  for (const task of await listTasksOfRuns(ctx.tx, [...open.keys()])) tasksByRun.set(task.runId, [...(tasksByRun.get(task.runId) ?? []), task]);
  await cancelOpenTasksOfRuns(
    ctx,
    [...open.values()].map((run) => ({ run, tasks: tasksByRun.get(run.id) ?? [] })),
    why,
  );
  const cancelled = await setRunsStatus(ctx, [...open.values()], { status: 'CANCELLED', finished: true, cancelReason: why, message: why });
  await recordAudits(
    ctx.tx,
    SERVICE,
    principal,
    [...open.values()].map((run) => ({ action: 'run.cancel', targetType: 'Run', targetId: run.id, diff: { before: { status: run.status }, after: { status: 'CANCELLED', reason: why } } })),
  );
  for (const run of open.values()) {
    engine.log.info('run cancelled', { runId: run.id, orgId: run.orgId, reason: why, requestId: principal.requestId, traceId: traceIdOf(principal.traceparent) });
    answers.set(run.id, cancelled.get(run.id) as RunRow);
  }
  return answers;
}

/** Runs the failed and cancelled tasks of a finished run again (fresh retry budgets); succeeded ones keep their output. */
async function rerun(ctx: TransitionContext, principal: Principal, run: RunRow, why: string): Promise<RunRow> {
  if (!RETRYABLE_RUN_STATUSES.includes(run.status)) {
    throw conflict(`run ${run.id} is ${run.status}: only a FAILED or CANCELLED run can be retried`, 'RUN_NOT_RETRYABLE');
  }
  const running = await setRunStatus(ctx, run, { status: 'RUNNING', started: true, finished: false, error: null, cancelReason: null, message: why });
  // It is no longer finished: its hour of the metrics rollup is read from the runs until it is refolded.
  await queueRefolds(ctx.tx, [run]);
  // One statement for all of them (a failed forEach step's items included).
  const rerunning = (await tasksOfRun(ctx, run.id)).filter((task) => RERUN_TASK_STATUSES.includes(task.status));
  const reset = new Set(
    (
      await resetTasks(
        ctx.tx,
        rerunning.map((t) => t.id),
      )
    ).map((t) => t.id),
  );
  for (const task of rerunning) {
    if (reset.has(task.id)) ctx.effects.event(run, { kind: 'TASK_STATUS', taskId: task.id, stepId: task.stepId, taskStatus: 'PENDING', message: why });
  }
  await queueReadyTasks(ctx, running, await tasksOfRun(ctx, run.id));
  await markRunDeadLettersReplayed(ctx.tx, run.id, actorOf(principal));
  return running;
}

export async function retryRun(engine: Engine, principal: Principal, runId: string): Promise<RunRow> {
  return engine.change(principal, async (ctx) => {
    const run = await lockedRun(ctx, runId);
    const retried = await rerun(ctx, principal, run, `retried by ${actorOf(principal)}`);
    await recordAudit(ctx.tx, SERVICE, principal, { action: 'run.retry', targetType: 'Run', targetId: run.id, diff: { before: { status: run.status }, after: { status: retried.status } } });
    engine.log.info('run retried', { runId: run.id, orgId: run.orgId, requestId: principal.requestId, traceId: traceIdOf(principal.traceparent) });
    return retried;
  });
}

/** Replays a dead-lettered task: its run runs its failed and cancelled tasks again. */
export async function replayDeadLetter(engine: Engine, principal: Principal, deadLetterId: string): Promise<RunRow> {
  if (!isUuid(deadLetterId)) throw notFound('dead letter', deadLetterId);
  return engine.change(principal, async (ctx) => {
    const entry = await findDeadLetter(ctx.tx, deadLetterId);
    if (!entry) throw notFound('dead letter', deadLetterId);
    if (entry.replayedAt !== null) throw conflict(`dead letter ${deadLetterId} was already replayed`, 'ALREADY_REPLAYED');
    const run = await lockedRun(ctx, entry.runId);
    const replayed = await rerun(ctx, principal, run, `step "${entry.stepId}" replayed from the dead-letter list by ${actorOf(principal)}`);
    await recordAudit(ctx.tx, SERVICE, principal, { action: 'dead_letter.replay', targetType: 'Task', targetId: entry.taskId, diff: { runId: run.id, stepId: entry.stepId } });
    engine.log.info('dead letter replayed', { runId: run.id, taskId: entry.taskId, orgId: run.orgId, requestId: principal.requestId, traceId: traceIdOf(principal.traceparent) });
    return replayed;
  });
}
