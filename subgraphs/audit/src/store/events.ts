import type { Queryable } from '@orchestra/lib';
import type { ActorKind, ChainedEvent } from '../chain/hash';

/** An event as stored: the chained fields plus where it sits in its chain. */
export interface StoredAuditEvent extends ChainedEvent {
  chain: string;
  recordedAt: Date;
  prevHash: string;
  hash: string;
}

/** Filters of the audit log; every one is optional and they combine with AND. */
export interface AuditEventFilter {
  actorId?: string | undefined;
  actorKind?: ActorKind | undefined;
  /** The user who acted (User.activity). */
  actorUserId?: string | undefined;
  /** An exact action, or a prefix when it ends with ".*" ("member.*"). */
  action?: string | undefined;
  /** Exact actions to leave out. */
  excludeActions?: readonly string[] | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  /** "success", "failure" (anything else) or one error code. */
  outcome?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

interface EventRow {
  id: string;
  chain: string;
  chain_seq: string;
  org_id: string | null;
  occurred_at: Date;
  recorded_at: Date;
  service: string;
  actor_kind: ActorKind;
  actor_id: string;
  actor_user_id: string | null;
  actor_api_key_id: string | null;
  actor_display: string | null;
  action: string;
  target_type: string;
  target_id: string;
  outcome: string;
  request_id: string;
  ip: string;
  user_agent: string;
  diff: unknown;
  prev_hash: string;
  hash: string;
}

const COLUMNS = `id, chain, chain_seq, org_id, occurred_at, recorded_at, service, actor_kind, actor_id, actor_user_id,
  actor_api_key_id, actor_display, action, target_type, target_id, outcome, request_id, ip, user_agent, diff, prev_hash, hash`;

const toEvent = (row: EventRow): StoredAuditEvent => ({
  id: row.id,
  chain: row.chain,
  sequence: Number(row.chain_seq),
  orgId: row.org_id,
  occurredAt: row.occurred_at,
  recordedAt: row.recorded_at,
  service: row.service,
  actor: { kind: row.actor_kind, id: row.actor_id, userId: row.actor_user_id, apiKeyId: row.actor_api_key_id, display: row.actor_display },
  action: row.action,
  targetType: row.target_type,
  targetId: row.target_id,
  outcome: row.outcome,
  requestId: row.request_id,
  ip: row.ip,
  userAgent: row.user_agent,
  diff: row.diff,
  prevHash: row.prev_hash,
  hash: row.hash,
});

/** Ids among `ids` that are stored already. */
export async function existingEventIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM audit_events WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}

/**
 * Appends events in one statement; resolves to the ids stored (an id stored already — by a
 * concurrent delivery, or under another chain — is left out, and the caller decides what that means).
 */
export async function insertEvents(db: Queryable, events: ReadonlyArray<Omit<StoredAuditEvent, 'recordedAt'>>): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const column = <T>(pick: (e: Omit<StoredAuditEvent, 'recordedAt'>) => T): T[] => events.map(pick);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO audit_events (id, chain, chain_seq, org_id, occurred_at, service, actor_kind, actor_id, actor_user_id,
       actor_api_key_id, actor_display, action, target_type, target_id, outcome, request_id, ip, user_agent, diff, prev_hash, hash)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::uuid[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[],
       $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::jsonb[], $20::text[], $21::text[])
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      column((e) => e.id),
      column((e) => e.chain),
      column((e) => e.sequence),
      column((e) => e.orgId),
      column((e) => e.occurredAt),
      column((e) => e.service),
      column((e) => e.actor.kind),
      column((e) => e.actor.id),
      column((e) => e.actor.userId),
      column((e) => e.actor.apiKeyId),
      column((e) => e.actor.display),
      column((e) => e.action),
      column((e) => e.targetType),
      column((e) => e.targetId),
      column((e) => e.outcome),
      column((e) => e.requestId),
      column((e) => e.ip),
      column((e) => e.userAgent),
      column((e) => JSON.stringify(e.diff ?? null)),
      column((e) => e.prevHash),
      column((e) => e.hash),
    ],
  );
  return new Set(rows.map((r) => r.id));
}

const escapeLike = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * One page of a chain's events matching `filter`, ordered by sequence (newest first with "desc"),
 * starting after sequence `afterSeq`.
 */
