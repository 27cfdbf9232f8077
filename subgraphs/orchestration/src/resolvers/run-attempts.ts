import { badInput, isUuid } from '@orchestra/lib';
import { countAttemptsOfRun, listAttemptsOfRun } from '../store/attempts';
import type { AttemptRow, RunRow } from '../store/rows';
import type { OrchestrationContext as Ctx } from './index';
import { connectionOf, decodeCursor } from './pagination';

/**
 * Every attempt of a run in one list (issue 12: the run page's timeline): a run of 2,000 forEach
 * items has thousands, so they come a page at a time in the order they were made, each naming its
 * task, step and item index. The run was read under the principal's organization (row-level
 * security), and so are its attempts: another organization's run is not found, its attempts never read.
 */

/** Larger than other connections' 100: a timeline of 10,000 attempts is 10 pages, not 100. */
export const RUN_ATTEMPTS_MAX_PAGE = 1000;
const RUN_ATTEMPTS_DEFAULT_PAGE = 200;

function runAttemptsPageSize(first: number | null | undefined): number {
  const size = first ?? RUN_ATTEMPTS_DEFAULT_PAGE;
  if (!Number.isInteger(size) || size < 1 || size > RUN_ATTEMPTS_MAX_PAGE) throw badInput('first', `first must be between 1 and ${RUN_ATTEMPTS_MAX_PAGE}`, 'INVALID_PAGE_SIZE');
  return size;
}

/** An attempt as Task.attemptHistory gives it has no step of its own: its task's is looked up (batched). */
type AttemptWithPlace = AttemptRow & { stepId?: string; itemIndex?: number | null };

export const runAttemptResolvers = {
  Run: {
    async attempts(r: RunRow, args: { first?: number | null; after?: string | null }, ctx: Ctx) {
      const size = runAttemptsPageSize(args.first);
      const after = decodeCursor(args.after, isUuid);
      const { rows, total } = await ctx.engine.inTenant(ctx.principal, async (tx) => ({
        rows: await listAttemptsOfRun(tx, r.id, after, size + 1),
        total: await countAttemptsOfRun(tx, r.id),
      }));
      return connectionOf(rows, size, total, (a) => a.id, after !== undefined);
    },
  },
  TaskAttempt: {
    taskId: (a: AttemptRow) => a.taskId,
    stepId: async (a: AttemptWithPlace, _: unknown, ctx: Ctx) => a.stepId ?? (await ctx.loaders.task.load(a.taskId))?.stepId ?? '',
    itemIndex: async (a: AttemptWithPlace, _: unknown, ctx: Ctx) => (a.itemIndex !== undefined ? a.itemIndex : ((await ctx.loaders.task.load(a.taskId))?.itemIndex ?? null)),
  },
};
