import { badInput, isUuid } from '@orchestra/lib';
import { checkEventName } from '../events/event-filter';
import { emitEvent, type EmitEventResult, type EventStartOutcome } from '../events/emit';
import { createTrigger, deleteTrigger, rotateTriggerSecret, MAX_TRIGGERS_PER_ORG, type CreateTriggerInput } from '../events/trigger-commands';
import { findEvent, listEvents, startsOfEvent, type EmittedEventRow } from '../store/emitted-events';
import { findTrigger, listTriggers, type TriggerRow } from '../store/triggers';
import { listDeliveries, type WebhookDeliveryRow, type WebhookOutcome } from '../store/webhook-deliveries';
import { pageSize } from './pagination';
import type { OrchestrationContext as Ctx } from './index';

/** The webhook's URL: the gateway's public origin (ARTIFACT_URL_BASE) in front of /hooks/<id>, or the path alone. */
export const webhookUrlOf = (base: string | undefined, triggerId: string): string => `${(base ?? '').replace(/\/+$/, '')}/hooks/${triggerId}`;

const startView = (s: Pick<EventStartOutcome, 'workflowId' | 'runId' | 'error'> & { deduplicated?: boolean }) => s;

/** GraphQL of events, triggers and webhook deliveries (issue 10). */
export const eventResolvers = {
  Query: {
    async triggers(_: unknown, args: { workflowId?: string | null; eventName?: string | null }, ctx: Ctx) {
      if (args.workflowId != null && !isUuid(args.workflowId)) throw badInput('workflowId', 'workflowId must be an id (a UUID)', 'INVALID_ID');
      const eventName = args.eventName == null ? undefined : checkEventName(args.eventName, 'eventName');
      return ctx.engine.inTenant(ctx.principal, (tx) => listTriggers(tx, { workflowId: args.workflowId ?? undefined, eventName }, MAX_TRIGGERS_PER_ORG));
    },
    async trigger(_: unknown, { id }: { id: string }, ctx: Ctx) {
      return isUuid(id) ? ((await ctx.engine.inTenant(ctx.principal, (tx) => findTrigger(tx, id))) ?? null) : null;
    },
    async events(_: unknown, args: { name?: string | null; first?: number | null }, ctx: Ctx) {
      const name = args.name == null ? undefined : checkEventName(args.name, 'name');
      return ctx.engine.inTenant(ctx.principal, (tx) => listEvents(tx, { name }, pageSize(args.first)));
    },
  },

  Mutation: {
    async emitEvent(_: unknown, args: { name: string; payload?: unknown; idempotencyKey?: string | null }, ctx: Ctx) {
      const result: EmitEventResult = await emitEvent(ctx.engine, ctx.principal, args, 'API', [], '');
      return { event: result.event, starts: result.starts.map(startView), resumedWaits: result.resumedWaits };
    },
    createTrigger: (_: unknown, { input }: { input: CreateTriggerInput }, ctx: Ctx) => createTrigger(ctx.engine, ctx.principal, input),
    rotateTriggerSecret: (_: unknown, { id }: { id: string }, ctx: Ctx) => rotateTriggerSecret(ctx.engine, ctx.principal, id),
    deleteTrigger: (_: unknown, { id }: { id: string }, ctx: Ctx) => deleteTrigger(ctx.engine, ctx.principal, id),
  },

  Trigger: {
    __resolveReference: async (ref: { id: string }, ctx: Ctx) => (isUuid(ref.id) ? ((await ctx.engine.inTenant(ctx.principal, (tx) => findTrigger(tx, ref.id))) ?? null) : null),
    workflow: (t: TriggerRow, _: unknown, ctx: Ctx) => ctx.loaders.workflow.load(t.workflowId),
    webhookUrl: (t: TriggerRow, _: unknown, ctx: Ctx) => (t.hasWebhook ? webhookUrlOf(ctx.engine.config.ARTIFACT_URL_BASE, t.id) : null),
    deliveries(t: TriggerRow, args: { outcome?: WebhookOutcome | null; first?: number | null }, ctx: Ctx) {
      return ctx.engine.inTenant(ctx.principal, (tx) => listDeliveries(tx, t.id, { outcome: args.outcome ?? undefined }, pageSize(args.first)));
    },
  },

  InboundWebhookDelivery: {
    event: async (d: WebhookDeliveryRow, _: unknown, ctx: Ctx) => (d.eventId ? ((await ctx.engine.inTenant(ctx.principal, (tx) => findEvent(tx, d.eventId as string))) ?? null) : null),
  },

  Event: {
    starts: async (e: EmittedEventRow, _: unknown, ctx: Ctx) => (await ctx.engine.inTenant(ctx.principal, (tx) => startsOfEvent(tx, e.id))).map((s) => startView({ ...s, deduplicated: false })),
  },

  EventStart: {
    workflow: async (s: { workflowId: string }, _: unknown, ctx: Ctx) => (await ctx.loaders.workflow.load(s.workflowId)) ?? null,
    run: async (s: { runId: string | null }, _: unknown, ctx: Ctx) => (s.runId ? ((await ctx.loaders.run.load(s.runId)) ?? null) : null),
    deduplicated: (s: { deduplicated?: boolean }) => s.deduplicated ?? false,
  },
};
