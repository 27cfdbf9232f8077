import { AppError, badInput, isUuid, newId, notFound, recordAudit, type Principal, type Queryable } from '@orchestra/lib';
import { SERVICE, type Engine } from '../engine/engine';
import { checkInputReferences } from '../engine/run-starts';
import { findWorkflowById, findWorkflowVersion } from '../store/workflows';
import { countSchedules, deleteSchedule as deleteScheduleRow, insertSchedule, lockSchedule, updateSchedule as updateScheduleRow, type ScheduleChange, type ScheduleRow } from '../store/schedules';
import { parseCron } from './cron';
import { SCHEDULE_CATCH_UPS, SCHEDULE_OVERLAPS, type ScheduleCatchUp, type ScheduleOverlap } from './fire-plan';

/**
 * Schedules of an organization's workflows (issue 10): created, changed, paused, resumed and
 * deleted by operators; each change audited in its transaction. Checks that need no database come
 * first, so a bad field is refused before anything is read or written.
 */

/** Schedules an organization may have. */
export const MAX_SCHEDULES_PER_ORG = 1_000;
/** A schedule's run input, at most. */
export const MAX_SCHEDULE_INPUT_BYTES = 64 * 1024;
/** catchUp ALL runs at most this many missed ticks. */
export const MAX_CATCH_UP_LIMIT = 100;
const DEFAULT_CATCH_UP_LIMIT = 10;

const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;

export interface CreateScheduleInput {
  workflowId: string;
  cron: string;
  timezone?: string | null;
  input?: unknown;
  overlap?: string | null;
  catchUp?: string | null;
  catchUpLimit?: number | null;
}

export type UpdateScheduleInput = Partial<Omit<CreateScheduleInput, 'workflowId'>>;

function checkInput(input: unknown, field: string): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badInput(field, 'a schedule input is a JSON object', 'INVALID_RUN_INPUT');
  const bytes = JSON.stringify(input).length;
  if (bytes > MAX_SCHEDULE_INPUT_BYTES) throw badInput(field, `a schedule input has at most ${MAX_SCHEDULE_INPUT_BYTES} bytes (got ${bytes})`, 'RUN_INPUT_TOO_LARGE');
  return input as Record<string, unknown>;
}

function checkOverlap(value: string, field: string): ScheduleOverlap {
  if (!(SCHEDULE_OVERLAPS as readonly string[]).includes(value)) throw badInput(field, `overlap is one of ${SCHEDULE_OVERLAPS.join(', ')} (got ${value})`, 'INVALID_OVERLAP');
  return value as ScheduleOverlap;
}

function checkCatchUp(value: string, field: string): ScheduleCatchUp {
  if (!(SCHEDULE_CATCH_UPS as readonly string[]).includes(value)) throw badInput(field, `catchUp is one of ${SCHEDULE_CATCH_UPS.join(', ')} (got ${value})`, 'INVALID_CATCH_UP');
  return value as ScheduleCatchUp;
}

function checkCatchUpLimit(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_CATCH_UP_LIMIT) throw badInput(field, `catchUpLimit is between 1 and ${MAX_CATCH_UP_LIMIT} (got ${value})`, 'OUT_OF_RANGE');
  return value;
}

/** The run input must fit the workflow's latest version (as each tick starts it). */
async function checkFitsWorkflow(tx: Queryable, workflowId: string, input: Record<string, unknown>, field: string): Promise<void> {
  const workflow = await findWorkflowById(tx, workflowId);
  if (!workflow) throw new AppError('NOT_FOUND', `workflow ${workflowId} not found`, { reason: 'WORKFLOW_NOT_FOUND', field: 'input.workflowId' });
  const version = await findWorkflowVersion(tx, workflowId, workflow.latestVersion);
  if (version) checkInputReferences(version, input, field.replace(/\.input$/, ''));
}

const summary = (s: ScheduleRow) => ({ workflowId: s.workflowId, cron: s.cron, timezone: s.timezone, overlap: s.overlap, catchUp: s.catchUp, catchUpLimit: s.catchUpLimit, paused: s.paused });

export async function createSchedule(engine: Engine, principal: Principal, input: CreateScheduleInput): Promise<ScheduleRow> {
  if (!isUuid(input.workflowId)) throw new AppError('NOT_FOUND', `workflow ${input.workflowId} not found`, { reason: 'WORKFLOW_NOT_FOUND', field: 'input.workflowId' });
  const cron = parseCron(input.cron, input.timezone ?? 'UTC', { cron: 'input.cron', timezone: 'input.timezone' });
  const runInput = checkInput(input.input ?? {}, 'input.input');
  const overlap = checkOverlap(input.overlap ?? 'SKIP', 'input.overlap');
  const catchUp = checkCatchUp(input.catchUp ?? 'NONE', 'input.catchUp');
  const catchUpLimit = checkCatchUpLimit(input.catchUpLimit ?? (catchUp === 'ALL' ? DEFAULT_CATCH_UP_LIMIT : 1), 'input.catchUpLimit');
  const created = await engine.inTenant(principal, async (tx) => {
    await checkFitsWorkflow(tx, input.workflowId, runInput, 'input.input');
    if ((await countSchedules(tx)) >= MAX_SCHEDULES_PER_ORG) {
      throw new AppError('CONFLICT', `an organization has at most ${MAX_SCHEDULES_PER_ORG} schedules: delete one first`, { reason: 'TOO_MANY_SCHEDULES', field: 'input.workflowId' });
    }
    const nextFireAt = cron.next(new Date(), 1)[0] as Date;
    const created = await insertSchedule(tx, {
      id: newId(),
      orgId: principal.orgId as string,
      workflowId: input.workflowId,
      cron: cron.cron,
      timezone: cron.timezone,
      input: runInput,
      overlap,
      catchUp,
      catchUpLimit,
      nextFireAt,
      createdBy: actorOf(principal),
    });
    await recordAudit(tx, SERVICE, principal, { action: 'schedule.create', targetType: 'Schedule', targetId: created.id, diff: { after: summary(created) } });
    engine.log.info('schedule created', { scheduleId: created.id, orgId: created.orgId, workflowId: created.workflowId, cron: created.cron, timezone: created.timezone, requestId: principal.requestId });
    return created;
  });
  // The ticker (sleeping while nothing is due) learns its next tick now.
  engine.activity.notify();
  return created;
}

