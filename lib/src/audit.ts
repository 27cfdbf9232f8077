import type { ErrorCode } from './errors';
import { newId } from './ids';
import type { Queryable } from './db';
import type { Principal } from './principal';

/** One audit event as a service produces it; AuditService stores it hash-chained per org. */
export interface AuditEventInput {
  /** `<entity>.<verb>`, e.g. `member.invite`, `run.start`, `auth.login`. */
  action: string;
  targetType: string;
  targetId?: string | undefined;
  /** "success" or the error code the operation ended with. */
  outcome?: 'success' | ErrorCode;
  /** What changed; secret-looking keys are redacted before it is stored. */
  diff?: unknown;
  /** Defaults to the principal's org. */
  orgId?: string | undefined;
}

/** The event as it sits in the outbox and travels to AuditService (see proto/orchestra/audit/v1). */
export interface OutboxAuditEvent {
  eventId: string;
  orgId: string | null;
  occurredAt: string;
  service: string;
  actor: { kind: Principal['kind']; id: string; userId?: string | undefined; apiKeyId?: string | undefined; display?: string | undefined };
  action: string;
  targetType: string;
  targetId: string;
  outcome: string;
  requestId: string;
  ip: string;
  userAgent: string;
  diff: unknown;
}

const SECRET_KEY = /pass(word)?|secret|token|credential|hash|private|^key$|api_?key$|authorization|cookie|^otp|totp/i;

/** A deep copy with every secret-looking value replaced by "[REDACTED]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 12) return '[TOO_DEEP]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[REDACTED]' : redact(v, depth + 1)]),
    );
  }
  return value;
}

/** The before/after of the fields that changed (both redacted). */
export function diffOf(before: Record<string, unknown> | null, after: Record<string, unknown> | null): unknown {
  if (before === null || after === null) return redact({ before, after });
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  return redact({
    before: Object.fromEntries(changed.map((k) => [k, before[k]])),
    after: Object.fromEntries(changed.map((k) => [k, after[k]])),
  });
}

export function buildAuditEvent(service: string, principal: Principal, input: AuditEventInput): OutboxAuditEvent {
  return {
    eventId: newId(),
    orgId: input.orgId ?? principal.orgId ?? null,
    occurredAt: new Date().toISOString(),
    service,
    actor: {
      kind: principal.kind,
      id: principal.id,
      userId: principal.userId,
      apiKeyId: principal.apiKeyId,
      display: principal.display,
    },
    action: input.action,
    targetType: input.targetType,
    targetId: input.targetId ?? '',
    outcome: input.outcome ?? 'success',
    requestId: principal.requestId,
    ip: principal.ip ?? '',
    userAgent: principal.userAgent ?? '',
    diff: redact(input.diff ?? null),
  };
}

/**
 * Writes an audit event to the service's outbox. Call it with the transaction's client, so the event
 * exists exactly when the change does.
 */
export async function recordAudit(db: Queryable, service: string, principal: Principal, input: AuditEventInput): Promise<OutboxAuditEvent> {
  const event = buildAuditEvent(service, principal, input);
  await db.query('INSERT INTO audit_outbox (id, org_id, event) VALUES ($1, $2, $3)', [event.eventId, event.orgId, JSON.stringify(event)]);
  return event;
}

/** recordAudit for several changes of one principal's transaction (a bulk action), in one statement. */
export async function recordAudits(db: Queryable, service: string, principal: Principal, inputs: readonly AuditEventInput[]): Promise<OutboxAuditEvent[]> {
  const events = inputs.map((input) => buildAuditEvent(service, principal, input));
  if (events.length === 0) return events;
  await db.query('INSERT INTO audit_outbox (id, org_id, event) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[])', [
    events.map((e) => e.eventId),
    events.map((e) => e.orgId),
    events.map((e) => JSON.stringify(e)),
  ]);
  return events;
}
