import { auditV1 } from '@orchestra/proto';
import { badInput, isUuid, withSystemTransaction, type Pool } from '@orchestra/lib';
import { chainOf, eventHash, type ActorKind, type ChainedEvent } from './hash';
import { existingEventIds, insertEvents, type StoredAuditEvent } from '../store/events';
import { advanceChains, ensureChains, lockChains } from '../store/chains';

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

/** An id of the batch was stored under another chain while the batch was written: it is retried whole. */
export class ConcurrentAppendError extends Error {
  constructor(missing: number) {
    super(`${missing} audit event id(s) were stored by a concurrent append under another chain; the batch is rolled back to be retried`);
    this.name = 'ConcurrentAppendError';
  }
}

/** Chains of the batch without a head yet: they are created before the batch is written again. */
class ChainsMissing extends Error {
  constructor(readonly chains: Array<{ chain: string; orgId: string | null }>) {
    super(`audit chains ${chains.map((c) => c.chain).join(', ')} have no head yet`);
  }
}

/**
 * Appends a batch in one transaction: all of it is stored or none. The chains' heads are locked
 * first (in a fixed order, so concurrent batches cannot deadlock on heads); then the ids stored
 * already are looked up (a concurrent append of the same event to the same chain held that chain's
 * head, so its rows are visible now) and count as duplicates, as does an id repeated in the batch;
 * each new event links to the one before it, and all of them are written by one statement. A few
 * statements per batch, however many events it has.
 */
export async function appendEvents(pool: Pool, events: Array<Omit<ChainedEvent, 'sequence'>>): Promise<AppendResult> {
  if (events.length === 0) return { stored: 0, duplicates: 0 };
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await appendOnce(pool, events);
    } catch (error) {
      if (attempt >= 3) throw error;
      // An organization's first events: its chain's head is made at genesis on its own (no head is
      // locked meanwhile, so this cannot deadlock with another batch), then the batch goes again.
      if (error instanceof ChainsMissing) await ensureChains(pool, error.chains);
      // The concurrent append has committed by now: its ids are seen as stored this time.
      else if (!(error instanceof ConcurrentAppendError)) throw error;
    }
  }
}

async function appendOnce(pool: Pool, events: Array<Omit<ChainedEvent, 'sequence'>>): Promise<AppendResult> {
  return withSystemTransaction(pool, async (tx) => {
    const seen = new Set<string>();
    const unique = events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
    const byChain = new Map<string, Array<Omit<ChainedEvent, 'sequence'>>>();
    for (const event of unique) {
      const chain = chainOf(event.orgId);
      byChain.set(chain, [...(byChain.get(chain) ?? []), event]);
    }
    const chains = [...byChain.keys()].sort();
    const heads = await lockChains(tx, chains);
    const missing = chains.filter((chain) => !heads.has(chain));
    if (missing.length > 0) throw new ChainsMissing(missing.map((chain) => ({ chain, orgId: byChain.get(chain)?.[0]?.orgId ?? null })));
    const existing = await existingEventIds(
      tx,
      unique.map((e) => e.id),
    );
    const rows: Array<Omit<StoredAuditEvent, 'recordedAt'>> = [];
    const advanced: Array<{ chain: string; lastSeq: number; lastHash: string }> = [];
    for (const chain of chains) {
      const head = heads.get(chain) as { lastSeq: number; lastHash: string };
      let { lastSeq, lastHash } = head;
      for (const event of byChain.get(chain) ?? []) {
        if (existing.has(event.id)) continue;
        const chained: ChainedEvent = { ...event, sequence: lastSeq + 1 };
        const hash = eventHash(chained, lastHash);
        rows.push({ ...chained, chain, prevHash: lastHash, hash });
        lastSeq = chained.sequence;
        lastHash = hash;
      }
      if (lastSeq !== head.lastSeq) advanced.push({ chain, lastSeq, lastHash });
    }
    const stored = await insertEvents(tx, rows);
    // Every chain is locked, so only an id stored under another chain can be missing: the links would break.
    if (stored.size !== rows.length) throw new ConcurrentAppendError(rows.length - stored.size);
    await advanceChains(tx, advanced);
    return { stored: rows.length, duplicates: events.length - rows.length };
  });
}
