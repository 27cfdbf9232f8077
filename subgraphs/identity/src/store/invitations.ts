import type { Queryable, Role } from '@orchestra/lib';

export interface InvitationRow {
  id: string;
  orgId: string;
  email: string;
  role: Role;
  tokenHash: string;
  invitedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `i.id, i.org_id AS "orgId", i.email, i.role, i.token_hash AS "tokenHash", i.invited_by AS "invitedBy",
  i.created_at AS "createdAt", i.expires_at AS "expiresAt", i.accepted_at AS "acceptedAt", i.revoked_at AS "revokedAt"`;

export async function insertInvitation(
  db: Queryable,
  inv: { id: string; orgId: string; email: string; role: Role; tokenHash: string; invitedBy: string | undefined; expiresAt: Date },
): Promise<InvitationRow> {
  const { rows } = await db.query<InvitationRow>(
    `INSERT INTO invitations AS i (id, org_id, email, role, token_hash, invited_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [inv.id, inv.orgId, inv.email, inv.role, inv.tokenHash, inv.invitedBy ?? null, inv.expiresAt],
  );
  return rows[0]!;
}

/** Closes the open invitation of this address, if any (a new invitation replaces it). */
export async function revokeOpenInvitationFor(db: Queryable, orgId: string, email: string): Promise<number> {
  const { rowCount } = await db.query(
    'UPDATE invitations SET revoked_at = now() WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL',
    [orgId, email],
  );
  return rowCount ?? 0;
}

export async function findInvitation(db: Queryable, orgId: string, id: string): Promise<InvitationRow | undefined> {
  const { rows } = await db.query<InvitationRow>(`SELECT ${COLUMNS} FROM invitations i WHERE i.org_id = $1 AND i.id = $2`, [orgId, id]);
  return rows[0];
}

/** By id alone (system reads: the token holder is not signed in to the organization). */
export async function findInvitationById(db: Queryable, id: string): Promise<InvitationRow | undefined> {
  const { rows } = await db.query<InvitationRow>(`SELECT ${COLUMNS} FROM invitations i WHERE i.id = $1`, [id]);
  return rows[0];
}

/** For acceptance (system transaction): locks the row so that a token is accepted once. */
export async function findInvitationForUpdate(db: Queryable, id: string): Promise<InvitationRow | undefined> {
  const { rows } = await db.query<InvitationRow>(`SELECT ${COLUMNS} FROM invitations i WHERE i.id = $1 FOR UPDATE`, [id]);
  return rows[0];
}

export async function markInvitationAccepted(db: Queryable, id: string, userId: string): Promise<void> {
  await db.query('UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1', [id, userId]);
}

export async function revokeInvitation(db: Queryable, id: string): Promise<InvitationRow | undefined> {
  const { rows } = await db.query<InvitationRow>(
    `UPDATE invitations AS i SET revoked_at = now() WHERE i.id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0];
}

export interface InvitationPageQuery {
  orgId: string;
  includeClosed: boolean;
  /** Ids are UUIDv7 (time-ordered): newest first is id order, and the cursor is an id. */
  beforeId?: string | undefined;
  limit: number;
}

const OPEN = 'i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()';

export async function listInvitations(db: Queryable, q: InvitationPageQuery): Promise<InvitationRow[]> {
  const { rows } = await db.query<InvitationRow>(
    `SELECT ${COLUMNS} FROM invitations i
      WHERE i.org_id = $1 AND ($2 OR (${OPEN})) AND ($3::uuid IS NULL OR i.id < $3)
      ORDER BY i.id DESC
      LIMIT $4`,
    [q.orgId, q.includeClosed, q.beforeId ?? null, q.limit],
  );
  return rows;
}

export async function countInvitations(db: Queryable, orgId: string, includeClosed: boolean): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM invitations i WHERE i.org_id = $1 AND ($2 OR (${OPEN}))`, [orgId, includeClosed]);
  return rows[0]!.n;
}