/** Locks a schedule for a change, or NOT_FOUND. */
async function lockedSchedule(tx: Queryable, id: string): Promise<ScheduleRow> {
  const schedule = isUuid(id) ? await lockSchedule(tx, id) : undefined;
  if (!schedule) throw notFound('schedule', id);
  return schedule;
}

async function change(engine: Engine, principal: Principal, id: string, action: string, decide: (before: ScheduleRow, tx: Queryable) => Promise<ScheduleChange> | ScheduleChange): Promise<ScheduleRow> {
  const changed = await engine.inTenant(principal, async (tx) => {
    const before = await lockedSchedule(tx, id);
    const after = (await updateScheduleRow(tx, id, await decide(before, tx))) as ScheduleRow;
    await recordAudit(tx, SERVICE, principal, { action, targetType: 'Schedule', targetId: id, diff: { before: summary(before), after: summary(after) } });
    engine.log.info('schedule changed', { action, scheduleId: id, orgId: after.orgId, requestId: principal.requestId });
    return after;
  });
  engine.activity.notify();
  return changed;
}

/** Changes a schedule; a new cron or zone takes effect from now (the next tick is computed afresh). */
export async function updateSchedule(engine: Engine, principal: Principal, id: string, input: UpdateScheduleInput): Promise<ScheduleRow> {
  const overlap = input.overlap == null ? undefined : checkOverlap(input.overlap, 'input.overlap');
  const catchUp = input.catchUp == null ? undefined : checkCatchUp(input.catchUp, 'input.catchUp');
  const catchUpLimit = input.catchUpLimit == null ? undefined : checkCatchUpLimit(input.catchUpLimit, 'input.catchUpLimit');
  const runInput = input.input == null ? undefined : checkInput(input.input, 'input.input');
  // Both fields are checked before anything is read when both are given.
  if (input.cron != null || input.timezone != null) parseCron(input.cron ?? '* * * * *', input.timezone ?? 'UTC', { cron: 'input.cron', timezone: 'input.timezone' });
  return change(engine, principal, id, 'schedule.update', async (before, tx) => {
    if (runInput !== undefined) await checkFitsWorkflow(tx, before.workflowId, runInput, 'input.input');
    const timing = input.cron != null || input.timezone != null ? parseCron(input.cron ?? before.cron, input.timezone ?? before.timezone, { cron: 'input.cron', timezone: 'input.timezone' }) : undefined;
    return {
      ...(timing ? { cron: timing.cron, timezone: timing.timezone, nextFireAt: timing.next(new Date(), 1)[0] as Date } : {}),
      ...(runInput === undefined ? {} : { input: runInput }),
      ...(overlap === undefined ? {} : { overlap }),
      ...(catchUp === undefined ? {} : { catchUp }),
      ...(catchUpLimit === undefined ? {} : { catchUpLimit }),
    };
  });
}

/** Pauses a schedule: no tick fires until it is resumed. */
export const pauseSchedule = (engine: Engine, principal: Principal, id: string): Promise<ScheduleRow> => change(engine, principal, id, 'schedule.pause', () => ({ paused: true }));

/** Resumes a schedule from now: ticks that passed while it was paused are not run. */
export const resumeSchedule = (engine: Engine, principal: Principal, id: string): Promise<ScheduleRow> =>
  change(engine, principal, id, 'schedule.resume', (before) => ({
    paused: false,
    nextFireAt: parseCron(before.cron, before.timezone, { cron: 'cron', timezone: 'timezone' }).next(new Date(), 1)[0] as Date,
  }));

/** Deletes a schedule (its runs stay); answers the deleted schedule. */
export async function deleteSchedule(engine: Engine, principal: Principal, id: string): Promise<ScheduleRow> {
  return engine.inTenant(principal, async (tx) => {
    const schedule = await lockedSchedule(tx, id);
    await deleteScheduleRow(tx, id);
    await recordAudit(tx, SERVICE, principal, { action: 'schedule.delete', targetType: 'Schedule', targetId: id, diff: { before: summary(schedule) } });
    engine.log.info('schedule deleted', { scheduleId: id, orgId: schedule.orgId, requestId: principal.requestId });
    return schedule;
  });
}
