import type { Queryable } from '@orchestra/lib';

/** Events emitted to an organization (emitEvent, gRPC, inbound webhooks) and the runs they started. */

export type EventSource = 'API' | 'GRPC' | 'WEBHOOK';

export interface EmittedEventRow {
  id: string;
  orgId: string;
  name: string;
  payload: Record<string, unknown>;
  idempotencyKey: string;
  source: EventSource;
  emittedBy: string;
  receivedAt: Date;
}

export interface EventStartRow {
  workflowId: string;
  triggerId: string | null;
  runId: string | null;
  error: string | null;
  idempotencyKey: string;
  eventId: string;
}

interface RawEvent {
  id: string;
  org_id: string;
  name: string;
  payload: Record<string, unknown>;
  idempotency_key: string;
  source: EventSource;
  emitted_by: string;
  received_at: Date;
}

const toEvent = (r: RawEvent): EmittedEventRow => ({
  id: r.id,
  orgId: r.org_id,
  name: r.name,
  payload: r.payload,
  idempotencyKey: r.idempotency_key,
  source: r.source,
  emittedBy: r.emitted_by,
  receivedAt: r.received_at,
});

export async function insertEvent(db: Queryable, e: Omit<EmittedEventRow, 'receivedAt'>): Promise<EmittedEventRow> {
  const { rows } = await db.query<RawEvent>(
    `INSERT INTO events (id, org_id, name, payload, idempotency_key, source, emitted_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [e.id, e.orgId, e.name, JSON.stringify(e.payload), e.idempotencyKey, e.source, e.emittedBy],
  );
  return toEvent(rows[0] as RawEvent);
}

export async function findEvent(db: Queryable, id: string): Promise<EmittedEventRow | undefined> {
  const { rows } = await db.query<RawEvent>('SELECT * FROM events WHERE id = $1', [id]);
  return rows[0] ? toEvent(rows[0]) : undefined;
}

export async function listEvents(db: Queryable, filter: { name?: string | undefined }, limit: number): Promise<EmittedEventRow[]> {
  const { rows } = await db.query<RawEvent>('SELECT * FROM events WHERE ($1::text IS NULL OR name = $1) ORDER BY received_at DESC, id DESC LIMIT $2', [filter.name ?? null, limit]);
  return rows.map(toEvent);
}

/**
 * Claims (org, workflow, idempotency key) for each workflow, in one statement: the rows inserted
 * are the workflows this event may start; a workflow whose row exists already (an earlier event with
 * the key, or a concurrent one that committed first — the insert waits for it) is left out, unless
 * that earlier start failed (error set, no run): the key may try again.
 */
export async function claimEventStarts(db: Queryable, orgId: string, eventId: string, key: string, claims: ReadonlyArray<{ workflowId: string; triggerId: string }>): Promise<string[]> {
  if (claims.length === 0) return [];
  const { rows } = await db.query<{ workflow_id: string }>(
    `INSERT INTO event_starts (org_id, idempotency_key, workflow_id, event_id, trigger_id)
     SELECT $1, $2, c.workflow_id, $3, c.trigger_id FROM jsonb_to_recordset($4::jsonb) AS c(workflow_id uuid, trigger_id uuid)
     ON CONFLICT (org_id, workflow_id, idempotency_key) DO UPDATE SET event_id = excluded.event_id, trigger_id = excluded.trigger_id, error = NULL
       WHERE event_starts.run_id IS NULL AND event_starts.error IS NOT NULL
     RETURNING workflow_id`,
    [orgId, key, eventId, JSON.stringify(claims.map((c) => ({ workflow_id: c.workflowId, trigger_id: c.triggerId })))],
  );
  return rows.map((r) => r.workflow_id);
}

export async function recordEventStart(db: Queryable, orgId: string, key: string, workflowId: string, outcome: { runId: string } | { error: string }): Promise<void> {
  await db.query('UPDATE event_starts SET run_id = $4, error = $5 WHERE org_id = $1 AND idempotency_key = $2 AND workflow_id = $3', [
    orgId,
    key,
    workflowId,
    'runId' in outcome ? outcome.runId : null,
    'error' in outcome ? outcome.error.slice(0, 500) : null,
  ]);
}

/** What an event started (or could not), by workflow. */
export async function startsOfEvent(db: Queryable, eventId: string): Promise<EventStartRow[]> {
  const { rows } = await db.query<{ workflow_id: string; trigger_id: string | null; run_id: string | null; error: string | null; idempotency_key: string; event_id: string }>(
    'SELECT workflow_id, trigger_id, run_id, error, idempotency_key, event_id FROM event_starts WHERE event_id = $1 ORDER BY created_at, workflow_id',
    [eventId],
  );
  return rows.map((r) => ({ workflowId: r.workflow_id, triggerId: r.trigger_id, runId: r.run_id, error: r.error, idempotencyKey: r.idempotency_key, eventId: r.event_id }));
}

/** Runs an idempotency key started, by workflow (an event seen again answers with them). */
export async function startsOfKey(db: Queryable, key: string, workflowIds: readonly string[]): Promise<EventStartRow[]> {
  if (workflowIds.length === 0) return [];
  const { rows } = await db.query<{ workflow_id: string; trigger_id: string | null; run_id: string | null; error: string | null; idempotency_key: string; event_id: string }>(
    'SELECT workflow_id, trigger_id, run_id, error, idempotency_key, event_id FROM event_starts WHERE idempotency_key = $1 AND workflow_id = ANY($2::uuid[])',
    [key, workflowIds],
  );
  return rows.map((r) => ({ workflowId: r.workflow_id, triggerId: r.trigger_id, runId: r.run_id, error: r.error, idempotencyKey: r.idempotency_key, eventId: r.event_id }));
}
