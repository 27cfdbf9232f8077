import type pg from 'pg';

/**
 * What the database says about runs that did not succeed, so a failed check names its cause: the
 * run's error, and for each of its tasks that did not succeed, the task's error and every attempt
 * (status, worker, dispatcher, error, times). The phase (fault) each run was started in is added
 * by the caller.
 */
export interface AttemptHistory {
  attempt: number;
  status: string;
  workerId: string | null;
  dispatcherId: string | null;
  error: { code?: string; message?: string; retryable?: boolean | null } | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface TaskHistory {
  stepId: string;
  status: string;
  lostAttempts: number;
  error: { code?: string; message?: string } | null;
  attempts: AttemptHistory[];
}

export interface UnsuccessfulRun {
  phase: string;
  runId: string;
  status: string;
  error: { code?: string; message?: string; stepId?: string } | null;
  tasks: TaskHistory[];
}

/** Tasks that ended CANCELLED because another step failed add nothing but length: their attempts are left out. */
const UPSTREAM_FAILED = 'UPSTREAM_FAILED';

export async function unsuccessfulRuns(pool: pg.Pool, schema: string, runIds: readonly string[], phaseOf: (runId: string) => string): Promise<UnsuccessfulRun[]> {
  if (runIds.length === 0) return [];
  const { rows: runs } = await pool.query<{ id: string; status: string; error: UnsuccessfulRun['error'] }>(
    `SELECT id, status, error FROM "${schema}".runs WHERE id = ANY($1::uuid[]) AND status <> 'SUCCEEDED' ORDER BY id`,
    [runIds],
  );
  if (runs.length === 0) return [];
  const ids = runs.map((r) => r.id);
  const { rows: tasks } = await pool.query<{ id: string; run_id: string; step_id: string; status: string; lost_attempts: number; error: TaskHistory['error'] }>(
    `SELECT id, run_id, step_id, status, lost_attempts, error FROM "${schema}".tasks WHERE run_id = ANY($1::uuid[]) AND status <> 'SUCCEEDED' ORDER BY step_id`,
    [ids],
  );
  const { rows: attempts } = await pool.query<{ task_id: string; attempt: number; status: string; worker_id: string | null; dispatcher_id: string | null; error: AttemptHistory['error']; started_at: Date | null; finished_at: Date | null }>(
    `SELECT task_id, attempt, status, worker_id, dispatcher_id, error, started_at, finished_at FROM "${schema}".task_attempts WHERE run_id = ANY($1::uuid[]) ORDER BY task_id, attempt`,
    [ids],
  );
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  return runs.map((run) => ({
    phase: phaseOf(run.id),
    runId: run.id,
    status: run.status,
    error: run.error,
    tasks: tasks
      .filter((t) => t.run_id === run.id)
      .map((t) => ({
        stepId: t.step_id,
        status: t.status,
        lostAttempts: t.lost_attempts,
        error: t.error,
        attempts:
          t.error?.code === UPSTREAM_FAILED
            ? []
            : attempts
                .filter((a) => a.task_id === t.id)
                .map((a) => ({ attempt: a.attempt, status: a.status, workerId: a.worker_id, dispatcherId: a.dispatcher_id, error: a.error, startedAt: iso(a.started_at), finishedAt: iso(a.finished_at) })),
      })),
  }));
}
