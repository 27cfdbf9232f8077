import { badInput, isUuid } from '@orchestra/lib';
import type { RunRow, TaskRow, WorkflowRow } from '../store/rows';
import { appUsage, runUsage, taskUsage, usageBy, workflowUsage, type UsageGroup, type UsageGroupBy, type UsageTotals } from '../store/usage';
import type { OrchestrationContext as Ctx } from './index';

/** GraphQL of accounting (issue 14): usage of a run, a task, a workflow, an app, and the organization's by group. */

/** The longest range `usage` reads at once, and the most groups it returns. */
export const USAGE_MAX_RANGE_DAYS = 366;
export const USAGE_MAX_GROUPS = 1_000;

const shown = (totals: UsageTotals) => ({ ...totals, totalTokens: totals.promptTokens + totals.completionTokens });

/** Checks `usage(from, to)`: both given, from before to, at most USAGE_MAX_RANGE_DAYS apart. */
export function checkUsageRange(from: Date, to: Date): void {
  if (from.getTime() >= to.getTime()) throw badInput('to', '`to` must be after `from`', 'INVALID_RANGE');
  if (to.getTime() - from.getTime() > USAGE_MAX_RANGE_DAYS * 86_400_000) throw badInput('to', `at most ${USAGE_MAX_RANGE_DAYS} days from \`from\` to \`to\``, 'RANGE_TOO_LONG');
}

export const usageResolvers = {
  Query: {
    async usage(_: unknown, args: { from: Date; to: Date; groupBy: UsageGroupBy }, ctx: Ctx) {
      checkUsageRange(args.from, args.to);
      const groups = await ctx.engine.inTenant(ctx.principal, (tx) => usageBy(tx, args.from, args.to, args.groupBy, USAGE_MAX_GROUPS));
      return groups.map((g) => ({ ...shown(g), key: g.key, groupBy: args.groupBy }));
    },
  },
  Run: {
    usage: async (r: RunRow, _: unknown, ctx: Ctx) => shown(await ctx.engine.inTenant(ctx.principal, (tx) => runUsage(tx, r.id))),
  },
  Task: {
    usage: async (t: TaskRow, _: unknown, ctx: Ctx) => shown(await ctx.engine.inTenant(ctx.principal, (tx) => taskUsage(tx, t.id))),
  },
  Workflow: {
    usage: async (w: WorkflowRow, _: unknown, ctx: Ctx) => shown(await ctx.engine.inTenant(ctx.principal, (tx) => workflowUsage(tx, w.id))),
  },
  UsageGroup: {
    app: (g: UsageGroup & { groupBy: UsageGroupBy }) => (g.groupBy === 'APP' && isUuid(g.key) ? { __typename: 'App', id: g.key } : null),
    workflow: async (g: UsageGroup & { groupBy: UsageGroupBy }, _: unknown, ctx: Ctx) => (g.groupBy === 'WORKFLOW' && isUuid(g.key) ? ((await ctx.loaders.workflow.load(g.key)) ?? null) : null),
  },
};

/** What an app's runs spent since a time (AppRunStats' token, cost and GPU fields). */
export const appUsageSince = (ctx: Ctx, appId: string, since: Date): Promise<ReturnType<typeof shown>> =>
  isUuid(appId) ? ctx.engine.inTenant(ctx.principal, async (tx) => shown(await appUsage(tx, appId, since))) : Promise.resolve(shown({ calls: 0, failedCalls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, gpuSeconds: 0 }));
