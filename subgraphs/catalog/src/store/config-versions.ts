import type { Queryable } from '@orchestra/lib';

export interface ConfigSchemaRow {
  app_id: string;
  version: number;
  schema: unknown;
  created_by: string | null;
  created_at: Date;
}

export interface ConfigVersionRow {
  app_id: string;
  version: number;
  config: unknown;
  schema_version: number;
  message: string;
  created_by: string | null;
  created_at: Date;
}

export type ActivationKind = 'publish' | 'rollback';

export interface ActivationRow {
  id: string;
  app_id: string;
  version: number;
  previous_version: number | null;
  kind: ActivationKind;
  reason: string;
  activated_by: string | null;
  activated_at: Date;
}

export async function insertConfigSchema(
  db: Queryable,
  row: { orgId: string; appId: string; version: number; schema: unknown; createdBy: string | null },
): Promise<ConfigSchemaRow> {
  const { rows } = await db.query<ConfigSchemaRow>(
    `INSERT INTO app_config_schemas (org_id, app_id, version, schema, created_by) VALUES ($1, $2, $3, $4, $5)
     RETURNING app_id, version, schema, created_by, created_at`,
    [row.orgId, row.appId, row.version, JSON.stringify(row.schema), row.createdBy],
  );
  return rows[0]!;
}

export async function findConfigSchema(db: Queryable, appId: string, version: number): Promise<ConfigSchemaRow | undefined> {
  const { rows } = await db.query<ConfigSchemaRow>(
    'SELECT app_id, version, schema, created_by, created_at FROM app_config_schemas WHERE app_id = $1 AND version = $2',
    [appId, version],
  );
  return rows[0];
}

export async function insertConfigVersion(
  db: Queryable,
  row: { orgId: string; appId: string; version: number; config: unknown; schemaVersion: number; message: string; createdBy: string | null },
): Promise<ConfigVersionRow> {
  const { rows } = await db.query<ConfigVersionRow>(
    `INSERT INTO app_config_versions (org_id, app_id, version, config, schema_version, message, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     RETURNING app_id, version, config, schema_version, message, created_by, created_at`,
    [row.orgId, row.appId, row.version, JSON.stringify(row.config), row.schemaVersion, row.message, row.createdBy],
  );
  return rows[0]!;
}

/** The next version number; callers hold the app's row lock, so two publishes never pick the same. */
export async function nextConfigVersion(db: Queryable, appId: string): Promise<number> {
  const { rows } = await db.query<{ next: number }>(
    'SELECT coalesce(max(version), 0) + 1 AS next FROM app_config_versions WHERE app_id = $1',
    [appId],
  );
  return rows[0]!.next;
}

export async function findConfigVersion(db: Queryable, appId: string, version: number): Promise<ConfigVersionRow | undefined> {
  const { rows } = await db.query<ConfigVersionRow>(
    'SELECT app_id, version, config, schema_version, message, created_by, created_at FROM app_config_versions WHERE app_id = $1 AND version = $2',
    [appId, version],
  );
  return rows[0];
}

/** Newest first; `beforeVersion` continues a previous page. Reads limit + 1 rows. */
export async function listConfigVersions(db: Queryable, appId: string, beforeVersion: number | undefined, limit: number): Promise<ConfigVersionRow[]> {
  const { rows } = await db.query<ConfigVersionRow>(
    `SELECT app_id, version, config, schema_version, message, created_by, created_at FROM app_config_versions
     WHERE app_id = $1 AND ($2::int IS NULL OR version < $2) ORDER BY version DESC LIMIT $3`,
    [appId, beforeVersion ?? null, limit + 1],
  );
  return rows;
}

export async function insertActivation(
  db: Queryable,
  row: { id: string; orgId: string; appId: string; version: number; previousVersion: number | null; kind: ActivationKind; reason: string; activatedBy: string | null },
): Promise<ActivationRow> {
  const { rows } = await db.query<ActivationRow>(
    `INSERT INTO app_config_activations (id, org_id, app_id, version, previous_version, kind, reason, activated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING id, app_id, version, previous_version, kind, reason, activated_by, activated_at`,
    [row.id, row.orgId, row.appId, row.version, row.previousVersion, row.kind, row.reason, row.activatedBy],
  );
  return rows[0]!;
}

/** Newest first; `beforeId` (a UUIDv7, so time-ordered) continues a previous page. Reads limit + 1 rows. */
export async function listActivations(db: Queryable, appId: string, beforeId: string | undefined, limit: number): Promise<ActivationRow[]> {
  const { rows } = await db.query<ActivationRow>(
    `SELECT id, app_id, version, previous_version, kind, reason, activated_by, activated_at FROM app_config_activations
     WHERE app_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [appId, beforeId ?? null, limit + 1],
  );
  return rows;
}
