import type { notificationsV1 } from '@orchestra/proto';
import { badInput, isNotificationEventType, isUuid, NOTIFICATION_EVENT_TYPES, NOTIFICATION_EVENTS, type GrpcServiceImpl, type Metrics, type Pool } from '@orchestra/lib';
import { insertEvents, type ReceivedEvent } from '../store/events';

/** The most events one Publish call may carry (a relay sends 100). */
export const MAX_EVENTS_PER_PUBLISH = 500;

/** Checks one event against lib's registry; throws BAD_USER_INPUT naming the field and the event. */
export function parseIncomingEvent(event: notificationsV1.NotificationEvent, index: number): ReceivedEvent {
  const at = `event ${index} (${event.eventId.slice(0, 40)})`;
  if (!isUuid(event.eventId)) throw badInput('events.event_id', `${at}: event_id must be a UUID`, 'INVALID_ID');
  if (!isUuid(event.orgId)) throw badInput('events.org_id', `${at}: org_id must be a UUID`, 'INVALID_ID');
  if (!isNotificationEventType(event.type)) {
    throw badInput('events.type', `${at}: unknown event type "${event.type.slice(0, 60)}" (one of ${NOTIFICATION_EVENT_TYPES.join(', ')})`, 'UNKNOWN_EVENT_TYPE');
  }
  const parsed = NOTIFICATION_EVENTS[event.type].data.safeParse(event.data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badInput('events.data', `${at}: data.${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'}`, 'INVALID_EVENT_DATA');
  }
  return {
    id: event.eventId,
    orgId: event.orgId,
    type: event.type,
    occurredAt: event.occurredAt ?? new Date(),
    service: event.service.slice(0, 100),
    data: parsed.data,
  };
}

/** NotificationService.Publish: validates the whole batch, stores the events not seen before, wakes the fan-out. */
export function createNotificationGrpcService({ pool, metrics, onStored }: { pool: Pool; metrics: Metrics; onStored: () => void }): GrpcServiceImpl<typeof notificationsV1.NotificationServiceService> {
  const received = metrics.counter('notification_events_received_total', 'Events received from the outbox relays (new ones)');
  const duplicates = metrics.counter('notification_events_duplicate_total', 'Events received again and ignored');
  return {
    async publish(request, ctx) {
      if (request.events.length > MAX_EVENTS_PER_PUBLISH) {
        throw badInput('events', `a Publish call carries at most ${MAX_EVENTS_PER_PUBLISH} events (got ${request.events.length})`, 'TOO_MANY_EVENTS');
      }
      const events = request.events.map(parseIncomingEvent);
      const stored = await insertEvents(pool, events);
      received.inc(stored.length);
      duplicates.inc(events.length - stored.length);
      if (stored.length > 0) onStored();
      ctx.log.debug('notification events received', { accepted: stored.length, duplicates: events.length - stored.length });
      return { accepted: stored.length, duplicates: events.length - stored.length };
    },
  };
}
