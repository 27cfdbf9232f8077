import { auditV1 } from '@orchestra/proto';
import { badInput, isUuid, withSystemTransaction, type Pool } from '@orchestra/lib';
import { chainOf, eventHash, type ActorKind, type ChainedEvent } from './hash';
import { existingEventIds, insertEvent } from '../store/events';
import { advanceChain, ensureChain, lockChain } from '../store/chains';

/** The most events one Record call may carry (the relay sends 100 by default). */
export const MAX_EVENTS_PER_RECORD = 1000;

const ACTOR_KINDS = new Map<auditV1.ActorKind, ActorKind>([
  [auditV1.ActorKind.ACTOR_KIND_USER, 'user'],
  [auditV1.ActorKind.ACTOR_KIND_API_KEY, 'apiKey'],
  [auditV1.ActorKind.ACTOR_KIND_SERVICE, 'service'],
  [auditV1.ActorKind.ACTOR_KIND_ANONYMOUS, 'anonymous'],
]);

/**
 * PostgreSQL text and jsonb refuse NUL characters and lone surrogates; an event must never be
 * refused for them, so they become U+FFFD before the event is hashed and stored.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what PostgreSQL refuses
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function storable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '\uFFFD');
  if (depth > 32) return '[TOO_DEEP]';
  if (Array.isArray(value)) return value.map((v) => storable(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [storable(k) as string, storable(v, depth + 1)]));
  }
  return value;
}

const text = (value: string, max = 2000): string => (storable(value) as string).slice(0, max);
const optionalText = (value: string): string | null => (value === '' ? null : text(value, 500));

/** Checks one incoming event and normalizes it to what is hashed and stored (sequence comes later). */
export function parseIncomingEvent(event: auditV1.AuditEvent, index: number): Omit<ChainedEvent, 'sequence'> {
  const field = (name: string) => `events[${index}].${name}`;
  if (!isUuid(event.eventId)) throw badInput(field('eventId'), `events[${index}].eventId must be a UUID (got ${JSON.stringify(event.eventId.slice(0, 60))})`);
  if (event.orgId !== '' && !isUuid(event.orgId)) throw badInput(field('orgId'), `events[${index}].orgId must be a UUID or empty for platform events`);
  if (event.occurredAt === undefined || Number.isNaN(event.occurredAt.getTime())) throw badInput(field('occurredAt'), `events[${index}].occurredAt is required`);
  if (event.service.trim() === '') throw badInput(field('service'), `events[${index}].service is required`);
  if (event.action.trim() === '') throw badInput(field('action'), `events[${index}].action is required`);
  if (event.targetType.trim() === '') throw badInput(field('targetType'), `events[${index}].targetType is required`);
  if (event.outcome.trim() === '') throw badInput(field('outcome'), `events[${index}].outcome is required ("success" or an error code)`);
  const kind = event.actor === undefined ? undefined : ACTOR_KINDS.get(event.actor.kind);
  if (event.actor === undefined || kind === undefined) throw badInput(field('actor.kind'), `events[${index}].actor.kind must be USER, API_KEY, SERVICE or ANONYMOUS`);
  if (event.actor.id.trim() === '') throw badInput(field('actor.id'), `events[${index}].actor.id is required`);
  return {
    id: event.eventId.toLowerCase(),
    orgId: event.orgId === '' ? null : event.orgId.toLowerCase(),
    occurredAt: event.occurredAt,
    service: text(event.service, 100),
    actor: {
      kind,
      id: text(event.actor.id, 500),
      userId: optionalText(event.actor.userId),
      apiKeyId: optionalText(event.actor.apiKeyId),
      display: optionalText(event.actor.display),
    },
    action: text(event.action, 200),
    targetType: text(event.targetType, 200),
    targetId: text(event.targetId, 500),
    outcome: text(event.outcome, 100),
    requestId: text(event.requestId, 200),
    ip: text(event.ip, 100),
    userAgent: text(event.userAgent, 1000),
    diff: storable(event.diff ?? null),
  };
}

export interface AppendResult {
  stored: number;
  duplicates: number;
}

/**
 * Appends a batch in one transaction: all of it is stored or none. Each chain's head is locked (in
 * a fixed order, so concurrent batches cannot deadlock on heads) and each new event links to the
 * one before it. An id that is stored already, or repeated in the batch, counts as a duplicate.
 */
export async function appendEvents(pool: Pool, events: Array<Omit<ChainedEvent, 'sequence'>>): Promise<AppendResult> {
  if (events.length === 0) return { stored: 0, duplicates: 0 };
  return withSystemTransaction(pool, async (tx) => {
    const seen = new Set<string>();
    const unique = events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
    const existing = await existingEventIds(tx, unique.map((e) => e.id));
    const byChain = new Map<string, Array<Omit<ChainedEvent, 'sequence'>>>();
    for (const event of unique) {
      if (existing.has(event.id)) continue;
      const chain = chainOf(event.orgId);
      byChain.set(chain, [...(byChain.get(chain) ?? []), event]);
    }
    let stored = 0;
    for (const chain of [...byChain.keys()].sort()) {
      const chainEvents = byChain.get(chain) ?? [];
      await ensureChain(tx, chain, chainEvents[0]?.orgId ?? null);
      const head = await lockChain(tx, chain);
      let { lastSeq, lastHash } = head;
      for (const event of chainEvents) {
        const sequence = lastSeq + 1;
        const chained: ChainedEvent = { ...event, sequence };
        const hash = eventHash(chained, lastHash);
        // ON CONFLICT: a concurrent batch stored the same id after our check; it is a duplicate then.
        if (await insertEvent(tx, { ...chained, chain, prevHash: lastHash, hash })) {
          lastSeq = sequence;
          lastHash = hash;
          stored += 1;
        }
      }
      if (lastSeq !== head.lastSeq) await advanceChain(tx, chain, lastSeq, lastHash);
    }
    return { stored, duplicates: events.length - stored };
  });
}
