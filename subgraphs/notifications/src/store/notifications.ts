import type { Queryable } from '@orchestra/lib';

/** An in-app notification of one user. */
export interface Notification {
  id: string;
  orgId: string;
  userId: string;
  eventId: string;
  type: string;
  title: string;
  body: string;
  link: string | null;
  createdAt: Date;
  readAt: Date | null;
}

export type NewNotification = Omit<Notification, 'createdAt' | 'readAt'>;

const COLUMNS = `id, org_id AS "orgId", user_id AS "userId", event_id AS "eventId", type, title, body, link, created_at AS "createdAt", read_at AS "readAt"`;

/** Inserts one notification per (event, user) at most; resolves to the rows that were new. */
export async function insertNotifications(db: Queryable, rows: readonly NewNotification[]): Promise<Notification[]> {
  if (rows.length === 0) return [];
  const { rows: inserted } = await db.query<Notification>(
    `INSERT INTO notifications (id, org_id, user_id, event_id, type, title, body, link)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[])
     ON CONFLICT (event_id, user_id) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.orgId),
      rows.map((r) => r.userId),
      rows.map((r) => r.eventId),
      rows.map((r) => r.type),
      rows.map((r) => r.title),
      rows.map((r) => r.body),
      rows.map((r) => r.link),
    ],
  );
  return inserted;
}

/** The signed-in user's notifications, newest first (row-level security: their own only). */
export async function listNotifications(db: Queryable, q: { unreadOnly: boolean; beforeId?: string | undefined; limit: number }): Promise<Notification[]> {
  const { rows } = await db.query<Notification>(
    `SELECT ${COLUMNS} FROM notifications
      WHERE ($1::boolean IS FALSE OR read_at IS NULL) AND ($2::uuid IS NULL OR id < $2)
      ORDER BY id DESC
      LIMIT $3`,
    [q.unreadOnly, q.beforeId ?? null, q.limit],
  );
  return rows;
}

export async function countUnread(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications WHERE read_at IS NULL');
  return rows[0]?.n ?? 0;
}

/** Marks the given notifications read (those the user can see); resolves to them. */
export async function markRead(db: Queryable, ids: readonly string[]): Promise<Notification[]> {
  const { rows } = await db.query<Notification>(
    `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = ANY($1::uuid[]) RETURNING ${COLUMNS}`,
    [ids],
  );
  return rows;
}

export async function markAllRead(db: Queryable): Promise<number> {
  const { rowCount } = await db.query('UPDATE notifications SET read_at = now() WHERE read_at IS NULL');
  return rowCount ?? 0;
}