export async function listEvents(
  db: Queryable,
  chain: string,
  filter: AuditEventFilter,
  page: { afterSeq?: number | undefined; limit: number; order: 'asc' | 'desc' },
): Promise<StoredAuditEvent[]> {
  const params: unknown[] = [chain];
  const where = ['chain = $1'];
  const bind = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.actorId !== undefined) where.push(`actor_id = ${bind(filter.actorId)}`);
  if (filter.actorKind !== undefined) where.push(`actor_kind = ${bind(filter.actorKind)}`);
  if (filter.actorUserId !== undefined) where.push(`actor_user_id = ${bind(filter.actorUserId)}`);
  if (filter.action !== undefined) {
    if (filter.action.endsWith('.*')) where.push(`action LIKE ${bind(`${escapeLike(filter.action.slice(0, -1))}%`)}`);
    else where.push(`action = ${bind(filter.action)}`);
  }
  if (filter.excludeActions !== undefined && filter.excludeActions.length > 0) where.push(`action <> ALL(${bind(filter.excludeActions)}::text[])`);
  if (filter.targetType !== undefined) where.push(`target_type = ${bind(filter.targetType)}`);
  if (filter.targetId !== undefined) where.push(`target_id = ${bind(filter.targetId)}`);
  if (filter.outcome === 'failure') where.push(`outcome <> 'success'`);
  else if (filter.outcome !== undefined) where.push(`outcome = ${bind(filter.outcome)}`);
  if (filter.from !== undefined) where.push(`occurred_at >= ${bind(filter.from)}`);
  if (filter.to !== undefined) where.push(`occurred_at <= ${bind(filter.to)}`);
  if (page.afterSeq !== undefined) where.push(`chain_seq ${page.order === 'desc' ? '<' : '>'} ${bind(page.afterSeq)}`);
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM audit_events WHERE ${where.join(' AND ')}
      ORDER BY chain_seq ${page.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ${bind(page.limit)}`,
    params,
  );
  return rows.map(toEvent);
}

/** Events of a chain with sequence in [fromSeq, toSeq], oldest first, at most `limit`. */
export async function eventsInSequenceRange(db: Queryable, chain: string, fromSeq: number, toSeq: number, limit: number): Promise<StoredAuditEvent[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM audit_events WHERE chain = $1 AND chain_seq BETWEEN $2 AND $3 ORDER BY chain_seq LIMIT $4`,
    [chain, fromSeq, toSeq, limit],
  );
  return rows.map(toEvent);
}

export async function eventAtSequence(db: Queryable, chain: string, sequence: number): Promise<StoredAuditEvent | undefined> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS} FROM audit_events WHERE chain = $1 AND chain_seq = $2`, [chain, sequence]);
  return rows[0] === undefined ? undefined : toEvent(rows[0]);
}

export async function eventById(db: Queryable, id: string): Promise<StoredAuditEvent | undefined> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS} FROM audit_events WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : toEvent(rows[0]);
}

/** The lowest and highest sequence stored in a chain, optionally only among events that occurred in [from, to]. */
export async function sequenceBounds(db: Queryable, chain: string, from?: Date, to?: Date): Promise<{ first: number; last: number } | undefined> {
  const { rows } = await db.query<{ first: string | null; last: string | null }>(
    `SELECT min(chain_seq) AS first, max(chain_seq) AS last FROM audit_events
      WHERE chain = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) AND ($3::timestamptz IS NULL OR occurred_at <= $3)`,
    [chain, from ?? null, to ?? null],
  );
  const row = rows[0];
  if (row?.first == null || row.last == null) return undefined;
  return { first: Number(row.first), last: Number(row.last) };
}

/** The first sequence at or after `fromSeq` whose event is not older than `cutoff`. */
export async function firstSequenceNotBefore(db: Queryable, chain: string, fromSeq: number, cutoff: Date): Promise<number | undefined> {
  const { rows } = await db.query<{ seq: string | null }>(
    'SELECT min(chain_seq) AS seq FROM audit_events WHERE chain = $1 AND chain_seq >= $2 AND occurred_at >= $3',
    [chain, fromSeq, cutoff],
  );
  return rows[0]?.seq == null ? undefined : Number(rows[0].seq);
}

/**
 * Deletes archived events. Only this statement may delete from the trail: it sets the flag the
 * append-only trigger checks, for its own transaction.
 */
export async function deleteArchivedEvents(db: Queryable, chain: string, fromSeq: number, throughSeq: number): Promise<number> {
  await db.query("SELECT set_config('orchestra.audit_retention', 'on', true)");
  const { rowCount } = await db.query('DELETE FROM audit_events WHERE chain = $1 AND chain_seq BETWEEN $2 AND $3', [chain, fromSeq, throughSeq]);
  await db.query("SELECT set_config('orchestra.audit_retention', 'off', true)");
  return rowCount ?? 0;
}
