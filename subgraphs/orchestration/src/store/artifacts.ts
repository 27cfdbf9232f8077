import type { Queryable } from '@orchestra/lib';
import { camelRow, camelRows } from './rows';

/** An artifact's record (the bytes are in the artifact store under storageKey). */
export interface ArtifactRow {
  id: string;
  orgId: string;
  runId: string;
  taskId: string;
  attemptId: string;
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string;
  createdAt: Date;
}

export type NewArtifact = Omit<ArtifactRow, 'createdAt'>;

const COLUMNS = 'id, org_id, run_id, task_id, attempt_id, name, content_type, size_bytes::float8 AS size_bytes, sha256, storage_key, created_at';
const rowsOf = (rows: unknown[]): ArtifactRow[] => camelRows<ArtifactRow>(rows as Array<Record<string, unknown>>);

/**
 * Records artifacts (dispatch, as the system: each row carries its org). A report delivered twice
 * (the same attempt and name) keeps the first row.
 */
export async function insertArtifacts(db: Queryable, artifacts: readonly NewArtifact[]): Promise<number> {
  if (artifacts.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO artifacts (id, org_id, run_id, task_id, attempt_id, name, content_type, size_bytes, sha256, storage_key)
     SELECT a.id, a.org_id, a.run_id, a.task_id, a.attempt_id, a.name, a.content_type, a.size_bytes, a.sha256, a.storage_key
       FROM jsonb_to_recordset($1::jsonb) AS a(id uuid, org_id uuid, run_id uuid, task_id uuid, attempt_id uuid, name text, content_type text, size_bytes bigint, sha256 text, storage_key text)
     ON CONFLICT (attempt_id, name) DO NOTHING`,
    [
      JSON.stringify(
        artifacts.map((a) => ({
          id: a.id,
          org_id: a.orgId,
          run_id: a.runId,
          task_id: a.taskId,
          attempt_id: a.attemptId,
          name: a.name,
          content_type: a.contentType,
          size_bytes: a.sizeBytes,
          sha256: a.sha256,
          storage_key: a.storageKey,
        })),
      ),
    ],
  );
  return rowCount ?? 0;
}

/** The artifacts of these tasks, oldest first (under row-level security: the transaction's org only). */
export async function listArtifactsOfTasks(db: Queryable, taskIds: readonly string[]): Promise<ArtifactRow[]> {
  if (taskIds.length === 0) return [];
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM artifacts WHERE task_id = ANY($1::uuid[]) ORDER BY created_at, name`, [taskIds]);
  return rowsOf(rows);
}

/** One artifact of the transaction's org (row-level security), or undefined. */
export async function findArtifact(db: Queryable, id: string): Promise<ArtifactRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM artifacts WHERE id = $1`, [id]);
  return rows[0] ? camelRow<ArtifactRow>(rows[0] as Record<string, unknown>) : undefined;
}

/**
 * Up to `limit` artifacts (every org) older than their org's retention (`defaultDays` where the org
 * set none), locked, skipping rows another replica's retention pass holds.
 */
export async function lockExpiredArtifacts(db: Queryable, defaultDays: number, limit: number): Promise<ArtifactRow[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `a.${c}`)
      .join(', ')}
       FROM artifacts a LEFT JOIN artifact_settings s ON s.org_id = a.org_id
      WHERE a.created_at < now() - make_interval(days => COALESCE(s.retention_days, $1::int))
      ORDER BY a.created_at LIMIT $2 FOR UPDATE OF a SKIP LOCKED`,
    [defaultDays, limit],
  );
  return rowsOf(rows);
}

export async function deleteArtifacts(db: Queryable, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await db.query('DELETE FROM artifacts WHERE id = ANY($1::uuid[])', [ids]);
  return rowCount ?? 0;
}

/** The transaction's org's retention in days, or undefined when it set none. */
export async function findRetentionDays(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ retention_days: number }>('SELECT retention_days FROM artifact_settings');
  return rows[0]?.retention_days;
}

export async function upsertRetentionDays(db: Queryable, orgId: string, days: number, updatedBy: string): Promise<void> {
  await db.query(
    `INSERT INTO artifact_settings (org_id, retention_days, updated_by) VALUES ($1, $2, $3)
     ON CONFLICT (org_id) DO UPDATE SET retention_days = EXCLUDED.retention_days, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [orgId, days, updatedBy],
  );
}
