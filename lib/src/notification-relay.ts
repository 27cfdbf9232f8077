import { notificationsV1 } from '@orchestra/proto';
import type { Pool } from './db';
import { AppError } from './errors';
import { INTERNAL_CHANNEL_OPTIONS, unaryCall } from './grpc';
import { grpcChannelCredentials, type GrpcTls } from './grpc-tls';
import { newRequestId } from './ids';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import type { OutboxNotificationEvent } from './notification-events';
import { createGenericOutboxRelay, RELAY_REJECTED, type OutboxRelay, type RelayTuning } from './outbox-relay';

export interface NotificationRelayOptions extends RelayTuning {
  /** The service's pool; the relay works as the service's own login. */
  pool: Pool;
  /** The service's schema: the outbox is `<schema>.notification_outbox`. */
  schema: string;
  /** The producing service's name (logs). */
  service: string;
  /** host:port of NotificationService. Unset: the relay does nothing and events wait in the outbox. */
  notificationsGrpcAddress: string | undefined;
  internalToken: string;
  tls?: GrpcTls | undefined;
  log: Logger;
  metrics: Metrics;
  /** Deadline of each Publish call. Default 5 s. */
  deadlineMs?: number;
}

/** The outbox JSON as it travels on the wire. */
export const toProtoNotificationEvent = (event: OutboxNotificationEvent): notificationsV1.NotificationEvent => ({
  eventId: event.eventId,
  orgId: event.orgId,
  type: event.type,
  occurredAt: new Date(event.occurredAt),
  service: event.service,
  data: event.data,
});

/**
 * Delivers a service's notification outbox to NotificationService.Publish (at-least-once; the
 * notifications service dedupes by event id, so each event takes effect once).
 */
export function createNotificationRelay(options: NotificationRelayOptions): OutboxRelay {
  const { notificationsGrpcAddress: address, internalToken, tls, deadlineMs = 5_000 } = options;
  return createGenericOutboxRelay<OutboxNotificationEvent>({
    ...options,
    table: 'notification_outbox',
    target: 'notifications',
    notConfigured: 'NOTIFICATIONS_GRPC_ADDR is not set: notification events stay in the outbox until a relay delivers them',
    connect: () => {
      if (address === undefined || address === '') return undefined;
      const client = new notificationsV1.NotificationServiceClient(address, grpcChannelCredentials(tls), INTERNAL_CHANNEL_OPTIONS);
      return {
        async send(rows) {
          const events = rows.map((row) => {
            try {
              return toProtoNotificationEvent(row.event);
            } catch (error) {
              throw new AppError(RELAY_REJECTED, `outbox event ${row.id} is malformed`, { cause: error });
            }
          });
          await unaryCall(client, client.publish.bind(client), { events }, { internalToken }, { deadlineMs, requestId: newRequestId() });
        },
        close: () => client.close(),
      };
    },
  });
}
