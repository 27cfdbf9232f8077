import type { Queryable } from '@orchestra/lib';

export interface OrganizationRow {
  id: string;
  name: string;
  createdAt: Date;
}

const COLUMNS = 'id, name, created_at AS "createdAt"';

export async function insertOrganization(db: Queryable, org: { id: string; name: string }): Promise<OrganizationRow> {
  const { rows } = await db.query<OrganizationRow>(`INSERT INTO organizations (id, name) VALUES ($1, $2) RETURNING ${COLUMNS}`, [org.id, org.name]);
  return rows[0]!;
}

export async function findOrganization(db: Queryable, id: string): Promise<OrganizationRow | undefined> {
  const { rows } = await db.query<OrganizationRow>(`SELECT ${COLUMNS} FROM organizations WHERE id = $1`, [id]);
  return rows[0];
}

export async function findOrganizations(db: Queryable, ids: readonly string[]): Promise<OrganizationRow[]> {
  const { rows } = await db.query<OrganizationRow>(`SELECT ${COLUMNS} FROM organizations WHERE id = ANY($1::uuid[])`, [ids]);
  return rows;
}

export async function renameOrganization(db: Queryable, id: string, name: string): Promise<OrganizationRow | undefined> {
  const { rows } = await db.query<OrganizationRow>(`UPDATE organizations SET name = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, name]);
  return rows[0];
}
