import { badInput, ERROR_CODES, isErrorCode } from '@orchestra/lib';
import type { ActorKind } from '../chain/hash';
import type { AuditEventFilter } from '../store/events';

export interface AuditLogFilterInput {
  actorId?: string | null;
  actorKind?: 'USER' | 'API_KEY' | 'SERVICE' | 'ANONYMOUS' | null;
  action?: string | null;
  excludeActions?: readonly string[] | null;
  targetType?: string | null;
  targetId?: string | null;
  outcome?: string | null;
  from?: Date | null;
  to?: Date | null;
}

const ACTOR_KINDS: Record<NonNullable<AuditLogFilterInput['actorKind']>, ActorKind> = {
  USER: 'user',
  API_KEY: 'apiKey',
  SERVICE: 'service',
  ANONYMOUS: 'anonymous',
};

export const actorKindToGraphQL = (kind: ActorKind): NonNullable<AuditLogFilterInput['actorKind']> =>
  (Object.entries(ACTOR_KINDS).find(([, v]) => v === kind)?.[0] ?? 'ANONYMOUS') as NonNullable<AuditLogFilterInput['actorKind']>;

/** The most actions a filter leaves out at once. */
export const EXCLUDE_ACTIONS_MAX = 20;

const text = (value: string | null | undefined, field: string, max = 500): string | undefined => {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') throw badInput(field, `${field} must not be empty (leave it out to match everything)`);
  if (trimmed.length > max) throw badInput(field, `${field} is longer than ${max} characters`);
  return trimmed;
};

/** Checks the filter of the audit log and its export; each problem names its field. */
export function parseFilter(input: AuditLogFilterInput | null | undefined, path = 'filter'): AuditEventFilter {
  if (input === null || input === undefined) return {};
  const outcome = text(input.outcome, `${path}.outcome`, 100);
  if (outcome !== undefined && outcome !== 'success' && outcome !== 'failure' && !isErrorCode(outcome)) {
    throw badInput(`${path}.outcome`, `${path}.outcome must be success, failure or an error code (${Object.keys(ERROR_CODES).join(', ')})`);
  }
  const action = text(input.action, `${path}.action`, 200);
  if (action !== undefined && action.includes('*') && !/^[^*]+\.\*$/.test(action)) {
    throw badInput(`${path}.action`, `${path}.action takes an exact action (member.invite) or a prefix ending in ".*" (member.*)`);
  }
  const exclude = input.excludeActions ?? undefined;
  if (exclude !== undefined && exclude.length > EXCLUDE_ACTIONS_MAX) throw badInput(`${path}.excludeActions`, `${path}.excludeActions names ${exclude.length} actions; at most ${EXCLUDE_ACTIONS_MAX}`);
  const excludeActions = exclude?.map((a, i) => text(a, `${path}.excludeActions[${i}]`, 200) as string);
  const from = input.from ?? undefined;
  const to = input.to ?? undefined;
  if (from !== undefined && to !== undefined && from > to) throw badInput(`${path}.from`, `${path}.from must not be later than ${path}.to`);
  return {
    actorId: text(input.actorId, `${path}.actorId`),
    actorKind: input.actorKind === null || input.actorKind === undefined ? undefined : ACTOR_KINDS[input.actorKind],
    action,
    excludeActions: excludeActions !== undefined && excludeActions.length > 0 ? excludeActions : undefined,
    targetType: text(input.targetType, `${path}.targetType`, 200),
    targetId: text(input.targetId, `${path}.targetId`),
    outcome,
    from,
    to,
  };
}

export function parseFirst(first: number | null | undefined, max: number, fallback: number): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput('first', `first must be between 1 and ${max} (got ${value})`);
  return value;
}

/** Cursors are opaque to clients; inside they name a chain position. */
export const encodeCursor = (sequence: number): string => Buffer.from(`seq:${sequence}`).toString('base64url');

export function decodeCursor(cursor: string | null | undefined, field = 'after'): number | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw badInput(field, `${field} is not a cursor this query returned`);
  return Number(match[1]);
}
