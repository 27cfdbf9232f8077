import { badInput, isUuid } from '@orchestra/lib';
import { cancelRuns, discardDeadLetters, replayDeadLetters, retryRuns } from '../engine/bulk-actions';
import { groupDeadLetters, type DeadLetterGroup } from '../store/dead-letters';
import type { OrchestrationContext as Ctx } from './index';

/** GraphQL of triage (issue 12): bulk actions on runs and dead letters, dead letters grouped. */

/** The most groups deadLetterGroups answers. */
export const DEAD_LETTER_GROUPS_MAX = 100;

/** An error code or step id a dead-letter filter takes: 1 to 200 characters. */
export function filterText(value: string | null | undefined, field: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (text.length > 200) throw badInput(field, `${field} is longer than 200 characters`, 'TOO_LONG');
  return text;
}

export const triageResolvers = {
  Query: {
    deadLetterGroups: (_: unknown, _args: unknown, ctx: Ctx) => ctx.engine.inTenant(ctx.principal, (tx) => groupDeadLetters(tx, DEAD_LETTER_GROUPS_MAX)),
  },
  Mutation: {
    cancelRuns: (_: unknown, args: { ids: string[]; reason?: string | null }, ctx: Ctx) => cancelRuns(ctx.engine, ctx.principal, args.ids, args.reason),
    retryRuns: (_: unknown, args: { ids: string[] }, ctx: Ctx) => retryRuns(ctx.engine, ctx.principal, args.ids),
    replayDeadLetters: (_: unknown, args: { ids: string[] }, ctx: Ctx) => replayDeadLetters(ctx.engine, ctx.principal, args.ids),
    discardDeadLetters: (_: unknown, args: { ids: string[] }, ctx: Ctx) => discardDeadLetters(ctx.engine, ctx.principal, args.ids),
  },
  DeadLetterGroup: {
    workflow: (g: DeadLetterGroup, _: unknown, ctx: Ctx) => (isUuid(g.workflowId) ? ctx.loaders.workflow.load(g.workflowId) : null),
  },
};
