import { newId } from '@orchestra/lib';
import type { FanoutChannel, FanoutEvent } from '../fanout/fanout';
import { insertDeliveries } from '../store/webhook-deliveries';
import { endpointsFor } from '../store/webhook-endpoints';

/** The JSON body every delivery of an event POSTs: the same bytes on every attempt and redelivery. */
export const webhookBody = (event: FanoutEvent): string =>
  JSON.stringify({ id: event.id, type: event.type, timestamp: new Date(event.occurredAt).toISOString(), organizationId: event.orgId, data: event.data });

/** The fan-out's webhook channel: one delivery per enabled endpoint that wants the event. */
export function webhookChannel({ retryForMs, wakeSender }: { retryForMs: number; wakeSender: () => void }): FanoutChannel {
  return {
    name: 'webhooks',
    async plan(tx, event) {
      const endpoints = await endpointsFor(tx, event.orgId, event.type);
      if (endpoints.length === 0) return undefined;
      const body = webhookBody(event);
      const giveUpAt = new Date(Date.now() + retryForMs);
      const added = await insertDeliveries(
        tx,
        endpoints.map((e) => ({ id: newId(), orgId: event.orgId, endpointId: e.id, eventId: event.id, eventType: event.type, body, giveUpAt })),
      );
      return added > 0 ? wakeSender : undefined;
    },
  };
}
