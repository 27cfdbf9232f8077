import type { Queryable, Role } from '@orchestra/lib';
import { containsPattern } from './search';
import type { UserRow } from './users';
import type { OrganizationRow } from './organizations';

export interface MembershipRow {
  id: string;
  orgId: string;
  userId: string;
  role: Role;
  createdAt: Date;
}

/** A membership with its user, for member lists. */
export interface MemberRow extends MembershipRow {
  user: UserRow;
}

/** A membership with its organization, for a user's org switcher. */
export interface UserMembershipRow extends MembershipRow {
  organization: OrganizationRow;
}

const COLUMNS = 'm.id, m.org_id AS "orgId", m.user_id AS "userId", m.role, m.created_at AS "createdAt"';

export async function insertMembership(db: Queryable, m: { id: string; orgId: string; userId: string; role: Role }): Promise<MembershipRow> {
  const { rows } = await db.query<MembershipRow>(
    `INSERT INTO memberships AS m (id, org_id, user_id, role) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [m.id, m.orgId, m.userId, m.role],
  );
  return rows[0]!;
}

export async function findMembership(db: Queryable, orgId: string, userId: string): Promise<MembershipRow | undefined> {
  const { rows } = await db.query<MembershipRow>(`SELECT ${COLUMNS} FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2`, [orgId, userId]);
  return rows[0];
}

/** Locks the row: role changes and removals of one member are serialized. */
export async function findMembershipById(db: Queryable, orgId: string, id: string): Promise<MembershipRow | undefined> {
  const { rows } = await db.query<MembershipRow>(`SELECT ${COLUMNS} FROM memberships m WHERE m.org_id = $1 AND m.id = $2`, [orgId, id]);
  return rows[0];
}

export async function findMembershipForUpdate(db: Queryable, orgId: string, id: string): Promise<MembershipRow | undefined> {
  const { rows } = await db.query<MembershipRow>(`SELECT ${COLUMNS} FROM memberships m WHERE m.org_id = $1 AND m.id = $2 FOR UPDATE`, [orgId, id]);
  return rows[0];
}

/**
 * Locks the organization's owner memberships and returns their ids. Every change that can take the
 * owner role away takes these locks first, so two owners cannot demote each other at the same time
 * and leave none.
 */
export async function lockOwners(db: Queryable, orgId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>("SELECT id FROM memberships WHERE org_id = $1 AND role = 'owner' ORDER BY id FOR UPDATE", [orgId]);
  return rows.map((r) => r.id);
}

export async function updateMembershipRole(db: Queryable, id: string, role: Role): Promise<MembershipRow | undefined> {
  const { rows } = await db.query<MembershipRow>(`UPDATE memberships AS m SET role = $2, updated_at = now() WHERE m.id = $1 RETURNING ${COLUMNS}`, [id, role]);
  return rows[0];
}

export async function deleteMembership(db: Queryable, id: string): Promise<MembershipRow | undefined> {
  const { rows } = await db.query<MembershipRow>(`DELETE FROM memberships AS m WHERE m.id = $1 RETURNING ${COLUMNS}`, [id]);
  return rows[0];
}

/** Every organization the user belongs to, oldest membership first. */
export async function listMembershipsOfUser(db: Queryable, userId: string): Promise<UserMembershipRow[]> {
  const { rows } = await db.query<MembershipRow & { orgName: string; orgCreatedAt: Date }>(
    `SELECT ${COLUMNS}, o.name AS "orgName", o.created_at AS "orgCreatedAt"
       FROM memberships m JOIN organizations o ON o.id = m.org_id
      WHERE m.user_id = $1
      ORDER BY m.created_at, m.id`,
    [userId],
  );
  return rows.map(({ orgName, orgCreatedAt, ...m }) => ({ ...m, organization: { id: m.orgId, name: orgName, createdAt: orgCreatedAt } }));
}

export interface MemberPageQuery {
  orgId: string;
  search?: string | undefined;
  afterEmail?: string | undefined;
  limit: number;
}

export async function listMembers(db: Queryable, q: MemberPageQuery): Promise<MemberRow[]> {
  const { rows } = await db.query<MembershipRow & { email: string; name: string; emailVerified: boolean; userCreatedAt: Date }>(
    `SELECT ${COLUMNS}, u.email, u.name, u.email_verified_at IS NOT NULL AS "emailVerified", u.created_at AS "userCreatedAt"
       FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.org_id = $1
        AND ($2::text IS NULL OR u.email ILIKE $2 OR u.name ILIKE $2)
        AND ($3::text IS NULL OR u.email > $3)
      ORDER BY u.email
      LIMIT $4`,
    [q.orgId, containsPattern(q.search), q.afterEmail ?? null, q.limit],
  );
  return rows.map(({ email, name, emailVerified, userCreatedAt, ...m }) => ({ ...m, user: { id: m.userId, email, name, emailVerified, createdAt: userCreatedAt } }));
}

export async function countMembers(db: Queryable, orgId: string, search: string | undefined): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.org_id = $1 AND ($2::text IS NULL OR u.email ILIKE $2 OR u.name ILIKE $2)`,
    [orgId, containsPattern(search)],
  );
  return rows[0]!.n;
}
