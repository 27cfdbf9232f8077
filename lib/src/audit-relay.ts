import { auditV1 } from '@orchestra/proto';
import type { OutboxAuditEvent } from './audit';
import { AppError } from './errors';
import { INTERNAL_CHANNEL_OPTIONS, unaryCall } from './grpc';
import { grpcChannelCredentials, type GrpcTls } from './grpc-tls';
import { newRequestId } from './ids';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import { createGenericOutboxRelay, RELAY_REJECTED, type OutboxRelay, type RelayTuning } from './outbox-relay';
import type { Pool } from './db';

export type { OutboxRelay } from './outbox-relay';

export interface OutboxRelayOptions extends RelayTuning {
  /** The service's pool; the relay works as the owner role (no row-level security). */
  pool: Pool;
  /** The service's schema: the outbox is `<schema>.audit_outbox`, the wake-up channel `audit_outbox_<schema>`. */
  schema: string;
  /** The producing service's name (logs). */
  service: string;
  /** host:port of AuditService. Unset: the relay does nothing and events wait in the outbox. */
  auditGrpcAddress: string | undefined;
  internalToken: string;
  /** Dial the audit service over TLS (lib/grpc-tls.ts). */
  tls?: GrpcTls | undefined;
  log: Logger;
  metrics: Metrics;
  /** Deadline of each Record call. Default 5 s. */
  deadlineMs?: number;
}

const ACTOR_KINDS: Record<OutboxAuditEvent['actor']['kind'], auditV1.ActorKind> = {
  user: auditV1.ActorKind.ACTOR_KIND_USER,
  apiKey: auditV1.ActorKind.ACTOR_KIND_API_KEY,
  service: auditV1.ActorKind.ACTOR_KIND_SERVICE,
  anonymous: auditV1.ActorKind.ACTOR_KIND_ANONYMOUS,
};

/** The outbox JSON as it travels on the wire (an event without an org has org_id ""). */
export function toProtoAuditEvent(event: OutboxAuditEvent): auditV1.AuditEvent {
  return {
    eventId: event.eventId,
    orgId: event.orgId ?? '',
    occurredAt: new Date(event.occurredAt),
    service: event.service,
    actor: {
      kind: ACTOR_KINDS[event.actor.kind] ?? auditV1.ActorKind.ACTOR_KIND_UNSPECIFIED,
      id: event.actor.id,
      userId: event.actor.userId ?? '',
      apiKeyId: event.actor.apiKeyId ?? '',
      display: event.actor.display ?? '',
    },
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    outcome: event.outcome,
    requestId: event.requestId,
    ip: event.ip,
    userAgent: event.userAgent,
    diff: event.diff ?? null,
  };
}

/**
 * Delivers a service's audit outbox to AuditService.Record (lib/src/outbox-relay.ts does the work:
 * at-least-once, replica-safe, backoff, a rejected event isolated). AuditService dedupes by event id,
 * so every event is stored exactly once.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { auditGrpcAddress, internalToken, tls, deadlineMs = 5_000 } = options;
  return createGenericOutboxRelay<OutboxAuditEvent>({
    ...options,
    table: 'audit_outbox',
    target: 'audit',
    notConfigured: 'AUDIT_GRPC_ADDR is not set: audit events stay in the outbox until a relay delivers them',
    connect: () => {
      if (auditGrpcAddress === undefined || auditGrpcAddress === '') return undefined;
      const client = new auditV1.AuditServiceClient(auditGrpcAddress, grpcChannelCredentials(tls), INTERNAL_CHANNEL_OPTIONS);
      return {
        async send(rows) {
          const events = rows.map((row) => {
            try {
              return toProtoAuditEvent(row.event);
            } catch (error) {
              // A row that cannot even be encoded is the event's fault, not the link's: isolate it like a rejection.
              throw new AppError(RELAY_REJECTED, `outbox event ${row.id} is malformed`, { cause: error });
            }
          });
          await unaryCall(client, client.record.bind(client), { events }, { internalToken }, { deadlineMs, requestId: newRequestId() });
        },
        close: () => client.close(),
      };
    },
  });
}
