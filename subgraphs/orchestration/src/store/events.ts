import type { Queryable, RunEvent } from '@orchestra/lib';

/** Writes events whose seqs were taken with allocateEventSeqs in the same transaction. */
export async function insertEvents(db: Queryable, events: readonly RunEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO run_events (org_id, run_id, seq, kind, task_id, attempt_id, event, at)
     SELECT (e->>'orgId')::uuid, (e->>'runId')::uuid, (e->>'seq')::int, e->>'kind', (e->>'taskId')::uuid, (e->>'attemptId')::uuid, e, (e->>'at')::timestamptz
       FROM jsonb_array_elements($1::jsonb) AS e`,
    [JSON.stringify(events)],
  );
}

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
