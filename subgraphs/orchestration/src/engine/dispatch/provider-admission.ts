import type { Queryable } from '@orchestra/lib';
import type { ProviderLimit, ProviderLimits, ProviderReservation } from '../../llm/provider-limits';
import { setWaitReasons } from '../../store/tasks';

/** A startable model step as provider admission sees it. */
export interface ProviderAdmissionRequest {
  attemptId: string;
  taskId: string;
  orgId: string;
  limits: readonly ProviderLimit[];
}

export interface ProviderAdmissions {
  /** Attempts whose every provider is at its limit: they wait (the reason is recorded on their tasks). */
  waits: Map<string, { reason: string; delayMs: number }>;
  /** The request each admitted attempt took (given back if it does not start). */
  reservations: Map<string, ProviderReservation>;
  /** Providers at their limit, left out of what the worker gets. */
  skipped: Map<string, string[]>;
}

/**
 * Per-provider rate limits in the claim (issue 14, llm/provider-limits.ts): each startable model
 * step whose providers have limits takes a request of the first provider with room, or waits with
 * RATE_LIMIT on its task. Called after flow control admitted the attempts and before they look for
 * a slot; the claim gives back the reservations of attempts it does not start (releaseUnstarted).
 */
export async function admitByProviderLimits(tx: Queryable, limits: ProviderLimits | undefined, requests: readonly ProviderAdmissionRequest[]): Promise<ProviderAdmissions> {
  const result: ProviderAdmissions = { waits: new Map(), reservations: new Map(), skipped: new Map() };
  if (!limits) return result;
  const reasons: Array<{ taskId: string; reason: Awaited<ReturnType<ProviderLimits['admit']>> & { kind: 'wait' } }> = [];
  for (const r of requests) {
    if (r.limits.length === 0) continue;
    const admitted = await limits.admit(r.orgId, r.limits);
    if (admitted.kind === 'wait') {
      result.waits.set(r.attemptId, { reason: admitted.reason.message, delayMs: admitted.delayMs });
      reasons.push({ taskId: r.taskId, reason: admitted });
      continue;
    }
    if (admitted.reserved) result.reservations.set(r.attemptId, admitted.reserved);
    if (admitted.skipped.length > 0) result.skipped.set(r.attemptId, admitted.skipped);
  }
  await setWaitReasons(
    tx,
    reasons.map((w) => ({ taskId: w.taskId, reason: w.reason.reason })),
  );
  return result;
}

/** Gives back the requests of attempts the claim did not start. */
export async function releaseUnstarted(limits: ProviderLimits | undefined, admissions: ProviderAdmissions | undefined, started: ReadonlySet<string>): Promise<void> {
  if (!limits || !admissions) return;
  const unused = [...admissions.reservations].filter(([attemptId]) => !started.has(attemptId)).map(([, r]) => r);
  if (unused.length > 0) await limits.release(unused);
}

/**
 * Counts what a model step's successful attempt used against the provider that answered (its
 * output's `provider` and `usage`, as the llm executor reports them): its tokens, and its request
 * too when that provider is not the one the claim took a request of (`reservedProvider`).
 */
export async function recordProviderUsage(limits: ProviderLimits | undefined, orgId: string, reservedProvider: string | undefined, output: unknown): Promise<void> {
  if (!limits || output === null || typeof output !== 'object') return;
  const { provider, usage } = output as { provider?: unknown; usage?: { promptTokens?: unknown; completionTokens?: unknown } };
  if (typeof provider !== 'string' || provider === '') return;
  const count = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0);
  const tokens = count(usage?.promptTokens) + count(usage?.completionTokens);
  await limits.record(orgId, provider, { tokens, request: provider !== reservedProvider });
}
