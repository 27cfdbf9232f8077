import { waitReason, type WaitReason } from '../../domain/wait-reasons';
import type { ConcurrencyHold } from '../../domain/flow-control';
import { effectiveQuotas, type QuotaDefaults } from '../../flow-control/limits';
import { keyHoldersAhead, lockAdmissionKeys, lockRunsIfFree, rateLimitLockKey, rateLimitWindows, runningTasksByOrgPool, type KeyHolder, type RateLimitUsage } from '../../store/admission';
import { findOrgQuotas, type OrgQuotaRow } from '../../store/quotas';
import type { AttemptRow, ErrorInfo, RunRow, TaskRow } from '../../store/rows';
import { setWaitReasons } from '../../store/tasks';
import { cancelOpenTasks, setRunStatus, tasksOfRun, type TransitionContext } from '../transitions';

/**
 * Flow-control admission (issue 10), inside the claim transaction, after the claim policy found an
 * attempt startable and before it looks for a slot: concurrency keys of the workflow (a run that
 * has not started) and of the step (each task). PostgreSQL is the truth: a key's advisory lock is
 * held while its places are counted, so claims of any number of dispatcher processes admit at most
 * `limit` runs (tasks) per key, and the rest wait in the order they came (created_at, id).
 *
 * Per key, what is ahead of a candidate is what runs under the key and what waits for it and came
 * first; with `limit` of those it does what its policy says: QUEUE waits (reason CONCURRENCY_KEY),
 * CANCEL_NEWEST cancels its own run, CANCEL_OLDEST cancels the oldest runs ahead of it to make room
 * (those another transaction holds now are left for the next look, which then waits).
 *
 * Then the named rate limits its task consumes: each limit's lock is taken with the keys', its
 * window summed at the database's clock (a sliding window over rate_limit_usage); a task whose
 * units do not fit waits (reason RATE_LIMIT) until the oldest use leaves the window. What the
 * attempts that start consume is recorded by the claim (recordRateLimitUsage) before it commits.
 *
 * Between the two, its organization's quota of running tasks per pool (operators set it): at the
 * quota, it waits (reason QUOTA), counted under the (organization, pool) lock.
 */

export interface AdmissionCandidate {
  attempt: AttemptRow;
  task: TaskRow;
}

export type AdmissionAnswer =
  /** `consumes`: the rate-limit units it takes if it starts. */
  | { kind: 'admit'; consumes: RateLimitUsage[] }
  /** `delayMs`: when to look again (rate limits know when units free up). */
  | { kind: 'wait'; reason: WaitReason; delayMs?: number }
  /** Its run was cancelled (its own key's policy, or another run's CANCEL_OLDEST). */
  | { kind: 'cancelled'; reason: string };

interface Gate {
  scope: 'run' | 'task';
  key: string;
  hold: ConcurrencyHold;
  /** The run's id (run keys) or the task's. */
  id: string;
  /** How it is named in messages. */
  what: string;
}

/** Runs cancelled ahead of a newer one (CANCEL_OLDEST) are cancelled at most this many per look. */
const MAX_CANCELLED_AT_ONCE = 100;

function gatesOf(run: RunRow, task: TaskRow): Gate[] {
  const gates: Gate[] = [];
  // A run holds its workflow key's place from its first task's start to its end.
  if (run.status === 'QUEUED' && run.concurrencyKey !== null && run.concurrency !== null) {
    gates.push({ scope: 'run', key: run.concurrencyKey, hold: run.concurrency, id: run.id, what: "the workflow's concurrency key" });
  }
  if (task.concurrencyKey !== null && task.concurrency !== null) {
    gates.push({ scope: 'task', key: task.concurrencyKey, hold: task.concurrency, id: task.id, what: `step "${task.stepId}"'s concurrency key` });
  }
  return gates;
}

const waitingMessage = (gate: Gate, ahead: number): string =>
  `${gate.what} "${gate.hold.value}" is at its limit (${gate.hold.limit} at once; ${ahead} ${gate.scope === 'run' ? 'runs' : 'tasks'} running or ahead in line)`;

