import { AppError, badInput, isUuid, notFound, recordAudit, toAppError, type ErrorCode, type Principal } from '@orchestra/lib';
import { discardDeadLetters as discardOpenDeadLetters, findDeadLettersByIds } from '../store/dead-letters';
import type { DeadLetterRow, RunRow } from '../store/rows';
import { cancelReasonOf, cancelRun, cancelRunsIn, replayDeadLetter, retryRun } from './commands';
import { SERVICE, type Engine } from './engine';

/**
 * Actions on many runs or dead letters at once (the runs list's and the dead-letter list's bulk
 * actions). An item that cannot be done (a run already finished, an id of another organization) fails
 * alone: the answer has one result per id, in the order given, each with what it did or why not.
 * Retries and replays take a transaction per item; cancels and discards one for all of them.
 */

/** The most ids one bulk action takes. */
export const BULK_ACTION_MAX = 100;

export interface ActionError {
  code: ErrorCode;
  reason: string | null;
  message: string;
}

export interface RunActionResult {
  id: string;
  run: RunRow | null;
  error: ActionError | null;
}

export interface DeadLetterActionResult {
  id: string;
  deadLetter: DeadLetterRow | null;
  error: ActionError | null;
}

/** Distinct ids, 1 to BULK_ACTION_MAX of them. */
export function checkBulkIds(ids: readonly string[], field = 'ids'): string[] {
  const distinct = [...new Set(ids)];
  if (distinct.length === 0) throw badInput(field, `${field} must name at least one id`, 'EMPTY');
  if (distinct.length > BULK_ACTION_MAX) throw badInput(field, `${field} names ${distinct.length} ids; at most ${BULK_ACTION_MAX} at once`, 'TOO_MANY');
  return distinct;
}

function actionError(engine: Engine, error: unknown, what: Record<string, unknown>): ActionError {
  const appError = toAppError(error);
  if (appError.code === 'INTERNAL') engine.log.error('a bulk action failed on one item', { err: error, ...what });
  return { code: appError.code, reason: appError.reason ?? null, message: appError.code === 'INTERNAL' ? 'internal error' : appError.message };
}

/** A failed item is audited like a failed single mutation: with its outcome, in a transaction of its own. */
async function auditFailure(engine: Engine, principal: Principal, action: string, targetType: string, targetId: string, error: ActionError): Promise<void> {
  try {
    await engine.inTenant(principal, (tx) => recordAudit(tx, SERVICE, principal, { action, targetType, targetId, outcome: error.code, diff: { bulk: true, error: error.message } }));
  } catch (auditError) {
    engine.log.error('could not audit a failed bulk item', { err: auditError, action, targetId });
  }
}

async function eachRun(engine: Engine, principal: Principal, ids: readonly string[], action: string, act: (id: string) => Promise<RunRow>): Promise<RunActionResult[]> {
  const results: RunActionResult[] = [];
  for (const id of checkBulkIds(ids)) {
    try {
      if (!isUuid(id)) throw notFound('run', id);
      results.push({ id, run: await act(id), error: null });
    } catch (caught) {
      const error = actionError(engine, caught, { action, runId: id });
      await auditFailure(engine, principal, action, 'Run', id, error);
      results.push({ id, run: null, error });
    }
  }
  return results;
}

/**
 * Cancels runs in one transaction (engine/commands.ts cancelRunsIn: a dozen statements for 100 runs):
 * a run that cannot be cancelled (not found, another organization's, already finished) is an answer,
 * not a failure, and changes nothing. Should the transaction itself fail, each run is cancelled in a
 * transaction of its own, so whatever made it fail fails alone.
 */
export async function cancelRuns(engine: Engine, principal: Principal, ids: readonly string[], reason: string | null | undefined): Promise<RunActionResult[]> {
  const distinct = checkBulkIds(ids);
  let answers: Map<string, RunRow | AppError>;
  try {
    answers = await engine.change(principal, (ctx) => cancelRunsIn(ctx, engine, principal, distinct, cancelReasonOf(principal, reason)));
  } catch (error) {
    engine.log.warn('a bulk cancel failed as one transaction: cancelling each run in its own', { err: error, runs: distinct.length });
    return eachRun(engine, principal, distinct, 'run.cancel', (id) => cancelRun(engine, principal, id, reason));
  }
  const results: RunActionResult[] = [];
  for (const id of distinct) {
    const answer = answers.get(id);
    if (answer !== undefined && !(answer instanceof AppError)) {
      results.push({ id, run: answer, error: null });
      continue;
    }
    const error = actionError(engine, answer ?? notFound('run', id), { action: 'run.cancel', runId: id });
    await auditFailure(engine, principal, 'run.cancel', 'Run', id, error);
    results.push({ id, run: null, error });
  }
  return results;
}

