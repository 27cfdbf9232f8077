import {
  badInput,
  recordAudit,
  tenantScopeOf,
  withSystemTransaction,
  withTenantTransaction,
  type Logger,
  type Pool,
  type PoolClient,
  type Principal,
  type RequestContext,
} from '@orchestra/lib';
import { chainOf } from '../chain/hash';
import { verifyChain, type ChainBreak } from '../chain/verify';
import { csvHeader, toCsvRow, toJsonLine } from '../export/format';
import { AUDIT_TENANT_ROLE } from '../migrate';
import type { Witness } from '../chain/witness';
import { archiveExpired, type RetentionSettings } from '../retention/archive';
import { listCheckpoints, type AuditCheckpoint } from '../store/checkpoints';
import { eventById, listEvents, type AuditEventFilter, type StoredAuditEvent } from '../store/events';
import { actorKindToGraphQL, decodeCursor, encodeCursor, parseFilter, parseFirst, type AuditLogFilterInput } from './input';
import { DateTimeScalar, JSONScalar } from './scalars';

export const SERVICE_NAME = 'audit';

export interface ResolverDeps {
  pool: Pool;
  log: Logger;
  retention: RetentionSettings;
  witness: Witness;
  now: () => Date;
}

interface PageArgs {
  filter?: AuditLogFilterInput | null;
  first?: number | null;
  after?: string | null;
}

const MAX_PAGE = 200;
const MAX_EXPORT_PAGE = 10_000;

const emptyToNull = (value: string | null): string | null => (value === null || value === '' ? null : value);

