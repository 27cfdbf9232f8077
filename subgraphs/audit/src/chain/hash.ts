import { createHash } from 'node:crypto';

/** What the first event of a chain links to. */
export const GENESIS_HASH = '0'.repeat(64);

export type ActorKind = 'user' | 'apiKey' | 'service' | 'anonymous';

/** Every stored field of an event that the hash covers (recorded_at is storage metadata, not covered). */
export interface ChainedEvent {
  id: string;
  orgId: string | null;
  sequence: number;
  occurredAt: Date;
  service: string;
  actor: { kind: ActorKind; id: string; userId: string | null; apiKeyId: string | null; display: string | null };
  action: string;
  targetType: string;
  targetId: string;
  outcome: string;
  requestId: string;
  ip: string;
  userAgent: string;
  diff: unknown;
}

/**
 * JSON with object keys sorted at every depth and no whitespace: the same value always encodes to
 * the same bytes, whichever order PostgreSQL's jsonb or a producer put the keys in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return 'null';
}

/** sha256 (hex) over version 1 of the canonical encoding: the event's fields plus the previous hash. */
export function eventHash(event: ChainedEvent, prevHash: string): string {
  const encoded = canonicalJson({
    v: 1,
    id: event.id,
    orgId: event.orgId,
    sequence: event.sequence,
    occurredAt: event.occurredAt.toISOString(),
    service: event.service,
    actor: event.actor,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    outcome: event.outcome,
    requestId: event.requestId,
    ip: event.ip,
    userAgent: event.userAgent,
    diff: event.diff ?? null,
    prevHash,
  });
  return createHash('sha256').update(encoded).digest('hex');
}

/** The chain an event belongs to: its org id, or "platform" for events without one. */
export const chainOf = (orgId: string | null): string => orgId ?? 'platform';
