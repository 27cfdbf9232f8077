import { AppError, badInput, checkTextInput, conflict, forbidden, isUuid, notFound, recordAudit, type Principal } from '@orchestra/lib';
import { mayDecide, WAIT_LIMITS } from '../domain/wait-steps';
import type { TaskRow } from '../store/rows';
import { lockRun } from '../store/runs';
import { findTaskWait, latestWaitsOfTasks } from '../store/task-waits';
import { findTask } from '../store/tasks';
import { SERVICE, type Engine } from '../engine/engine';
import { approvalEnding, endWait } from './resolve';

/**
 * approveTask / rejectTask (issue 10): a member whose role the approval names (an owner always; a
 * viewer never, which the schema's @access already refuses) decides a waiting approval, with an
 * optional comment. An API key decides only with the scope approvals:write (runs:write is not enough:
 * starting runs and signing off on them are different powers) and only where a member of its role
 * could: a key acts with the role of the member who created it (identity puts it in the key's
 * principal; a key whose creator left has none, and removing a member revokes their keys anyway).
 * Row-level security hides other organizations' tasks
 * (NOT_FOUND). Two deciders racing: both take the run's lock in turn, the first moves the wait out of
 * WAITING, the second finds it decided and gets CONFLICT APPROVAL_ALREADY_DECIDED naming who decided.
 */

const actorOf = (principal: Principal): string => principal.display ?? `${principal.kind}:${principal.id}`;

export type Decision = 'APPROVED' | 'REJECTED';

/** The API-key scope that deciding an approval needs (identity's API_KEY_SCOPES lists it). */
export const APPROVALS_WRITE = 'approvals:write';

/**
 * Whether `principal` may decide an approval that `roles` may decide; throws FORBIDDEN naming what is
 * missing (the scope, or the role) when not. A service (internal caller) may.
 */
export function assertMayDecide(principal: Principal, roles: readonly string[], stepId: string): void {
  const who = roles.join(', ');
  if (principal.kind === 'apiKey') {
    if (!principal.scopes.includes(APPROVALS_WRITE)) {
      throw new AppError('FORBIDDEN', `deciding an approval with an API key needs scope ${APPROVALS_WRITE}; this key has ${principal.scopes.join(', ') || 'no scopes'}`, {
        reason: 'MISSING_SCOPE',
        details: { requiredScopes: [APPROVALS_WRITE] },
      });
    }
    if (!mayDecide(roles, principal.role)) {
      throw forbidden(
        `step "${stepId}" may be decided by ${who}; this API key acts with its creator's role (${principal.role ?? 'none: its creator is no longer a member'})`,
        'APPROVAL_ROLE_REQUIRED',
      );
    }
    return;
  }
  if (principal.kind === 'user' && !mayDecide(roles, principal.role)) {
    throw forbidden(`step "${stepId}" may be decided by ${who} (you are ${principal.role ?? 'no member'})`, 'APPROVAL_ROLE_REQUIRED');
  }
}

/** Whether `principal` may decide an approval of `roles` (Approval.canDecide): assertMayDecide without the error. */
export const principalMayDecide = (principal: Principal, roles: readonly string[]): boolean =>
  principal.kind === 'apiKey' ? principal.scopes.includes(APPROVALS_WRITE) && mayDecide(roles, principal.role) : principal.kind !== 'user' || mayDecide(roles, principal.role);

export async function decideApproval(engine: Engine, principal: Principal, taskId: string, decision: Decision, commentInput: string | null | undefined): Promise<TaskRow> {
  if (!isUuid(taskId)) throw notFound('task', taskId);
  const comment = commentInput === null || commentInput === undefined || commentInput.trim() === '' ? null : commentInput.trim();
  if (comment !== null) {
    if (comment.length > WAIT_LIMITS.comment) throw badInput('comment', `a comment has at most ${WAIT_LIMITS.comment} characters (got ${comment.length})`, 'COMMENT_TOO_LONG');
    checkTextInput(comment, 'comment');
  }
  return engine.change(principal, async (ctx) => {
    const task = await findTask(ctx.tx, taskId);
    if (!task) throw notFound('task', taskId);
    const policy = task.wait?.kind === 'APPROVAL' ? task.wait : undefined;
    if (!policy) throw new AppError('CONFLICT', `task ${taskId} (step "${task.stepId}") is not an approval`, { reason: 'NOT_AN_APPROVAL', field: 'taskId' });
    assertMayDecide(principal, policy.roles, task.stepId);
    // The run's lock first, like every transition: deciders of one run take turns here.
    const run = await lockRun(ctx.tx, task.runId);
    if (!run) throw notFound('task', taskId);
    const current = task.currentAttemptId === null ? undefined : await findTaskWait(ctx.tx, task.currentAttemptId);
    const who = { display: actorOf(principal), userId: principal.userId ?? null };
    const ended = current ? await endWait(ctx, run, current, approvalEnding(policy, task.stepId, decision, who, comment)) : { ended: false, run };
    if (!ended.ended) {
      const last = current ?? (await latestWaitsOfTasks(ctx.tx, [task.id])).get(task.id);
      const state =
        last === undefined || last.status === 'WAITING'
          ? `is ${task.status} and not waiting for a decision`
          : last.status === 'APPROVED' || last.status === 'REJECTED'
            ? `was already ${last.status.toLowerCase()}${last.decidedBy ? ` by ${last.decidedBy}` : ' by its timeout'}${last.resolvedAt ? ` at ${last.resolvedAt.toISOString()}` : ''}`
            : `is no longer waiting (${last.status.toLowerCase().replace('_', ' ')})`;
      throw conflict(`step "${task.stepId}" ${state}`, 'APPROVAL_ALREADY_DECIDED');
    }
    await recordAudit(ctx.tx, SERVICE, principal, {
      action: decision === 'APPROVED' ? 'task.approve' : 'task.reject',
      targetType: 'Task',
      targetId: task.id,
      diff: { runId: run.id, stepId: task.stepId, decision, comment },
    });
    engine.log.info('approval decided', { runId: run.id, taskId: task.id, orgId: run.orgId, decision, requestId: principal.requestId });
    return (await findTask(ctx.tx, task.id)) as TaskRow;
  });
}