/** An event as the schema shows it. */
function toGraphQLEvent(event: StoredAuditEvent) {
  return {
    id: event.id,
    sequence: event.sequence,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    service: event.service,
    actor: { ...event.actor, kind: actorKindToGraphQL(event.actor.kind) },
    action: event.action,
    targetType: event.targetType,
    targetId: emptyToNull(event.targetId),
    outcome: event.outcome,
    requestId: event.requestId,
    ip: emptyToNull(event.ip),
    userAgent: emptyToNull(event.userAgent),
    diff: event.diff,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

const toGraphQLArchive = (c: AuditCheckpoint) => ({
  id: String(c.id),
  fromSequence: c.fromSeq,
  throughSequence: c.throughSeq,
  eventCount: c.eventCount,
  firstOccurredAt: c.firstOccurredAt,
  lastOccurredAt: c.lastOccurredAt,
  archiveFile: c.archiveFile,
  archiveSha256: c.archiveSha256,
  lastHash: c.lastHash,
  archivedAt: c.archivedAt,
});

const orgOf = (principal: Principal): string => tenantScopeOf(principal).orgId;

export function createResolvers({ pool, log, retention, witness, now }: ResolverDeps) {
  const asTenant = <T>(ctx: RequestContext, fn: (tx: PoolClient) => Promise<T>) => withTenantTransaction(pool, AUDIT_TENANT_ROLE, tenantScopeOf(ctx.principal), fn);

  /** One page of the org's log, newest first. Row-level security keeps it to the caller's org. */
  const page = async (ctx: RequestContext, filter: AuditEventFilter, args: PageArgs) => {
    const first = parseFirst(args.first, MAX_PAGE, 50);
    const afterSeq = decodeCursor(args.after);
    const chain = chainOf(orgOf(ctx.principal));
    const rows = await asTenant(ctx, (tx) => listEvents(tx, chain, filter, { afterSeq, limit: first + 1, order: 'desc' }));
    const nodes = rows.slice(0, first);
    return {
      edges: nodes.map((event) => ({ cursor: encodeCursor(event.sequence), node: toGraphQLEvent(event) })),
      pageInfo: { hasNextPage: rows.length > first, endCursor: nodes.length > 0 ? encodeCursor(nodes[nodes.length - 1]!.sequence) : null },
    };
  };

  /** Writes the org's retention audit event in the archive's own transaction. */
  const recordArchive = (principal: Principal) => async (tx: PoolClient, checkpoint: AuditCheckpoint) => {
    await recordAudit(tx, SERVICE_NAME, principal, {
      action: 'audit.archive',
      targetType: 'AuditChain',
      targetId: checkpoint.chain,
      orgId: checkpoint.orgId ?? undefined,
      diff: { fromSequence: checkpoint.fromSeq, throughSequence: checkpoint.throughSeq, eventCount: checkpoint.eventCount, archiveFile: checkpoint.archiveFile },
    });
  };

  return {
    DateTime: DateTimeScalar,
    JSON: JSONScalar,
    Query: {
      auditLog: (_: unknown, args: PageArgs, ctx: RequestContext) => page(ctx, parseFilter(args.filter), args),

      auditEvent: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
        orgOf(ctx.principal);
        if (!/^[0-9a-f-]{36}$/i.test(args.id)) return null;
        const event = await asTenant(ctx, (tx) => eventById(tx, args.id));
        return event ? toGraphQLEvent(event) : null;
      },

      auditLogExport: async (
        _: unknown,
        args: { filter?: AuditLogFilterInput | null; format: 'CSV' | 'JSON_LINES'; first?: number | null; after?: string | null },
        ctx: RequestContext,
      ) => {
        const filter = parseFilter(args.filter);
        const first = parseFirst(args.first, MAX_EXPORT_PAGE, 5000);
        const afterSeq = decodeCursor(args.after);
        const orgId = orgOf(ctx.principal);
        const rows = await asTenant(ctx, async (tx) => {
          const found = await listEvents(tx, chainOf(orgId), filter, { afterSeq, limit: first + 1, order: 'asc' });
          // Reading the trail out is itself on the record, once per export (its first page).
          if (afterSeq === undefined) {
            await recordAudit(tx, SERVICE_NAME, ctx.principal, {
              action: 'audit.export',
              targetType: 'AuditLog',
              targetId: orgId,
              diff: { format: args.format, filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() } },
            });
          }
          return found;
        });
        const events = rows.slice(0, first);
        const csv = args.format === 'CSV';
        const body = events.map(csv ? toCsvRow : toJsonLine).join('');
        const range = [filter.from, filter.to].map((d) => (d ? d.toISOString().slice(0, 10) : 'all')).join('_');
        return {
          format: args.format,
          contentType: csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
          fileName: `audit-log-${orgId}-${range}.${csv ? 'csv' : 'jsonl'}`,
          content: csv && afterSeq === undefined ? csvHeader() + body : body,
          eventCount: events.length,
          nextCursor: rows.length > first ? encodeCursor(events[events.length - 1]!.sequence) : null,
        };
      },

      verifyAuditChain: async (_: unknown, args: { from?: Date | null; to?: Date | null }, ctx: RequestContext) => {
        const from = args.from ?? undefined;
        const to = args.to ?? undefined;
        if (from && to && from > to) throw badInput('from', 'from must not be later than to');
        const orgId = orgOf(ctx.principal);
        const witnessed = await witness.read(chainOf(orgId));
        return asTenant(ctx, async (tx) => {
          const result = await verifyChain(tx, chainOf(orgId), { from, to }, ctx.log, witnessed);
          if (!result.ok) ctx.log.warn('audit chain verification found a break', { orgId, break: result.break });
          const chainBreak: ChainBreak | null = result.break;
          const event = chainBreak?.eventId ? await eventById(tx, chainBreak.eventId) : undefined;
          return { ...result, break: chainBreak ? { ...chainBreak, event: event ? toGraphQLEvent(event) : null } : null };
        });
      },

      auditArchives: async (_: unknown, __: unknown, ctx: RequestContext) => {
        const orgId = orgOf(ctx.principal);
        const checkpoints = await asTenant(ctx, (tx) => listCheckpoints(tx, chainOf(orgId)));
        return checkpoints.map(toGraphQLArchive);
      },
    },

    Mutation: {
      archiveExpiredAuditEvents: async (_: unknown, __: unknown, ctx: RequestContext) => {
        const orgId = orgOf(ctx.principal);
        const cutoff = new Date(now().getTime() - retention.windowMs);
        const written = await archiveExpired(pool, chainOf(orgId), cutoff, retention, ctx.log, recordArchive(ctx.principal));
        if (written.length === 0) {
          // Nothing expired: the run is still on the record.
          await withSystemTransaction(pool, (tx) =>
            recordAudit(tx, SERVICE_NAME, ctx.principal, { action: 'audit.archive', targetType: 'AuditChain', targetId: orgId, diff: { eventCount: 0, cutoff: cutoff.toISOString() } }),
          );
        }
        log.info('retention run requested', { orgId, requestId: ctx.requestId, archives: written.length });
        return written.map(toGraphQLArchive);
      },
    },

    User: {
      __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
      activity: (user: { id: string }, args: PageArgs, ctx: RequestContext) => page(ctx, { ...parseFilter(args.filter), actorUserId: user.id }, args),
    },
  };
}
