import { isUuid } from '@orchestra/lib';
import type { WaitPolicy } from '../domain/wait-steps';
import type { TaskRow } from '../store/rows';
import { countPendingApprovals, listPendingApprovals, type TaskWaitRow } from '../store/task-waits';
import { decideApproval, principalMayDecide } from '../waits/approvals';
import type { OrchestrationContext as Ctx } from './index';
import { connectionOf, decodeCursor, pageSize } from './pagination';

/**
 * GraphQL of wait steps (issue 10): approveTask / rejectTask, pendingApprovals ("approvals waiting
 * for me"), Task.approval, and a step's wait as defined (Step.wait).
 */

/** Whose approvals a principal sees as "for me": a member's role's, all of them for an owner or an API key. */
const roleFilterOf = (ctx: Ctx): string | null => (ctx.principal.kind === 'user' && ctx.principal.role !== 'owner' ? (ctx.principal.role ?? 'viewer') : null);

const decisionOf = (w: TaskWaitRow): string | null => {
  if (w.status === 'APPROVED' || w.status === 'REJECTED') return w.status;
  const output = w.output as { decision?: unknown } | null;
  return typeof output?.decision === 'string' ? output.decision : null;
};

export const waitResolvers = {
  Query: {
    async pendingApprovals(_: unknown, args: { first?: number | null; after?: string | null }, ctx: Ctx) {
      const size = pageSize(args.first);
      const after = decodeCursor(args.after, isUuid);
      const role = roleFilterOf(ctx);
      const [rows, total] = await ctx.engine.inTenant(ctx.principal, async (tx) => [await listPendingApprovals(tx, role, after, size + 1), await countPendingApprovals(tx, role)] as const);
      return connectionOf(rows, size, total, (w) => w.attemptId, after !== undefined);
    },
  },

  Mutation: {
    approveTask: (_: unknown, args: { taskId: string; comment?: string | null }, ctx: Ctx) => decideApproval(ctx.engine, ctx.principal, args.taskId, 'APPROVED', args.comment),
    rejectTask: (_: unknown, args: { taskId: string; comment?: string | null }, ctx: Ctx) => decideApproval(ctx.engine, ctx.principal, args.taskId, 'REJECTED', args.comment),
  },

  Task: {
    approval: async (t: TaskRow, _: unknown, ctx: Ctx) => (t.wait?.kind === 'APPROVAL' ? ((await ctx.loaders.waitOfTask.load(t.id)) ?? null) : null),
  },

  Approval: {
    id: (w: TaskWaitRow) => w.attemptId,
    task: async (w: TaskWaitRow, _: unknown, ctx: Ctx) => ctx.loaders.task.load(w.taskId),
    run: async (w: TaskWaitRow, _: unknown, ctx: Ctx) => ctx.loaders.run.load(w.runId),
    status: (w: TaskWaitRow) => (w.status === 'RECEIVED' || w.status === 'ELAPSED' ? 'CANCELLED' : w.status),
    canDecide: (w: TaskWaitRow, _: unknown, ctx: Ctx) => w.status === 'WAITING' && principalMayDecide(ctx.principal, w.roles),
    waitingSince: (w: TaskWaitRow) => w.createdAt,
    onTimeout: (w: TaskWaitRow) => w.onTimeout ?? 'FAIL',
    decision: decisionOf,
    decidedAt: (w: TaskWaitRow) => w.resolvedAt,
  },

  StepWait: {
    roles: (w: WaitPolicy) => (w.kind === 'APPROVAL' ? w.roles : []),
    message: (w: WaitPolicy) => (w.kind === 'APPROVAL' ? w.message : null),
  },
};