/** Decides each candidate's admission (candidates in the claim's order); records why the waiting ones wait. */
export async function admitByFlowControl(
  ctx: TransitionContext,
  runs: Map<string, RunRow>,
  candidates: readonly AdmissionCandidate[],
  quotaDefaults: QuotaDefaults,
  /** The candidates' organizations' org_quotas rows when the claim read them already (claims.ts); read here otherwise. */
  knownQuotas?: ReadonlyMap<string, OrgQuotaRow>,
): Promise<Map<string, AdmissionAnswer>> {
  const answers = new Map<string, AdmissionAnswer>();
  if (candidates.length === 0) return answers;
  const gated = candidates.map((c) => ({ c, gates: gatesOf(runs.get(c.task.runId) as RunRow, c.task) }));
  const uses = candidates.flatMap((c) => (c.task.rateLimits ?? []).map((u) => ({ orgId: c.task.orgId, name: u.name })));
  const quotaRows = knownQuotas ?? (await findOrgQuotas(ctx.tx, [...new Set(candidates.map((c) => c.task.orgId))]));
  const runningQuota = (orgId: string): number | null => effectiveQuotas(quotaRows.get(orgId), quotaDefaults).runningTasksPerPool;
  const quotaPairs = candidates.filter((c) => runningQuota(c.task.orgId) !== null).map((c) => ({ orgId: c.task.orgId, pool: c.task.pool }));
  const keys = [
    ...gated.flatMap((g) => g.gates.map((gate) => `concurrency:${gate.key}`)),
    ...uses.map((u) => rateLimitLockKey(u.orgId, u.name)),
    ...quotaPairs.map((p) => `quota:${p.orgId}:${p.pool}`),
  ];
  if (keys.length === 0) {
    for (const { attempt } of candidates) answers.set(attempt.id, { kind: 'admit', consumes: [] });
    return answers;
  }
  await lockAdmissionKeys(ctx.tx, keys);
  const windows = await rateLimitWindows(ctx.tx, uses);
  /** Running now per `org:pool` (with a quota), plus what this claim admitted so far. */
  const running = await runningTasksByOrgPool(ctx.tx, quotaPairs);
  const overQuota = (c: AdmissionCandidate): AdmissionAnswer | undefined => {
    const quota = runningQuota(c.task.orgId);
    if (quota === null) return undefined;
    const now = running.get(`${c.task.orgId}:${c.task.pool}`) ?? 0;
    if (now < quota) return undefined;
    return {
      kind: 'wait',
      reason: waitReason('QUOTA', `quota runningTasksPerPool: the organization runs ${now} tasks in pool "${c.task.pool}", its quota is ${quota}`, { quota: 'runningTasksPerPool', limit: quota, running: now, pool: c.task.pool }),
    };
  };
  /** Units this claim gave out so far, per limit. */
  const givenOut = new Map<string, number>();

  /** Per key, the runs (tasks) this claim admitted so far, with their runs: they hold places the database does not show yet. */
  const admittedUnder = new Map<string, Map<string, string>>();
  /** Per run, the attempts admitted so far (a run cancelled later in the batch takes them back). */
  const admittedOfRun = new Map<string, string[]>();
  const cancelledRuns = new Map<string, string>();

  const cancelRun = async (run: RunRow, why: string): Promise<void> => {
    const error: ErrorInfo = { code: 'CONCURRENCY_LIMIT', message: why, retryable: false };
    await cancelOpenTasks(ctx, run, await tasksOfRun(ctx, run.id), why, error);
    runs.set(run.id, await setRunStatus(ctx, run, { status: 'CANCELLED', finished: true, cancelReason: why, message: why }));
    cancelledRuns.set(run.id, why);
    for (const attemptId of admittedOfRun.get(run.id) ?? []) answers.set(attemptId, { kind: 'cancelled', reason: why });
    for (const held of admittedUnder.values()) for (const [id, of] of [...held]) if (of === run.id) held.delete(id);
    admittedOfRun.delete(run.id);
  };

  /** Cancels the oldest `count` runs ahead (not `own`); resolves true when all of them are cancelled now. */
  const cancelOldest = async (ahead: readonly KeyHolder[], count: number, own: string, why: string): Promise<boolean> => {
    const victims = [...new Set(ahead.map((h) => h.runId).filter((id) => id !== own))].slice(0, Math.min(count, MAX_CANCELLED_AT_ONCE));
    if (victims.length < count) return false;
    const locked = await lockRunsIfFree(ctx.tx, victims);
    for (const victim of locked) {
      if (victim.status === 'QUEUED' || victim.status === 'RUNNING') await cancelRun(victim, why);
    }
    return locked.length === victims.length;
  };

  /** Whether the candidate's rate limits have its units now: undefined when they all do (then they are given out), else why it waits. */
  const rateLimited = (c: AdmissionCandidate): AdmissionAnswer | undefined => {
    const consumes: RateLimitUsage[] = [];
    for (const use of c.task.rateLimits ?? []) {
      const window = windows.get(rateLimitLockKey(c.task.orgId, use.name));
      // A limit deleted since the workflow was made (deleting one a step names is refused) holds nothing back.
      if (!window) continue;
      const used = window.used + (givenOut.get(window.id) ?? 0);
      if (used + use.units > window.limit) {
        const delayMs = Math.max(1, (window.freesAt ?? window.now).getTime() - window.now.getTime());
        const per = window.period.toLowerCase();
        return {
          kind: 'wait',
          delayMs,
          reason: waitReason('RATE_LIMIT', `rate limit "${use.name}": ${used} of ${window.limit} units per ${per} used; it needs ${use.units}`, {
            name: use.name,
            limit: window.limit,
            period: window.period,
            used,
            units: use.units,
            until: new Date(Date.now() + delayMs).toISOString(),
          }),
        };
      }
      consumes.push({ rateLimitId: window.id, orgId: c.task.orgId, attemptId: c.attempt.id, units: use.units, at: window.nowExact });
    }
    for (const u of consumes) givenOut.set(u.rateLimitId, (givenOut.get(u.rateLimitId) ?? 0) + u.units);
    return consumes.length === 0 ? undefined : { kind: 'admit', consumes };
  };

  const waits: Array<{ taskId: string; reason: WaitReason }> = [];
  for (const { c, gates } of gated) {
    const runId = c.task.runId;
    const cancelled = cancelledRuns.get(runId);
    if (cancelled !== undefined) {
      answers.set(c.attempt.id, { kind: 'cancelled', reason: cancelled });
      continue;
    }
    let answer: AdmissionAnswer = { kind: 'admit', consumes: [] };
    for (const gate of gates) {
      const { limit, onLimit } = gate.hold;
      const fromDb = await keyHoldersAhead(ctx.tx, gate.scope, c.task.orgId, gate.key, gate.id, onLimit === 'CANCEL_OLDEST' ? limit + MAX_CANCELLED_AT_ONCE : limit);
      const ahead = new Set([...fromDb.map((h) => h.id), ...(admittedUnder.get(gate.key)?.keys() ?? [])]);
      ahead.delete(gate.id);
      if (ahead.size < limit) continue;
      if (onLimit === 'QUEUE') {
        answer = { kind: 'wait', reason: waitReason('CONCURRENCY_KEY', waitingMessage(gate, ahead.size), { key: gate.hold.value, limit, scope: gate.scope, ...(gate.scope === 'task' ? { stepId: c.task.stepId } : {}) }) };
        break;
      }
      if (onLimit === 'CANCEL_NEWEST') {
        const why = `cancelled: ${gate.what} "${gate.hold.value}" was at its limit (${limit}) and its policy cancels the newest`;
        await cancelRun(runs.get(runId) as RunRow, why);
        answer = { kind: 'cancelled', reason: why };
        break;
      }
      // CANCEL_OLDEST: the newest `limit` stay. One that came later already runs in its place: this one is among the oldest.
      const newer = ahead.size - fromDb.filter((h) => h.older).length;
      if (newer >= limit) {
        const why = `cancelled: newer runs hold ${gate.what} "${gate.hold.value}" (limit ${limit}, policy cancels the oldest)`;
        await cancelRun(runs.get(runId) as RunRow, why);
        answer = { kind: 'cancelled', reason: why };
        break;
      }
      const why = `cancelled: a newer run took its place under ${gate.what} "${gate.hold.value}" (limit ${limit}, policy cancels the oldest)`;
      if (!(await cancelOldest(fromDb.filter((h) => h.older), ahead.size - limit + 1, runId, why))) {
        answer = { kind: 'wait', reason: waitReason('CONCURRENCY_KEY', `${waitingMessage(gate, ahead.size)}: the oldest are being cancelled`, { key: gate.hold.value, limit, scope: gate.scope }) };
        break;
      }
    }
    if (answer.kind === 'admit') answer = overQuota(c) ?? rateLimited(c) ?? answer;
    answers.set(c.attempt.id, answer);
    if (answer.kind === 'wait') waits.push({ taskId: c.task.id, reason: answer.reason });
    if (answer.kind !== 'admit') continue;
    for (const gate of gates) {
      const held = admittedUnder.get(gate.key) ?? new Map<string, string>();
      held.set(gate.id, runId);
      admittedUnder.set(gate.key, held);
    }
    admittedOfRun.set(runId, [...(admittedOfRun.get(runId) ?? []), c.attempt.id]);
    const pair = `${c.task.orgId}:${c.task.pool}`;
    if (running.has(pair)) running.set(pair, (running.get(pair) ?? 0) + 1);
  }
  await setWaitReasons(ctx.tx, waits);
  return answers;
}
