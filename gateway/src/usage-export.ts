import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse, type ExecutionResult } from 'graphql';
import { AppError, ERROR_CODES, toAppError, type Principal } from '@orchestra/lib/gateway';

/**
 * GET /usage.csv?from=<ISO>&to=<ISO>&groupBy=DAY|APP|WORKFLOW|PROVIDER — the organization's model
 * tokens, cost and GPU time (issue 14) as a CSV download, with the caller's own credential
 * (Authorization: Bearer <access token or API key>). It runs the `usage` query through the federated
 * graph as the caller, so the same access rule, row-level security and input checks apply; a refusal
 * is the GraphQL error's HTTP status with its message as text.
 */

export interface UsageExportDeps {
  principalOf(request: FastifyRequest): Promise<Principal>;
  /** Per-principal request limit (the gateway's own): true when the request may go on. */
  allow(principal: Principal, request: FastifyRequest): { allowed: boolean; retryAfterMs: number };
  executeFederated(args: { document: ReturnType<typeof parse>; variables?: Record<string, unknown>; principal: Principal }): Promise<ExecutionResult>;
}

const USAGE_QUERY = parse(`
  query UsageExport($from: DateTime!, $to: DateTime!, $groupBy: UsageGroupBy!) {
    usage(from: $from, to: $to, groupBy: $groupBy) {
      key workflow { name } calls failedCalls promptTokens completionTokens totalTokens costUsd gpuSeconds
    }
  }
`);

interface UsageRow {
  key: string;
  workflow: { name: string } | null;
  calls: number;
  failedCalls: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number;
  gpuSeconds: number;
}

export const USAGE_CSV_COLUMNS = ['key', 'name', 'calls', 'failedCalls', 'promptTokens', 'completionTokens', 'totalTokens', 'costUsd', 'gpuSeconds'] as const;

/** One CSV field: quoted when it needs to be, and never read as a formula by a spreadsheet. */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function usageCsv(rows: readonly UsageRow[]): string {
  const lines = [USAGE_CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push([r.key, r.workflow?.name ?? '', r.calls, r.failedCalls, r.promptTokens, r.completionTokens, r.totalTokens, r.costUsd, r.gpuSeconds].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

const one = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function registerUsageExport(app: FastifyInstance, deps: UsageExportDeps): void {
  const refuse = (reply: FastifyReply, error: unknown) => {
    const appError = toAppError(error);
    const field = appError.field ? ` (${appError.field})` : '';
    return reply.code(ERROR_CODES[appError.code].http).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(`${appError.code}${field}: ${appError.message}\n`);
  };

  app.get<{ Querystring: Record<string, unknown> }>('/usage.csv', async (request, reply) => {
    let principal: Principal;
    try {
      principal = await deps.principalOf(request);
      if (principal.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 'sign in (Authorization: Bearer <token or API key>) to export usage');
      const limited = deps.allow(principal, request);
      if (!limited.allowed) {
        void reply.header('retry-after', String(Math.max(1, Math.ceil(limited.retryAfterMs / 1000))));
        throw new AppError('RATE_LIMITED', 'too many requests', { reason: 'GATEWAY_RATE_LIMIT' });
      }
    } catch (error) {
      return refuse(reply, error);
    }
    const groupBy = one(request.query['groupBy']) ?? 'DAY';
    const variables = { from: one(request.query['from']), to: one(request.query['to']), groupBy };
    for (const name of ['from', 'to'] as const) {
      if (variables[name] === undefined) return refuse(reply, new AppError('BAD_USER_INPUT', `${name} is required (an ISO 8601 date-time)`, { field: name, reason: 'MISSING_FIELD' }));
    }
    if (!['DAY', 'APP', 'WORKFLOW', 'PROVIDER'].includes(groupBy)) {
      return refuse(reply, new AppError('BAD_USER_INPUT', 'groupBy is DAY, APP, WORKFLOW or PROVIDER', { field: 'groupBy', reason: 'INVALID_GROUP_BY' }));
    }
    const result = await deps.executeFederated({ document: USAGE_QUERY, variables, principal });
    const failure = result.errors?.[0];
    if (failure) {
      const ext = (failure.extensions ?? {}) as { code?: string; field?: string; reason?: string };
      const code = ext.code !== undefined && ext.code in ERROR_CODES ? (ext.code as keyof typeof ERROR_CODES) : 'INTERNAL';
      return refuse(reply, new AppError(code, failure.message, { ...(ext.field ? { field: ext.field } : {}), ...(ext.reason ? { reason: ext.reason } : {}) }));
    }
    const rows = ((result.data as { usage?: UsageRow[] } | null | undefined)?.usage ?? []);
    const name = `usage-${groupBy.toLowerCase()}-${(variables.from ?? '').slice(0, 10)}-${(variables.to ?? '').slice(0, 10)}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
    return reply
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="${name}"`)
      .type('text/csv; charset=utf-8')
      .send(usageCsv(rows));
  });
}
