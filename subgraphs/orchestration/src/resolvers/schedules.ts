import { badInput, isUuid } from '@orchestra/lib';
import { parseCron } from '../schedules/cron';
import { createSchedule, deleteSchedule, pauseSchedule, resumeSchedule, updateSchedule, MAX_SCHEDULES_PER_ORG, type CreateScheduleInput, type UpdateScheduleInput } from '../schedules/schedule-commands';
import { findRunsByIds } from '../store/runs';
import { findSchedule, listFires, listSchedules, runIdsOfSchedule, type ScheduleFireRow, type ScheduleRow } from '../store/schedules';
import { pageSize } from './pagination';
import type { OrchestrationContext as Ctx } from './index';

const MAX_NEXT_RUNS = 50;

function checkNextRunsCount(n: number | null | undefined): number {
  const count = n ?? 5;
  if (!Number.isInteger(count) || count < 1 || count > MAX_NEXT_RUNS) throw badInput('n', `n is between 1 and ${MAX_NEXT_RUNS}`, 'OUT_OF_RANGE');
  return count;
}

/** GraphQL of schedules (issue 10): list, next ticks, runs started, what each tick did. */
export const scheduleResolvers = {
  Query: {
    async schedules(_: unknown, args: { workflowId?: string | null }, ctx: Ctx) {
      if (args.workflowId != null && !isUuid(args.workflowId)) throw badInput('workflowId', 'workflowId must be an id (a UUID)', 'INVALID_ID');
      return ctx.engine.inTenant(ctx.principal, (tx) => listSchedules(tx, { workflowId: args.workflowId ?? undefined }, MAX_SCHEDULES_PER_ORG));
    },
    async schedule(_: unknown, { id }: { id: string }, ctx: Ctx) {
      return isUuid(id) ? ((await ctx.engine.inTenant(ctx.principal, (tx) => findSchedule(tx, id))) ?? null) : null;
    },
    /** Reads a cron before it is saved (the schedule form's live check and preview): no database. */
    cronPreview(_: unknown, args: { cron: string; timezone?: string | null; n?: number | null }) {
      const count = checkNextRunsCount(args.n);
      const cron = parseCron(args.cron, args.timezone ?? 'UTC', { cron: 'cron', timezone: 'timezone' });
      return { cron: cron.cron, timezone: cron.timezone, nextRuns: cron.next(new Date(), count) };
    },
  },

  Mutation: {
    createSchedule: (_: unknown, { input }: { input: CreateScheduleInput }, ctx: Ctx) => createSchedule(ctx.engine, ctx.principal, input),
    updateSchedule: (_: unknown, args: { id: string; input: UpdateScheduleInput }, ctx: Ctx) => updateSchedule(ctx.engine, ctx.principal, args.id, args.input),
    pauseSchedule: (_: unknown, args: { id: string }, ctx: Ctx) => pauseSchedule(ctx.engine, ctx.principal, args.id),
    resumeSchedule: (_: unknown, args: { id: string }, ctx: Ctx) => resumeSchedule(ctx.engine, ctx.principal, args.id),
    deleteSchedule: (_: unknown, args: { id: string }, ctx: Ctx) => deleteSchedule(ctx.engine, ctx.principal, args.id),
  },

  Schedule: {
    __resolveReference: async (ref: { id: string }, ctx: Ctx) => (isUuid(ref.id) ? ((await ctx.engine.inTenant(ctx.principal, (tx) => findSchedule(tx, ref.id))) ?? null) : null),
    workflow: (s: ScheduleRow, _: unknown, ctx: Ctx) => ctx.loaders.workflow.load(s.workflowId),
    nextFireAt: (s: ScheduleRow) => (s.paused ? null : s.nextFireAt),
    nextRuns(s: ScheduleRow, { n }: { n?: number | null }) {
      const count = checkNextRunsCount(n);
      return parseCron(s.cron, s.timezone, { cron: 'cron', timezone: 'timezone' }).next(new Date(), count);
    },
    async runs(s: ScheduleRow, args: { first?: number | null }, ctx: Ctx) {
      const size = pageSize(args.first);
      return ctx.engine.inTenant(ctx.principal, async (tx) => {
        const ids = await runIdsOfSchedule(tx, s.id, size);
        const byId = new Map((await findRunsByIds(tx, ids)).map((r) => [r.id, r]));
        return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)] : []));
      });
    },
    fires: (s: ScheduleRow, args: { first?: number | null }, ctx: Ctx) => ctx.engine.inTenant(ctx.principal, (tx) => listFires(tx, s.id, pageSize(args.first))),
  },

  ScheduleFire: {
    run: async (f: ScheduleFireRow, _: unknown, ctx: Ctx) => (f.runId ? ((await ctx.loaders.run.load(f.runId)) ?? null) : null),
  },
};
