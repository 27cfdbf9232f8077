import type { StoredAuditEvent } from '../store/events';

/**
 * The JSON form of one event, shared by JSON-lines exports and retention archives: every chained
 * field, so a reader can recompute each hash with chain/hash.ts (`eventHash(event, prevHash)`).
 */
export function eventRecord(event: StoredAuditEvent): Record<string, unknown> {
  return {
    id: event.id,
    orgId: event.orgId,
    sequence: event.sequence,
    occurredAt: event.occurredAt.toISOString(),
    recordedAt: event.recordedAt.toISOString(),
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
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

export const toJsonLine = (event: StoredAuditEvent): string => `${JSON.stringify(eventRecord(event))}\n`;

export const CSV_COLUMNS = [
  'id',
  'sequence',
  'occurredAt',
  'recordedAt',
  'orgId',
  'service',
  'actorKind',
  'actorId',
  'actorUserId',
  'actorApiKeyId',
  'actorDisplay',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'requestId',
  'ip',
  'userAgent',
  'diff',
  'prevHash',
  'hash',
] as const;

/**
 * One RFC 4180 cell. A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a
 * leading apostrophe: actor names and target ids come from users. The JSON-lines export is the
 * byte-exact one.
 */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;

export function toCsvRow(event: StoredAuditEvent): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    id: event.id,
    sequence: String(event.sequence),
    occurredAt: event.occurredAt.toISOString(),
    recordedAt: event.recordedAt.toISOString(),
    orgId: event.orgId,
    service: event.service,
    actorKind: event.actor.kind,
    actorId: event.actor.id,
    actorUserId: event.actor.userId,
    actorApiKeyId: event.actor.apiKeyId,
    actorDisplay: event.actor.display,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    outcome: event.outcome,
    requestId: event.requestId,
    ip: event.ip,
    userAgent: event.userAgent,
    diff: event.diff === null || event.diff === undefined ? '' : JSON.stringify(event.diff),
    prevHash: event.prevHash,
    hash: event.hash,
  };
  return `${CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',')}\r\n`;
}
