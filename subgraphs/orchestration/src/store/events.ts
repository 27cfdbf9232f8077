import type { OutboxNotificationEvent, Queryable, RunEvent } from '@orchestra/lib';
import { prepared } from './rows';

/** Events of one run to record, in order, without their seqs. */
export interface RunEventBatch {
  runId: string;
  events: ReadonlyArray<Omit<RunEvent, 'seq'>>;
}

/**
 * Records events in one statement: takes each run's next seqs (`runs.last_seq`, whose row lock
 * holds until commit, so seqs are gap-free and in commit order per run) and inserts the events with
 * them; `notifications` (events for the notifications service's outbox) go in the same statement.
 * Resolves to the seq before each run's first new event.
 */
export async function appendRunEvents(db: Queryable, batches: readonly RunEventBatch[], notifications: readonly OutboxNotificationEvent[] = []): Promise<Map<string, number>> {
  const bases = new Map<string, number>();
  const notify = notifications.length > 0;
  if (batches.length === 0) {
    if (notify) await db.query('INSERT INTO notification_outbox (id, org_id, event) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[])', notificationParams(notifications));
    return bases;
  }
  const { rows } = await db.query<{ run_id: string; base: number }>(
    prepared(
      notify ? 'appendRunEventsNotify' : 'appendRunEvents',
      `WITH batch AS (
       SELECT (b->>'runId')::uuid AS run_id, b->'events' AS events, jsonb_array_length(b->'events') AS n
         FROM jsonb_array_elements($1::jsonb) AS b
     ), seqs AS (
       UPDATE runs r SET last_seq = r.last_seq + batch.n FROM batch WHERE r.id = ANY($2::uuid[]) AND r.id = batch.run_id
       RETURNING r.id AS run_id, r.last_seq - batch.n AS base
     ), inserted AS (
       INSERT INTO run_events (org_id, run_id, seq, kind, task_id, attempt_id, event, at)
       SELECT (e.value->>'orgId')::uuid, s.run_id, (s.base + e.ord)::int, e.value->>'kind', (e.value->>'taskId')::uuid, (e.value->>'attemptId')::uuid,
              e.value || jsonb_build_object('seq', s.base + e.ord), (e.value->>'at')::timestamptz
         FROM seqs s JOIN batch b ON b.run_id = s.run_id
        CROSS JOIN LATERAL jsonb_array_elements(b.events) WITH ORDINALITY AS e(value, ord)
     )${notify ? `, notified AS (INSERT INTO notification_outbox (id, org_id, event) SELECT * FROM unnest($3::uuid[], $4::uuid[], $5::jsonb[]))` : ''}
     SELECT run_id, base FROM seqs`,
      [
        JSON.stringify(batches),
        batches.map((b) => b.runId),
        ...(notify ? notificationParams(notifications) : []),
      ],
    ),
  );
  for (const r of rows) bases.set(r.run_id, r.base);
  for (const b of batches) {
    if (!bases.has(b.runId)) throw new Error(`run ${b.runId} vanished while recording its events`);
  }
  return bases;
}

/** The notification outbox's columns as arrays: ids, organizations, events (lib/notification-events.ts writes the same rows). */
const notificationParams = (events: readonly OutboxNotificationEvent[]): unknown[] => [events.map((e) => e.eventId), events.map((e) => e.orgId), events.map((e) => JSON.stringify(e))];

export async function listRunEvents(db: Queryable, runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
  const { rows } = await db.query<{ event: RunEvent }>('SELECT event FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [runId, afterSeq, limit]);
  return rows.map((r) => r.event);
}

export async function findRunEvent(db: Queryable, runId: string, seq: number): Promise<RunEvent | undefined> {
  const { rows } = await db.query<{ event: RunEvent }>('SELECT event FROM run_events WHERE run_id = $1 AND seq = $2', [runId, seq]);
  return rows[0]?.event;
}

export async function listTaskLogs(db: Queryable, taskId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
  const { rows } = await db.query<{ event: RunEvent }>(
    `SELECT event FROM run_events WHERE task_id = $1 AND kind = 'TASK_LOG' AND seq > $2 ORDER BY seq LIMIT $3`,
    [taskId, afterSeq, limit],
  );
  return rows.map((r) => r.event);
}

/** What a task's latest streaming attempt has streamed so far (its TASK_OUTPUT_DELTA events folded). */
export interface StreamedOutput {
  attemptId: string;
  text: string;
  throughSeq: number;
  deltaSeq: number;
}

export async function streamedOutputOfTask(db: Queryable, taskId: string): Promise<StreamedOutput | null> {
  const { rows } = await db.query<{ seq: number; attempt_id: string; delta: { seq: number; offset: number; text: string; restart: boolean } }>(
    `SELECT seq, attempt_id, event->'outputDelta' AS delta FROM run_events
      WHERE task_id = $1 AND kind = 'TASK_OUTPUT_DELTA'
        AND attempt_id = (SELECT attempt_id FROM run_events WHERE task_id = $1 AND kind = 'TASK_OUTPUT_DELTA' ORDER BY seq DESC LIMIT 1)
      ORDER BY seq`,
    [taskId],
  );
  const last = rows.at(-1);
  if (!last) return null;
  let text = '';
  for (const { delta } of rows) text = delta.restart ? delta.text : text + delta.text;
  return { attemptId: last.attempt_id, text, throughSeq: last.seq, deltaSeq: last.delta.seq };
}
