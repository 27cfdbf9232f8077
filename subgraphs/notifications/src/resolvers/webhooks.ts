import { badInput, isUuid, newId, notFound, recordAudit, tenantScopeOf, conflict, type Pool, type RequestContext } from '@orchestra/lib';
import { findDelivery, insertDeliveries, listAttempts, listDeliveries, type WebhookDelivery } from '../store/webhook-deliveries';
import {
  countEndpoints,
  deleteEndpoint,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
  type WebhookEndpoint,
} from '../store/webhook-endpoints';
import { parseDescription, parseEndpointUrl, parseEventList } from '../webhooks/input';
import { newWebhookSecret } from '../webhooks/signature';
import { asTenant } from './tenant';

/** Endpoints an organization may register. */
export const MAX_ENDPOINTS_PER_ORG = 20;
const MAX_PAGE = 200;

export interface WebhookResolverDeps {
  pool: Pool;
  service: string;
  allowedPrivateIps: ReadonlySet<string>;
  retryForMs: number;
  secretOverlapMs: number;
  wakeSender: () => void;
}

const toEndpoint = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: e.events,
  enabled: e.enabled,
  disabledAt: e.disabledAt,
  disabledReason: e.disabledReason,
  createdAt: e.createdAt,
  secretRotatedAt: e.secretRotatedAt,
  previousSecretExpiresAt: e.previousSecretExpiresAt !== null && e.previousSecretExpiresAt.getTime() > Date.now() ? e.previousSecretExpiresAt : null,
});

const toDelivery = (d: WebhookDelivery) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status.toUpperCase(),
  attempts: d.attempts,
  createdAt: d.createdAt,
  deliveredAt: d.deliveredAt,
  nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
  lastStatusCode: d.lastStatusCode,
  lastLatencyMs: d.lastLatencyMs,
  lastResponseExcerpt: d.lastResponseExcerpt,
  lastError: d.lastError,
  redeliveryOf: d.redeliveryOf,
  body: d.body,
});

const requireId = (field: string, id: string): string => {
  if (!isUuid(id)) throw badInput(field, `${field} is not a valid id`, 'INVALID_ID');
  return id;
};

