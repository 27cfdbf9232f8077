import type { Queryable } from '@orchestra/lib';

/** Says this dispatcher is alive (the reconciler of every replica calls it each tick). */
export async function touchDispatcher(db: Queryable, id: string): Promise<void> {
  await db.query('INSERT INTO dispatchers (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET last_seen_at = now()', [id]);
}

/**
 * The heartbeat in one statement: says this dispatcher is alive, and answers whether any RUNNING
 * attempt belongs to another dispatcher not seen since `before` (or to none known): only then does the
 * heartbeat take the takeover lock and read them (the task_attempts_running_dispatcher index keeps
 * this a look at the running attempts only).
 */
export async function touchDispatcherSeeingOrphans(db: Queryable, id: string, before: Date): Promise<boolean> {
  const { rows } = await db.query<{ orphans: boolean }>(
    `WITH touched AS (INSERT INTO dispatchers (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET last_seen_at = now() RETURNING id)
     SELECT EXISTS (SELECT 1 FROM task_attempts a LEFT JOIN dispatchers d ON d.id = a.dispatcher_id
                     WHERE a.status = 'RUNNING' AND a.dispatcher_id IS DISTINCT FROM $1 AND (d.id IS NULL OR d.last_seen_at < $2)) AS orphans
       FROM touched`,
    [id, before],
  );
  return rows[0]?.orphans === true;
}

export async function isDispatcherAlive(db: Queryable, id: string, seenAfter: Date): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM dispatchers WHERE id = $1 AND last_seen_at >= $2', [id, seenAfter]);
  return (rowCount ?? 0) > 0;
}

export async function removeDispatcher(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM dispatchers WHERE id = $1', [id]);
}

export async function pruneDispatchers(db: Queryable, before: Date): Promise<void> {
  await db.query(`DELETE FROM dispatchers d WHERE last_seen_at < $1 AND NOT EXISTS (SELECT 1 FROM task_attempts a WHERE a.dispatcher_id = d.id AND a.status = 'RUNNING')`, [before]);
}
