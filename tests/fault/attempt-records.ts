/**
 * Judging a fault from the database's attempt records: what each fault orphaned, how long it took
 * to come back, and whether any task ran twice where it must not have.
 */

export interface AttemptRecord {
  id: string;
  taskId: string;
  runId: string;
  attempt: number;
  status: string;
  workerId: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RecoveryReport {
  /** Attempts the fault orphaned (running on the killed process, or waiting in the lost queue). */
  orphaned: number;
  /** From the kill to the last orphaned task restarted (a new attempt, or the same one re-queued) or recorded with the result its worker kept. */
  maxMs: number;
  medianMs: number;
  /** Orphaned tasks that never came back (should be 0). */
  unrecovered: number;
}

/**
 * For each orphaned attempt: when its task came back after `at` — the first attempt of the task
 * that started after the kill (a retry, or the same attempt dispatched again), or the orphaned
 * attempt itself recorded after the kill (its worker's result recalled, or its stream survived).
 */
export function recoveryOf(faults: ReadonlyArray<{ at: number; attempts: readonly AttemptRecord[] }>, all: readonly AttemptRecord[]): RecoveryReport {
  const times: number[] = [];
  let unrecovered = 0;
  for (const { at, attempts } of faults) {
    for (const orphan of attempts) {
      // Finished between the snapshot and the kill: nothing was orphaned.
      const now = all.find((a) => a.id === orphan.id);
      if (now?.status === 'SUCCEEDED' && now.finishedAt && now.finishedAt.getTime() < at) continue;
      const candidates = all
        .filter((a) => a.taskId === orphan.taskId)
        .flatMap((a) => {
          // Dispatched after the kill: a retry, or the same attempt re-queued (Redis lost it).
          if (a.startedAt && a.startedAt.getTime() >= at) return [a.startedAt.getTime()];
          // The orphan itself recorded after the kill: its worker's kept result recalled (or its call survived).
          if (a.id === orphan.id && a.status === 'SUCCEEDED' && a.finishedAt && a.finishedAt.getTime() >= at) return [a.finishedAt.getTime()];
          return [];
        });
      if (candidates.length === 0) {
        unrecovered += 1;
        continue;
      }
      times.push(Math.min(...candidates) - at);
    }
  }
  times.sort((a, b) => a - b);
  return { orphaned: times.length + unrecovered, maxMs: times.at(-1) ?? 0, medianMs: times[Math.floor(times.length / 2)] ?? 0, unrecovered };
}

export interface AttemptVerdict {
  /** Tasks with more than one SUCCEEDED attempt. */
  succeededTwice: string[];
  /** Attempts that started after another attempt of their task had succeeded. */
  startedAfterSuccess: string[];
  /** Attempts started after a worker had completed another attempt of the task (a result was there to be had). */
  executedAfterCompletedResult: string[];
}

/**
 * `completed`: attempt id → when a worker finished it successfully (its own log). A completion counts
 * when it came while the attempt was still RUNNING in the database: its result was there to be had.
 */
export function checkAttempts(all: readonly AttemptRecord[], completed: ReadonlyMap<string, number>): AttemptVerdict {
  const byTask = new Map<string, AttemptRecord[]>();
  for (const a of all) byTask.set(a.taskId, [...(byTask.get(a.taskId) ?? []), a]);
  const verdict: AttemptVerdict = { succeededTwice: [], startedAfterSuccess: [], executedAfterCompletedResult: [] };
  for (const [taskId, attempts] of byTask) {
    const succeeded = attempts.filter((a) => a.status === 'SUCCEEDED');
    if (succeeded.length > 1) verdict.succeededTwice.push(taskId);
    for (const s of succeeded) {
      for (const a of attempts) {
        if (a.id !== s.id && a.startedAt && s.finishedAt && a.startedAt > s.finishedAt) verdict.startedAfterSuccess.push(a.id);
      }
    }
    for (const done of attempts) {
      const at = completed.get(done.id);
      if (at === undefined) continue;
      // The platform had already given the attempt up (its worker presumed lost) when the worker finished it: too late to count.
      if (done.status !== 'SUCCEEDED' && done.finishedAt && done.finishedAt.getTime() <= at) continue;
      for (const a of attempts) {
        if (a.id !== done.id && a.startedAt && a.startedAt.getTime() > at) verdict.executedAfterCompletedResult.push(`${a.id} (task ${taskId}: attempt ${done.id} had completed on worker ${done.workerId ?? '?'})`);
      }
    }
  }
  return verdict;
}
