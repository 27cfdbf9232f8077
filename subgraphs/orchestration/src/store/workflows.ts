import type { Queryable } from '@orchestra/lib';
import type { WorkflowOptions } from '../domain/flow-control';
import type { StepDefinition } from '../domain/workflow-definition';
import { camelRow, camelRows, type WorkflowRow, type WorkflowVersionRow } from './rows';

export async function insertWorkflow(
  db: Queryable,
  w: { id: string; orgId: string; name: string; description: string | null; appId: string | null; createdBy: string },
): Promise<WorkflowRow> {
  const { rows } = await db.query(
    `INSERT INTO workflows (id, org_id, name, description, app_id, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [w.id, w.orgId, w.name, w.description, w.appId, w.createdBy],
  );
  return camelRow<WorkflowRow>(rows[0] as Record<string, unknown>);
}

/** Takes the next version number of a workflow (locks its row until the transaction ends). */
export async function nextWorkflowVersion(db: Queryable, workflowId: string): Promise<number | undefined> {
  const { rows } = await db.query<{ latest_version: number }>(
    'UPDATE workflows SET latest_version = latest_version + 1, updated_at = now() WHERE id = $1 RETURNING latest_version',
    [workflowId],
  );
  return rows[0]?.latest_version;
}

export async function insertWorkflowVersion(
  db: Queryable,
  v: { workflowId: string; orgId: string; version: number; steps: StepDefinition[]; options?: WorkflowOptions; createdBy: string },
): Promise<WorkflowVersionRow> {
  const { rows } = await db.query(
    'INSERT INTO workflow_versions (workflow_id, org_id, version, steps, options, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
    [v.workflowId, v.orgId, v.version, JSON.stringify(v.steps), JSON.stringify(v.options ?? {}), v.createdBy],
  );
  return camelRow<WorkflowVersionRow>(rows[0] as Record<string, unknown>);
}

export async function updateWorkflow(db: Queryable, id: string, fields: { description?: string | null; appId?: string | null }): Promise<WorkflowRow | undefined> {
  const { rows } = await db.query(
    `UPDATE workflows SET
       description = CASE WHEN $2 THEN $3 ELSE description END,
       app_id = CASE WHEN $4 THEN $5::uuid ELSE app_id END,
       updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, fields.description !== undefined, fields.description ?? null, fields.appId !== undefined, fields.appId ?? null],
  );
  return rows[0] ? camelRow<WorkflowRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findWorkflowById(db: Queryable, id: string): Promise<WorkflowRow | undefined> {
  const { rows } = await db.query('SELECT * FROM workflows WHERE id = $1', [id]);
  return rows[0] ? camelRow<WorkflowRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findWorkflowsByIds(db: Queryable, ids: readonly string[]): Promise<WorkflowRow[]> {
  const { rows } = await db.query('SELECT * FROM workflows WHERE id = ANY($1::uuid[])', [ids]);
  return camelRows<WorkflowRow>(rows as Array<Record<string, unknown>>);
}

export async function findWorkflowByName(db: Queryable, name: string): Promise<WorkflowRow | undefined> {
  const { rows } = await db.query('SELECT * FROM workflows WHERE name = $1', [name]);
  return rows[0] ? camelRow<WorkflowRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function findWorkflowVersion(db: Queryable, workflowId: string, version: number): Promise<WorkflowVersionRow | undefined> {
  const { rows } = await db.query('SELECT * FROM workflow_versions WHERE workflow_id = $1 AND version = $2', [workflowId, version]);
  return rows[0] ? camelRow<WorkflowVersionRow>(rows[0] as Record<string, unknown>) : undefined;
}

export async function listWorkflowVersions(db: Queryable, workflowId: string): Promise<WorkflowVersionRow[]> {
  const { rows } = await db.query('SELECT * FROM workflow_versions WHERE workflow_id = $1 ORDER BY version DESC', [workflowId]);
  return camelRows<WorkflowVersionRow>(rows as Array<Record<string, unknown>>);
}

export interface WorkflowFilter {
  appId?: string | undefined;
  /** Case-insensitive substring of the name. */
  search?: string | undefined;
}

const workflowWhere = (filter: WorkflowFilter, params: unknown[]): string => {
  const clauses: string[] = [];
  if (filter.appId !== undefined) {
    params.push(filter.appId);
    clauses.push(`app_id = $${params.length}`);
  }
  if (filter.search !== undefined && filter.search !== '') {
    params.push(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    clauses.push(`name ILIKE $${params.length}`);
  }
  return clauses.length > 0 ? clauses.join(' AND ') : 'true';
};

/** Workflows by name, after the cursor's name; `limit` rows. */
export async function listWorkflows(db: Queryable, filter: WorkflowFilter, afterName: string | undefined, limit: number): Promise<WorkflowRow[]> {
  const params: unknown[] = [];
  let where = workflowWhere(filter, params);
  if (afterName !== undefined) {
    params.push(afterName);
    where += ` AND name > $${params.length}`;
  }
  params.push(limit);
  const { rows } = await db.query(`SELECT * FROM workflows WHERE ${where} ORDER BY name LIMIT $${params.length}`, params);
  return camelRows<WorkflowRow>(rows as Array<Record<string, unknown>>);
}

export async function countWorkflows(db: Queryable, filter: WorkflowFilter): Promise<number> {
  const params: unknown[] = [];
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflows WHERE ${workflowWhere(filter, params)}`, params);
  return rows[0]?.n ?? 0;
}
