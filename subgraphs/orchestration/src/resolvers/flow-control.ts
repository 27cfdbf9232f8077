import type { RateLimitPeriod } from '../domain/flow-control';
import type { StepDefinition } from '../domain/workflow-definition';
import { createRateLimit, deleteRateLimit, updateRateLimit } from '../flow-control/rate-limit-commands';
import { poolsOf, quotasOf } from '../flow-control/limits';
import { orgUsage } from '../store/quotas';
import { listRateLimits, rateLimitUsage, type RateLimitRow } from '../store/rate-limits';
import type { WorkflowVersionRow } from '../store/rows';
import type { OrchestrationContext as Ctx } from './index';

/** GraphQL of flow control (issue 10): rate limits, the organization's limits, the flow fields of steps and versions. */
export const flowControlResolvers = {
  Query: {
    async rateLimits(_: unknown, _args: unknown, ctx: Ctx) {
      return ctx.engine.inTenant(ctx.principal, async (tx) => {
        const limits = await listRateLimits(tx);
        const used = await rateLimitUsage(
          tx,
          limits.map((l) => l.id),
        );
        return limits.map((l) => ({ ...l, used: used.get(l.id) ?? 0 }));
      });
    },
    async organizationLimits(_: unknown, _args: unknown, ctx: Ctx) {
      const orgId = ctx.principal.orgId as string;
      return ctx.engine.inTenant(ctx.principal, async (tx) => {
        const quotas = await quotasOf(tx, orgId, ctx.engine.config);
        const usage = await orgUsage(tx, orgId);
        return { ...quotas, pools: await poolsOf(tx, orgId), usage: { runsStartedLastMinute: usage.runsStartedLastMinute, queuedTasks: usage.queuedTasks, waitingTasks: usage.waitingTasks, runningTasks: usage.runningByPool } };
      });
    },
  },

  Mutation: {
    createRateLimit: (_: unknown, { input }: { input: { name: string; limit: number; per: RateLimitPeriod } }, ctx: Ctx) => createRateLimit(ctx.engine, ctx.principal, input),
    updateRateLimit: (_: unknown, args: { id: string; input: { limit?: number | null; per?: RateLimitPeriod | null } }, ctx: Ctx) => updateRateLimit(ctx.engine, ctx.principal, args.id, args.input),
    deleteRateLimit: (_: unknown, args: { id: string }, ctx: Ctx) => deleteRateLimit(ctx.engine, ctx.principal, args.id),
  },

  RateLimit: {
    per: (r: RateLimitRow) => r.period,
    // Listed limits come with their usage (one statement for all); a limit a mutation answers reads its own.
    async used(r: RateLimitRow & { used?: number }, _: unknown, ctx: Ctx) {
      if (r.used !== undefined) return r.used;
      return (await ctx.engine.inTenant(ctx.principal, (tx) => rateLimitUsage(tx, [r.id]))).get(r.id) ?? 0;
    },
  },

  WorkflowVersion: {
    priority: (v: WorkflowVersionRow) => v.options.priority ?? null,
    concurrency: (v: WorkflowVersionRow) => v.options.concurrency ?? null,
  },

  Step: {
    priority: (s: StepDefinition) => s.priority ?? null,
    concurrency: (s: StepDefinition) => s.concurrency ?? null,
    rateLimits: (s: StepDefinition) => s.rateLimits ?? [],
    forEach: (s: StepDefinition) => s.forEach ?? null,
  },
};
