import { AppError, badInput, type Queryable } from '@orchestra/lib';
import { DEFAULT_POOL, type StepDefinition } from '../domain/workflow-definition';
import { listPoolGrants } from '../store/quotas';
import { findRateLimitsByName } from '../store/rate-limits';

/**
 * What a workflow's steps may name of the organization's, checked when a version is created (in
 * its transaction, under the organization's row-level security): pools other than the shared
 * default one only when granted (FORBIDDEN, POOL_NOT_ALLOWED), and rate limits that exist with at
 * least as many units as a step consumes at once.
 */
export async function checkStepReferences(tx: Queryable, orgId: string, steps: readonly StepDefinition[], fieldBase = 'input.steps'): Promise<void> {
  const pools = new Set(steps.map((s) => s.pool).filter((p) => p !== DEFAULT_POOL));
  if (pools.size > 0) {
    const granted = new Set((await listPoolGrants(tx, orgId)).map((g) => g.pool));
    const i = steps.findIndex((s) => s.pool !== DEFAULT_POOL && !granted.has(s.pool));
    const step = steps[i];
    if (step) {
      throw new AppError('FORBIDDEN', `step "${step.id}": pool "${step.pool}" is not granted to this organization (it may use "${DEFAULT_POOL}"${granted.size > 0 ? ` and ${[...granted].map((p) => `"${p}"`).join(', ')}` : ''}; platform operators grant pools)`, {
        reason: 'POOL_NOT_ALLOWED',
        field: `${fieldBase}[${i}].pool`,
        details: { pool: step.pool },
      });
    }
  }
  const names = [...new Set(steps.flatMap((s) => (s.rateLimits ?? []).map((r) => r.name)))];
  if (names.length === 0) return;
  const limits = await findRateLimitsByName(tx, names);
  steps.forEach((step, i) => {
    (step.rateLimits ?? []).forEach((use, j) => {
      const limit = limits.get(use.name);
      const field = `${fieldBase}[${i}].rateLimits[${j}]`;
      if (!limit) throw badInput(`${field}.name`, `step "${step.id}": the organization has no rate limit "${use.name}" (create it first)`, 'UNKNOWN_RATE_LIMIT');
      if (use.units > limit.limit) {
        throw badInput(`${field}.units`, `step "${step.id}": consumes ${use.units} units of "${use.name}" at once, which allows ${limit.limit} per ${limit.period.toLowerCase()}`, 'UNITS_ABOVE_LIMIT');
      }
    });
  });
}
