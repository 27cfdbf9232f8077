import type { Queryable } from '@orchestra/lib';

/** Says this dispatcher is alive (the reconciler of every replica calls it each tick). */
export async function touchDispatcher(db: Queryable, id: string): Promise<void> {
  await db.query('INSERT INTO dispatchers (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET last_seen_at = now()', [id]);
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
