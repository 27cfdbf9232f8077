import type { Queryable } from '@orchestra/lib';

/**
 * Accounting rows (migration 015): model provider requests and GPU time per attempt, and their
 * roll-ups. Inserts run in the dispatcher's transactions (as the system: each row carries its org);
 * reads run under the principal's org (row-level security).
 */

export interface NewModelCall {
  id: string;
  orgId: string;
  runId: string;
  taskId: string;
  attemptId: string;
  workflowId: string;
  appId: string | null;
  provider: string;
  model: string;
  requestedModel: string;
  promptTokens: number;
  completionTokens: number;
  ttftMs: number;
  durationMs: number;
  tokensPerSecond: number;
  costUsd: number;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface NewGpuUsage {
  attemptId: string;
  orgId: string;
  runId: string;
  taskId: string;
  workflowId: string;
  appId: string | null;
  workerId: string;
  gpuCount: number;
  gpuModels: string[];
  seconds: number;
  gpuSeconds: number;
}

export async function insertModelCalls(db: Queryable, calls: readonly NewModelCall[]): Promise<void> {
  if (calls.length === 0) return;
  await db.query(
    `INSERT INTO model_calls (id, org_id, run_id, task_id, attempt_id, workflow_id, app_id, provider, model, requested_model, prompt_tokens,
                              completion_tokens, ttft_ms, duration_ms, tokens_per_second, cost_usd, error_code, error_message)
     SELECT c."id", c."orgId", c."runId", c."taskId", c."attemptId", c."workflowId", c."appId", c."provider", c."model", c."requestedModel", c."promptTokens",
            c."completionTokens", c."ttftMs", c."durationMs", c."tokensPerSecond", c."costUsd", c."errorCode", c."errorMessage"
       FROM jsonb_to_recordset($1::jsonb) AS c("id" uuid, "orgId" uuid, "runId" uuid, "taskId" uuid, "attemptId" uuid, "workflowId" uuid, "appId" uuid,
            "provider" text, "model" text, "requestedModel" text, "promptTokens" bigint, "completionTokens" bigint, "ttftMs" int, "durationMs" int,
            "tokensPerSecond" float8, "costUsd" numeric, "errorCode" text, "errorMessage" text)
     ON CONFLICT (id) DO NOTHING`,
    [JSON.stringify(calls)],
  );
}

export async function insertGpuUsage(db: Queryable, usage: NewGpuUsage): Promise<void> {
  await db.query(
    `INSERT INTO gpu_usage (attempt_id, org_id, run_id, task_id, workflow_id, app_id, worker_id, gpu_count, gpu_models, seconds, gpu_seconds)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (attempt_id) DO NOTHING`,
    [usage.attemptId, usage.orgId, usage.runId, usage.taskId, usage.workflowId, usage.appId, usage.workerId, usage.gpuCount, usage.gpuModels, usage.seconds, usage.gpuSeconds],
  );
}

/** Token, cost and GPU totals. */
export interface UsageTotals {
  calls: number;
  failedCalls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  gpuSeconds: number;
}

export const EMPTY_USAGE: UsageTotals = { calls: 0, failedCalls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, gpuSeconds: 0 };

/** The columns a model_calls aggregate yields (GPU seconds come from gpu_usage). */
export const CALL_TOTALS = `count(*)::int AS calls, count(*) FILTER (WHERE error_code IS NOT NULL)::int AS failed_calls,
  coalesce(sum(prompt_tokens), 0)::float8 AS prompt_tokens, coalesce(sum(completion_tokens), 0)::float8 AS completion_tokens,
  coalesce(sum(cost_usd), 0)::float8 AS cost_usd`;

export interface TotalsRow {
  calls: number;
  failed_calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

export const totalsOf = (calls: TotalsRow | undefined, gpuSeconds: number | undefined): UsageTotals => ({
  calls: calls?.calls ?? 0,
  failedCalls: calls?.failed_calls ?? 0,
  promptTokens: calls?.prompt_tokens ?? 0,
  completionTokens: calls?.completion_tokens ?? 0,
  costUsd: Math.round((calls?.cost_usd ?? 0) * 1e8) / 1e8,
  gpuSeconds: Math.round((gpuSeconds ?? 0) * 1000) / 1000,
});

/** What one column (run_id, task_id, app_id, workflow_id) matching one value spent, optionally since a time. */
async function totalsWhere(db: Queryable, column: 'run_id' | 'task_id' | 'app_id' | 'workflow_id', value: string, since?: Date): Promise<UsageTotals> {
  const time = since === undefined ? '' : ' AND created_at >= $2';
  const params = since === undefined ? [value] : [value, since];
  const [calls, gpu] = await Promise.all([
    db.query<TotalsRow>(`SELECT ${CALL_TOTALS} FROM model_calls WHERE ${column} = $1${time}`, params),
    db.query<{ gpu_seconds: number }>(`SELECT coalesce(sum(gpu_seconds), 0)::float8 AS gpu_seconds FROM gpu_usage WHERE ${column} = $1${time}`, params),
  ]);
  return totalsOf(calls.rows[0], gpu.rows[0]?.gpu_seconds);
}

export const runUsage = (db: Queryable, runId: string): Promise<UsageTotals> => totalsWhere(db, 'run_id', runId);
export const taskUsage = (db: Queryable, taskId: string): Promise<UsageTotals> => totalsWhere(db, 'task_id', taskId);
export const appUsage = (db: Queryable, appId: string, since: Date): Promise<UsageTotals> => totalsWhere(db, 'app_id', appId, since);
export const workflowUsage = (db: Queryable, workflowId: string): Promise<UsageTotals> => totalsWhere(db, 'workflow_id', workflowId);

export type UsageGroupBy = 'DAY' | 'APP' | 'WORKFLOW' | 'PROVIDER';

/** One group of the organization's usage: its key (a UTC day, an app id, a workflow id, a provider name; '' for runs of no app). */
export interface UsageGroup extends UsageTotals {
  key: string;
}

const GROUP_KEY: Record<UsageGroupBy, { calls: string; gpu: string | null }> = {
  DAY: { calls: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, gpu: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')` },
  APP: { calls: `coalesce(app_id::text, '')`, gpu: `coalesce(app_id::text, '')` },
  WORKFLOW: { calls: 'workflow_id::text', gpu: 'workflow_id::text' },
  // GPU time is not a provider's.
  PROVIDER: { calls: 'provider', gpu: null },
};

/** The organization's usage in [from, to), grouped, in key order (at most `limit` groups). */
export async function usageBy(db: Queryable, from: Date, to: Date, groupBy: UsageGroupBy, limit: number): Promise<UsageGroup[]> {
  const key = GROUP_KEY[groupBy];
  const calls = await db.query<TotalsRow & { key: string }>(
    `SELECT ${key.calls} AS key, ${CALL_TOTALS} FROM model_calls WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1 LIMIT $3`,
    [from, to, limit],
  );
  const gpu = key.gpu === null ? { rows: [] } : await db.query<{ key: string; gpu_seconds: number }>(
    `SELECT ${key.gpu} AS key, sum(gpu_seconds)::float8 AS gpu_seconds FROM gpu_usage WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1 LIMIT $3`,
    [from, to, limit],
  );
  const groups = new Map<string, UsageGroup>();
  for (const row of calls.rows) groups.set(row.key, { key: row.key, ...totalsOf(row, 0) });
  for (const row of gpu.rows) groups.set(row.key, { ...(groups.get(row.key) ?? { key: row.key, ...EMPTY_USAGE }), gpuSeconds: Math.round(row.gpu_seconds * 1000) / 1000 });
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, limit);
}
