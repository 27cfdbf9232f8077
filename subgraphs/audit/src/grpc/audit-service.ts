import type { auditV1 } from '@orchestra/proto';
import { AppError, type GrpcServiceImpl, type Metrics, type Pool } from '@orchestra/lib';
import { MAX_EVENTS_PER_RECORD, appendEvents, parseIncomingEvent } from '../chain/append';

export interface AuditGrpcDeps {
  pool: Pool;
  metrics: Metrics;
}

/** AuditService.Record: validates the whole batch, then appends it (idempotent by event id). */
export function createAuditGrpcService({ pool, metrics }: AuditGrpcDeps): GrpcServiceImpl<typeof auditV1.AuditServiceService> {
  const stored = metrics.counter('audit_events_stored_total', 'Audit events appended to a chain');
  const duplicates = metrics.counter('audit_events_duplicate_total', 'Audit events received again and not stored twice');
  return {
    async record(request, ctx) {
      if (request.events.length > MAX_EVENTS_PER_RECORD) {
        throw new AppError('BAD_USER_INPUT', `a Record call carries at most ${MAX_EVENTS_PER_RECORD} events (got ${request.events.length})`, { field: 'events' });
      }
      const events = request.events.map((event, index) => parseIncomingEvent(event, index));
      const result = await appendEvents(pool, events);
      stored.inc(result.stored);
      duplicates.inc(result.duplicates);
      ctx.log.debug('audit events recorded', { ...result, eventIds: events.length <= 10 ? events.map((e) => e.id) : undefined });
      return result;
    },
  };
}