export const retryRuns = (engine: Engine, principal: Principal, ids: readonly string[]) => eachRun(engine, principal, ids, 'run.retry', (id) => retryRun(engine, principal, id));

/** The entries of this organization among `ids`, by id (another organization's are not found). */
async function lettersByIds(engine: Engine, principal: Principal, ids: readonly string[]): Promise<Map<string, DeadLetterRow>> {
  const valid = ids.filter((id) => isUuid(id));
  const rows = valid.length === 0 ? [] : await engine.inTenant(principal, (tx) => findDeadLettersByIds(tx, valid));
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Replays dead letters. Replaying one runs its run again, which settles every open entry of that run:
 * an entry whose run this call already replayed succeeds with it rather than failing as ALREADY_REPLAYED.
 */
export async function replayDeadLetters(engine: Engine, principal: Principal, ids: readonly string[]): Promise<DeadLetterActionResult[]> {
  const distinct = checkBulkIds(ids);
  const letters = await lettersByIds(engine, principal, distinct);
  const replayedRuns = new Set<string>();
  const results: DeadLetterActionResult[] = [];
  for (const id of distinct) {
    const letter = letters.get(id);
    try {
      if (!letter) throw notFound('dead letter', id);
      if (!replayedRuns.has(letter.runId)) {
        await replayDeadLetter(engine, principal, id);
        replayedRuns.add(letter.runId);
      } else if (letter.replayedAt !== null || letter.discardedAt !== null) {
        // Settled before this call: the single replay's refusal says so.
        await replayDeadLetter(engine, principal, id);
      }
      results.push({ id, deadLetter: letter, error: null });
    } catch (caught) {
      const error = actionError(engine, caught, { action: 'dead_letter.replay', deadLetterId: id });
      await auditFailure(engine, principal, 'dead_letter.replay', 'Task', letter?.taskId ?? id, error);
      results.push({ id, deadLetter: null, error });
    }
  }
  // Read back once: what each entry is now (replayed, by whom).
  const now = await lettersByIds(engine, principal, results.filter((r) => r.error === null).map((r) => r.id));
  return results.map((r) => (r.error === null ? { ...r, deadLetter: now.get(r.id) ?? null } : r));
}

/** Discards open dead letters (they leave the open list; their runs stay as they are), in one transaction. */
export async function discardDeadLetters(engine: Engine, principal: Principal, ids: readonly string[]): Promise<DeadLetterActionResult[]> {
  const distinct = checkBulkIds(ids);
  const by = principal.display ?? `${principal.kind}:${principal.id}`;
  const { discarded, seen } = await engine.inTenant(principal, async (tx) => {
    const valid = distinct.filter((id) => isUuid(id));
    const rows = await discardOpenDeadLetters(tx, valid, by);
    for (const row of rows) {
      await recordAudit(tx, SERVICE, principal, { action: 'dead_letter.discard', targetType: 'Task', targetId: row.taskId, diff: { deadLetterId: row.id, runId: row.runId, stepId: row.stepId } });
    }
    return { discarded: new Map(rows.map((r) => [r.id, r])), seen: new Map((valid.length === 0 ? [] : await findDeadLettersByIds(tx, valid)).map((r) => [r.id, r])) };
  });
  const results: DeadLetterActionResult[] = [];
  for (const id of distinct) {
    const row = discarded.get(id);
    if (row) {
      results.push({ id, deadLetter: row, error: null });
      continue;
    }
    const existing = seen.get(id);
    const error: ActionError = existing
      ? { code: 'CONFLICT', reason: existing.discardedAt ? 'ALREADY_DISCARDED' : 'ALREADY_REPLAYED', message: `dead letter ${id} was already ${existing.discardedAt ? 'discarded' : 'replayed'}` }
      : actionError(engine, notFound('dead letter', id), {});
    await auditFailure(engine, principal, 'dead_letter.discard', 'Task', existing?.taskId ?? id, error);
    results.push({ id, deadLetter: existing ?? null, error });
  }
  return results;
}
