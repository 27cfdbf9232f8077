import type { Queryable } from '@orchestra/lib';
import type { AppStatus } from '../apps/lifecycle';

export interface AppRow {
  id: string;
  org_id: string;
  slug: string;
  name: string;
  description: string;
  owner_id: string | null;
  status: AppStatus;
  tags: string[];
  health_check_url: string | null;
  config_schema_version: number;
  current_config_version: number | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const APP_COLUMNS = `id, org_id, slug, name, description, owner_id, status, tags, health_check_url,
  config_schema_version, current_config_version, created_by, created_at, updated_at`;

export interface NewApp {
  id: string;
  orgId: string;
  slug: string;
  name: string;
  description: string;
  ownerId: string | null;
  tags: string[];
  healthCheckUrl: string | null;
  createdBy: string | null;
}

/** Inserts an app whose first config schema (version 1) the caller inserts in the same transaction. */
export async function insertApp(db: Queryable, app: NewApp): Promise<AppRow> {
  const { rows } = await db.query<AppRow>(
    `INSERT INTO apps (id, org_id, slug, name, description, owner_id, tags, health_check_url, config_schema_version, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)
     RETURNING ${APP_COLUMNS}`,
    [app.id, app.orgId, app.slug, app.name, app.description, app.ownerId, app.tags, app.healthCheckUrl, app.createdBy],
  );
  return rows[0]!;
}

export async function findAppById(db: Queryable, id: string): Promise<AppRow | undefined> {
  const { rows } = await db.query<AppRow>(`SELECT ${APP_COLUMNS} FROM apps WHERE id = $1`, [id]);
  return rows[0];
}

/** The app, locked until the transaction ends (every change to an app goes through this). */
export async function lockAppById(db: Queryable, id: string): Promise<AppRow | undefined> {
  const { rows } = await db.query<AppRow>(`SELECT ${APP_COLUMNS} FROM apps WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0];
}

export async function findAppBySlug(db: Queryable, slug: string): Promise<AppRow | undefined> {
  const { rows } = await db.query<AppRow>(`SELECT ${APP_COLUMNS} FROM apps WHERE slug = $1`, [slug]);
  return rows[0];
}

export async function findAppsByIds(db: Queryable, ids: readonly string[]): Promise<AppRow[]> {
  const { rows } = await db.query<AppRow>(`SELECT ${APP_COLUMNS} FROM apps WHERE id = ANY($1::uuid[])`, [ids]);
  return rows;
}

export interface AppChanges {
  slug: string;
  name: string;
  description: string;
  ownerId: string | null;
  tags: string[];
  healthCheckUrl: string | null;
}

export async function updateAppDetails(db: Queryable, id: string, changes: AppChanges): Promise<AppRow> {
  const { rows } = await db.query<AppRow>(
    `UPDATE apps SET slug = $2, name = $3, description = $4, owner_id = $5, tags = $6, health_check_url = $7, updated_at = now()
     WHERE id = $1 RETURNING ${APP_COLUMNS}`,
    [id, changes.slug, changes.name, changes.description, changes.ownerId, changes.tags, changes.healthCheckUrl],
  );
  return rows[0]!;
}

export async function updateAppStatus(db: Queryable, id: string, status: AppStatus): Promise<AppRow> {
  const { rows } = await db.query<AppRow>(`UPDATE apps SET status = $2, updated_at = now() WHERE id = $1 RETURNING ${APP_COLUMNS}`, [id, status]);
  return rows[0]!;
}

export async function updateCurrentConfigVersion(db: Queryable, id: string, version: number): Promise<AppRow> {
  const { rows } = await db.query<AppRow>(
    `UPDATE apps SET current_config_version = $2, updated_at = now() WHERE id = $1 RETURNING ${APP_COLUMNS}`,
    [id, version],
  );
  return rows[0]!;
}

export async function updateConfigSchemaVersion(db: Queryable, id: string, version: number): Promise<AppRow> {
  const { rows } = await db.query<AppRow>(
    `UPDATE apps SET config_schema_version = $2, updated_at = now() WHERE id = $1 RETURNING ${APP_COLUMNS}`,
    [id, version],
  );
  return rows[0]!;
}

export async function deleteAppById(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM apps WHERE id = $1', [id]);
  return rowCount === 1;
}

export type AppOrder = 'newest' | 'name';

export interface AppListQuery {
  search?: string | undefined;
  /** Apps carrying every one of these tags. */
  tags?: string[] | undefined;
  statuses: AppStatus[];
  ownerId?: string | undefined;
  order: AppOrder;
  /** The sort key of the last row of the previous page: [id] for newest, [name, id] for name. */
  after?: string[] | undefined;
  limit: number;
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

type AppFilterQuery = Pick<AppListQuery, 'search' | 'tags' | 'statuses' | 'ownerId'>;

/** The WHERE conditions of a filter, adding their parameters to `params`. */
function filterConditions(query: AppFilterQuery, params: unknown[]): string[] {
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = [`status = ANY(${param(query.statuses)}::text[])`];
  if (query.search !== undefined && query.search !== '') {
    const pattern = param(`%${escapeLike(query.search)}%`);
    where.push(`(name ILIKE ${pattern} OR slug ILIKE ${pattern} OR description ILIKE ${pattern})`);
  }
  if (query.tags !== undefined && query.tags.length > 0) where.push(`tags @> ${param(query.tags)}::text[]`);
  if (query.ownerId !== undefined) where.push(`owner_id = ${param(query.ownerId)}`);
  return where;
}

/** One page of apps (limit + 1 rows are read, so the caller knows whether there is a next page). */
export async function listApps(db: Queryable, query: AppListQuery): Promise<AppRow[]> {
  const params: unknown[] = [];
  const where = filterConditions(query, params);
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  let orderBy: string;
  if (query.order === 'name') {
    if (query.after) where.push(`(lower(name), id) > (lower(${param(query.after[0])}), ${param(query.after[1])}::uuid)`);
    orderBy = 'lower(name), id';
  } else {
    if (query.after) where.push(`id < ${param(query.after[0])}::uuid`);
    orderBy = 'id DESC';
  }
  const { rows } = await db.query<AppRow>(
    `SELECT ${APP_COLUMNS} FROM apps WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ${param(query.limit + 1)}`,
    params,
  );
  return rows;
}

/** How many apps match a filter (all pages). */
export async function countApps(db: Queryable, query: AppFilterQuery): Promise<number> {
  const params: unknown[] = [];
  const where = filterConditions(query, params);
  const { rows } = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM apps WHERE ${where.join(' AND ')}`, params);
  return rows[0]!.count;
}
