import type { Queryable } from '@orchestra/lib';

export interface NewEmail {
  id: string;
  orgId: string;
  userId: string;
  toAddress: string;
  kind: 'event' | 'digest';
  eventId: string | null;
  subject: string;
  text: string;
  html: string;
  unsubscribeUrl: string;
}

export interface PendingEmail extends NewEmail {
  attempts: number;
}

export interface NewDigestItem {
  id: string;
  orgId: string;
  userId: string;
  toAddress: string;
  eventId: string;
  type: string;
  title: string;
  body: string;
  link: string | null;
}

export interface DigestItem extends NewDigestItem {
  createdAt: Date;
}

export async function insertEmails(db: Queryable, rows: readonly NewEmail[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO email_outbox (id, org_id, user_id, to_address, kind, event_id, subject, text_body, html_body, unsubscribe_url)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::text[], $10::text[])
     ON CONFLICT (event_id, user_id) WHERE kind = 'event' DO NOTHING`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.orgId),
      rows.map((r) => r.userId),
      rows.map((r) => r.toAddress),
      rows.map((r) => r.kind),
      rows.map((r) => r.eventId),
      rows.map((r) => r.subject),
      rows.map((r) => r.text),
      rows.map((r) => r.html),
      rows.map((r) => r.unsubscribeUrl),
    ],
  );
  return rowCount ?? 0;
}

export async function insertDigestItems(db: Queryable, rows: readonly NewDigestItem[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO digest_items (id, org_id, user_id, to_address, event_id, type, title, body, link)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[])
     ON CONFLICT (event_id, user_id) DO NOTHING`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.orgId),
      rows.map((r) => r.userId),
      rows.map((r) => r.toAddress),
      rows.map((r) => r.eventId),
      rows.map((r) => r.type),
      rows.map((r) => r.title),
      rows.map((r) => r.body),
      rows.map((r) => r.link),
    ],
  );
  return rowCount ?? 0;
}

/** Claims due mails for `leaseMs` (replicas skip them; a crash leaves them due again). */
export async function claimDueEmails(db: Queryable, limit: number, leaseMs: number): Promise<PendingEmail[]> {
  const { rows } = await db.query<PendingEmail>(
    `UPDATE email_outbox SET next_attempt_at = now() + $2::int * interval '1 millisecond'
      WHERE id IN (SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING id, org_id AS "orgId", user_id AS "userId", to_address AS "toAddress", kind, event_id AS "eventId", subject, text_body AS text,
        html_body AS html, unsubscribe_url AS "unsubscribeUrl", attempts`,
    [limit, leaseMs],
  );
  return rows;
}

export async function markEmailSent(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE email_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`, [id]);
}

export async function markEmailFailed(db: Queryable, id: string, error: string, retryInMs: number | null): Promise<void> {
  await db.query(
    `UPDATE email_outbox SET attempts = attempts + 1, last_error = $2,
        status = CASE WHEN $3::int IS NULL THEN 'failed' ELSE status END,
        next_attempt_at = CASE WHEN $3::int IS NULL THEN next_attempt_at ELSE now() + $3::int * interval '1 millisecond' END
      WHERE id = $1`,
    [id, error.slice(0, 1000), retryInMs],
  );
}

/** Users whose oldest open digest item is older than the window: their digest is due. */
/**
 * Milliseconds until the e-mail sender has something due: a pending mail's next attempt (email_outbox_due)
 * or the end of the digest window of the oldest open digest item. Undefined when neither waits.
 */
export async function emailDueInMs(db: Queryable, windowMs: number): Promise<number | undefined> {
  const { rows } = await db.query<{ ms: number | null }>(
    `SELECT extract(epoch FROM least(
        (SELECT min(next_attempt_at) FROM email_outbox WHERE status = 'pending'),
        (SELECT min(created_at) FROM digest_items WHERE digested_at IS NULL) + $1::int * interval '1 millisecond') - now())::float8 * 1000 AS ms`,
    [windowMs],
  );
  return rows[0]?.ms ?? undefined;
}

export async function dueDigests(db: Queryable, windowMs: number, limit: number): Promise<Array<{ orgId: string; userId: string }>> {
  const { rows } = await db.query<{ orgId: string; userId: string }>(
    `SELECT org_id AS "orgId", user_id AS "userId" FROM digest_items WHERE digested_at IS NULL
      GROUP BY org_id, user_id HAVING min(created_at) <= now() - $1::int * interval '1 millisecond' LIMIT $2`,
    [windowMs, limit],
  );
  return rows;
}

/** Takes a user's open digest items (locked: one replica builds the digest). */
export async function takeDigestItems(db: Queryable, orgId: string, userId: string): Promise<DigestItem[]> {
  const { rows } = await db.query<DigestItem>(
    `UPDATE digest_items SET digested_at = now()
      WHERE id IN (SELECT id FROM digest_items WHERE org_id = $1 AND user_id = $2 AND digested_at IS NULL ORDER BY created_at, id FOR UPDATE SKIP LOCKED)
      RETURNING id, org_id AS "orgId", user_id AS "userId", to_address AS "toAddress", event_id AS "eventId", type, title, body, link, created_at AS "createdAt"`,
    [orgId, userId],
  );
  return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
}

export async function orgSender(db: Queryable, orgId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ from: string }>('SELECT from_address AS "from" FROM org_mail_settings WHERE org_id = $1', [orgId]);
  return rows[0]?.from;
}

export async function setOrgSender(db: Queryable, orgId: string, from: string | null): Promise<void> {
  if (from === null) await db.query('DELETE FROM org_mail_settings WHERE org_id = $1', [orgId]);
  else await db.query('INSERT INTO org_mail_settings (org_id, from_address) VALUES ($1, $2) ON CONFLICT (org_id) DO UPDATE SET from_address = excluded.from_address, updated_at = now()', [orgId, from]);
}
