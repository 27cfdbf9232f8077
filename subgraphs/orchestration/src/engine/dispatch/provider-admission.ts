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

/** What an attempt's model calls used of each of its providers, as the worker reports them call by call. */
export interface ProviderUsageTally {
  /** One reported call (failed ones too: a broken stream, a re-asked answer, an error after tokens were used). */
  add(call: { provider: string; promptTokens: number; completionTokens: number }): void;
  entries(): Array<{ provider: string; tokens: number; calls: number }>;
}

/** Requests counted per provider and attempt at most (a browser.agent attempt makes up to 50 turns, each may fall back). */
const MAX_CALLS_COUNTED = 300;

/** Tallies only the providers the attempt was given: a worker cannot charge another provider's limits. */
export function createProviderUsageTally(providers: readonly string[]): ProviderUsageTally {
  const known = new Set(providers);
  const tally = new Map<string, { tokens: number; calls: number }>();
  // A worker's counts are bounded as the usage rows bound them (domain/usage.ts).
  const count = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.min(n, 1_000_000_000) : 0);
  return {
    add(call) {
      if (!known.has(call.provider)) return;
      const entry = tally.get(call.provider) ?? { tokens: 0, calls: 0 };
      entry.tokens += count(call.promptTokens) + count(call.completionTokens);
      entry.calls = Math.min(entry.calls + 1, MAX_CALLS_COUNTED);
      tally.set(call.provider, entry);
    },
    entries: () => [...tally].map(([provider, e]) => ({ provider, ...e })),
  };
}

/**
 * Counts what a model step's attempt used against each provider it called, however the attempt
 * ended (a failed provider call, a stream cut mid-way and an answer re-asked spent tokens all the
 * same): every call's tokens, and every call as a request except the one the claim already took of
 * `reservedProvider`.
 */
export async function recordProviderUsage(limits: ProviderLimits | undefined, orgId: string, reservedProvider: string | undefined, tally: ProviderUsageTally): Promise<void> {
  if (!limits) return;
  await Promise.all(
    tally.entries().map(({ provider, tokens, calls }) => limits.record(orgId, provider, { tokens, requests: Math.max(0, calls - (provider === reservedProvider ? 1 : 0)) })),
  );
}
