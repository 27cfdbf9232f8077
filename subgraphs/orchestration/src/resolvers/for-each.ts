import { badInput } from '@orchestra/lib';
import { TASK_STATUSES } from '../domain/states';
import { countItemTasks, listItemTasks } from '../store/for-each';
import type { TaskRow } from '../store/rows';
import type { OrchestrationContext as Ctx } from './index';
import { connectionOf, decodeCursor, pageSize } from './pagination';

/**
 * forEach on the Task type (issue 10): an item task's place and parent, and a forEach step's items
 * a page at a time with their counts by status, so a run of 10,000 items stays usable (Run.tasks
 * lists only the steps' own tasks).
 */
const isItemIndex = (key: string): boolean => /^\d{1,6}$/.test(key);

export const forEachResolvers = {
  Task: {
    itemIndex: (t: TaskRow) => t.itemIndex ?? null,
    parent: async (t: TaskRow, _: unknown, ctx: Ctx) => (t.parentTaskId ? ((await ctx.loaders.task.load(t.parentTaskId)) ?? null) : null),
    async items(t: TaskRow, args: { first?: number | null; after?: string | null; status?: string | null }, ctx: Ctx) {
      const size = pageSize(args.first ?? 50);
      const after = decodeCursor(args.after, isItemIndex);
      const status = args.status ?? null;
      if (status !== null && !(TASK_STATUSES as readonly string[]).includes(status)) throw badInput('status', `status must be one of ${TASK_STATUSES.join(', ')}`, 'INVALID_STATUS');
      if (!t.forEach) return connectionOf<TaskRow>([], size, 0, () => '', after !== undefined);
      const [rows, total] = await ctx.engine.inTenant(ctx.principal, async (tx) => [await listItemTasks(tx, t.id, after === undefined ? -1 : Number(after), size + 1, status), await countItemTasks(tx, t.id, status)] as const);
      return connectionOf(rows, size, total, (row) => String(row.itemIndex ?? 0), after !== undefined);
    },
    itemCounts: async (t: TaskRow, _: unknown, ctx: Ctx) => (t.forEach ? ((await ctx.loaders.itemCounts.load(t.id)) ?? null) : null),
  },
};