export function webhookResolvers({ pool, service, allowedPrivateIps, retryForMs, secretOverlapMs, wakeSender }: WebhookResolverDeps) {
  const endpointOrThrow = async (tx: Parameters<typeof findEndpoint>[0], id: string, forUpdate = false) => {
    // Row-level security: another organization's endpoint is simply not there.
    const endpoint = await findEndpoint(tx, requireId('id', id), forUpdate);
    if (!endpoint) throw notFound('webhook endpoint', id);
    return endpoint;
  };

  return {
    Query: {
      webhookEndpoints: async (_: unknown, __: unknown, ctx: RequestContext) => (await asTenant(pool, ctx, listEndpoints)).map(toEndpoint),
      webhookEndpoint: async (_: unknown, { id }: { id: string }, ctx: RequestContext) => {
        if (!isUuid(id)) return null;
        const endpoint = await asTenant(pool, ctx, (tx) => findEndpoint(tx, id));
        return endpoint ? toEndpoint(endpoint) : null;
      },
    },
    Mutation: {
      createWebhookEndpoint: async (_: unknown, { input }: { input: { url: string; events: string[]; description?: string | null } }, ctx: RequestContext) => {
        const { orgId } = tenantScopeOf(ctx.principal);
        const url = parseEndpointUrl('input.url', input.url, allowedPrivateIps);
        const events = parseEventList('input.events', input.events);
        const description = parseDescription('input.description', input.description) ?? '';
        const secret = newWebhookSecret();
        const endpoint = await asTenant(pool, ctx, async (tx) => {
          // One organization's endpoints are created one at a time, so the cap holds under concurrency.
          await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhook-endpoints:${orgId}`]);
          if ((await countEndpoints(tx, orgId)) >= MAX_ENDPOINTS_PER_ORG) throw conflict(`an organization has at most ${MAX_ENDPOINTS_PER_ORG} webhook endpoints`, 'TOO_MANY_ENDPOINTS');
          const row = await insertEndpoint(tx, { id: newId(), orgId, url, description, events, secret });
          await recordAudit(tx, service, ctx.principal, { action: 'webhook_endpoint.create', targetType: 'WebhookEndpoint', targetId: row.id, diff: { url, events } });
          return row;
        });
        ctx.log.info('webhook endpoint created', { endpointId: endpoint.id, orgId });
        return { endpoint: toEndpoint(endpoint), secret };
      },
      updateWebhookEndpoint: async (
        _: unknown,
        { id, input }: { id: string; input: { url?: string | null; events?: string[] | null; description?: string | null; enabled?: boolean | null } },
        ctx: RequestContext,
      ) => {
        const change = {
          url: input.url == null ? undefined : parseEndpointUrl('input.url', input.url, allowedPrivateIps),
          events: input.events == null ? undefined : parseEventList('input.events', input.events),
          description: parseDescription('input.description', input.description),
          enabled: input.enabled ?? undefined,
        };
        const updated = await asTenant(pool, ctx, async (tx) => {
          await endpointOrThrow(tx, id, true);
          const row = (await updateEndpoint(tx, id, change))!;
          await recordAudit(tx, service, ctx.principal, { action: 'webhook_endpoint.update', targetType: 'WebhookEndpoint', targetId: id, diff: { after: change } });
          return row;
        });
        if (change.enabled === true) wakeSender();
        return toEndpoint(updated);
      },
      deleteWebhookEndpoint: (_: unknown, { id }: { id: string }, ctx: RequestContext) =>
        asTenant(pool, ctx, async (tx) => {
          const endpoint = await endpointOrThrow(tx, id, true);
          await deleteEndpoint(tx, id);
          await recordAudit(tx, service, ctx.principal, { action: 'webhook_endpoint.delete', targetType: 'WebhookEndpoint', targetId: id, diff: { url: endpoint.url } });
          return true;
        }),
      rotateWebhookSecret: async (_: unknown, { id }: { id: string }, ctx: RequestContext) => {
        const secret = newWebhookSecret();
        const endpoint = await asTenant(pool, ctx, async (tx) => {
          await endpointOrThrow(tx, id, true);
          const row = (await rotateSecret(tx, id, secret, secretOverlapMs))!;
          await recordAudit(tx, service, ctx.principal, { action: 'webhook_endpoint.rotate_secret', targetType: 'WebhookEndpoint', targetId: id, diff: { overlapMs: secretOverlapMs } });
          return row;
        });
        return { endpoint: toEndpoint(endpoint), secret };
      },
      redeliverWebhook: async (_: unknown, { deliveryId }: { deliveryId: string }, ctx: RequestContext) => {
        requireId('deliveryId', deliveryId);
        const created = await asTenant(pool, ctx, async (tx) => {
          const original = await findDelivery(tx, deliveryId);
          if (!original) throw notFound('webhook delivery', deliveryId);
          const endpoint = await endpointOrThrow(tx, original.endpointId);
          if (!endpoint.enabled) throw conflict('the endpoint is disabled: enable it first (updateWebhookEndpoint enabled: true)', 'ENDPOINT_DISABLED');
          const id = newId();
          await insertDeliveries(tx, [{ id, orgId: original.orgId, endpointId: original.endpointId, eventId: original.eventId, eventType: original.eventType, body: original.body, giveUpAt: new Date(Date.now() + retryForMs), redeliveryOf: original.id }]);
          await recordAudit(tx, service, ctx.principal, { action: 'webhook_delivery.redeliver', targetType: 'WebhookDelivery', targetId: original.id, diff: { newDeliveryId: id } });
          return (await findDelivery(tx, id))!;
        });
        wakeSender();
        return toDelivery(created);
      },
    },
    WebhookEndpoint: {
      deliveries: async (endpoint: { id: string }, args: { first?: number | null; after?: string | null }, ctx: RequestContext) => {
        const first = args.first ?? 50;
        if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput('first', `first must be between 1 and ${MAX_PAGE}`, 'OUT_OF_RANGE');
        if (args.after != null && !isUuid(args.after)) throw badInput('after', 'after must be an endCursor of a previous page', 'INVALID_CURSOR');
        const rows = await asTenant(pool, ctx, (tx) => listDeliveries(tx, endpoint.id, { beforeId: args.after ?? undefined, limit: first + 1 }));
        const nodes = rows.slice(0, first);
        return { nodes: nodes.map(toDelivery), pageInfo: { hasNextPage: rows.length > first, endCursor: nodes.at(-1)?.id ?? null } };
      },
    },
    WebhookDelivery: {
      attemptLog: (delivery: { id: string }, _: unknown, ctx: RequestContext) => asTenant(pool, ctx, (tx) => listAttempts(tx, delivery.id)),
    },
  };
}
