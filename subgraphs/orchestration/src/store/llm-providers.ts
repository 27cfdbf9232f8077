import type { Queryable } from '@orchestra/lib';
import type { LlmModelAlias, LlmProviderSettings } from '../domain/llm-providers';
import { camelRow } from './rows';

/** An organization's model provider as stored (its API key is a secret's name, never a value). */
export interface LlmProviderRow extends LlmProviderSettings {
  id: string;
  orgId: string;
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS =
  'id, org_id, name, base_url, api_key_secret, models, input_price_per_million, output_price_per_million, requests_per_minute, tokens_per_minute, timeout_ms, worker_local, created_by, updated_by, created_at, updated_at';

const rowOf = (row: Record<string, unknown>): LlmProviderRow => {
  const r = camelRow<Omit<LlmProviderRow, 'models'> & { models: LlmModelAlias[] | null }>(row);
  return { ...r, models: r.models ?? [] };
};

const settingsParams = (s: LlmProviderSettings) => [
  s.baseUrl,
  s.apiKeySecret,
  JSON.stringify(s.models),
  s.inputPricePerMillion,
  s.outputPricePerMillion,
  s.requestsPerMinute,
  s.tokensPerMinute,
  s.timeoutMs,
  s.workerLocal,
];

export async function insertLlmProvider(db: Queryable, p: LlmProviderSettings & { id: string; orgId: string; createdBy: string }): Promise<LlmProviderRow> {
  const { rows } = await db.query(
    `INSERT INTO llm_providers (id, org_id, name, base_url, api_key_secret, models, input_price_per_million, output_price_per_million,
       requests_per_minute, tokens_per_minute, timeout_ms, worker_local, created_by, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING ${COLUMNS}`,
    [p.id, p.orgId, p.name, ...settingsParams(p), p.createdBy],
  );
  return rowOf(rows[0] as Record<string, unknown>);
}

export async function updateLlmProviderRow(db: Queryable, id: string, s: LlmProviderSettings, updatedBy: string): Promise<LlmProviderRow | undefined> {
  const { rows } = await db.query(
    `UPDATE llm_providers SET base_url = $2, api_key_secret = $3, models = $4, input_price_per_million = $5, output_price_per_million = $6,
       requests_per_minute = $7, tokens_per_minute = $8, timeout_ms = $9, worker_local = $10, updated_by = $11, updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, ...settingsParams(s), updatedBy],
  );
  return rows[0] ? rowOf(rows[0] as Record<string, unknown>) : undefined;
}

/** Under row-level security: the transaction's organization only. */
export async function lockLlmProvider(db: Queryable, id: string): Promise<LlmProviderRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM llm_providers WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ? rowOf(rows[0] as Record<string, unknown>) : undefined;
}

export async function findLlmProvider(db: Queryable, id: string): Promise<LlmProviderRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM llm_providers WHERE id = $1`, [id]);
  return rows[0] ? rowOf(rows[0] as Record<string, unknown>) : undefined;
}

export async function deleteLlmProviderRow(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM llm_providers WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

export async function listLlmProviders(db: Queryable): Promise<LlmProviderRow[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM llm_providers ORDER BY name`);
  return (rows as Array<Record<string, unknown>>).map(rowOf);
}

export async function countLlmProviders(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM llm_providers');
  return rows[0]?.n ?? 0;
}

/** Providers of these names (under row-level security: the transaction's organization), by name. */
export async function llmProvidersByName(db: Queryable, names: readonly string[]): Promise<Map<string, LlmProviderRow>> {
  if (names.length === 0) return new Map();
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM llm_providers WHERE name = ANY($1::text[])`, [names]);
  return new Map((rows as Array<Record<string, unknown>>).map(rowOf).map((p) => [p.name, p]));
}

/** For dispatch, which runs as the system: the organization is part of the query. */
export async function llmProvidersOfOrg(db: Queryable, orgId: string, names: readonly string[]): Promise<Map<string, LlmProviderRow>> {
  if (names.length === 0) return new Map();
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM llm_providers WHERE org_id = $1 AND name = ANY($2::text[])`, [orgId, names]);
  return new Map((rows as Array<Record<string, unknown>>).map(rowOf).map((p) => [p.name, p]));
}
