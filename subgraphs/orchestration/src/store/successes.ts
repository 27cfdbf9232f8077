import type { Queryable } from '@orchestra/lib';
import { SUCCEED_ATTEMPTS, type Success } from './attempts';
import { prepared, rowFromJson, type AttemptRow, type RunRow, type TaskRow } from './rows';
import type { RunProgress } from './tasks';

/**
 * succeedAttempts and advanceRuns in one statement, for successes of steps' own tasks (no forEach
 * item: an item's step advances through for-each.ts first). Each RUNNING attempt ends SUCCEEDED
 * and gives its slot back, its task (still on that attempt, RUNNING) ends SUCCEEDED with the output,
 * and for each run with a task that succeeded: the dependents now ready, how many tasks are still
 * open and, when none is, the run's output with the run moved RUNNING → SUCCEEDED.
 *
 * The parts of one statement see the tables as they were before it (PostgreSQL's data-modifying
 * CTEs), so the reads below count the tasks this statement succeeded as SUCCEEDED, and take their
 * new outputs, from the `succeeded` part's answer rather than from the table. Resolves to what
 * succeedAttempts and advanceRuns would have, in that order, in one round trip.
 */
export async function succeedAttemptsAndAdvance(
  db: Queryable,
  successes: readonly Success[],
): Promise<{ ended: Map<string, { attempt: AttemptRow; taskSucceeded: boolean }>; progress: Map<string, RunProgress> }> {
  if (successes.length === 0) return { ended: new Map(), progress: new Map() };
  const { rows } = await db.query<{
    ended: Array<{ attempt: Record<string, unknown>; task_succeeded: boolean }>;
    progress: Array<{ run_id: string; ready: Array<Record<string, unknown>>; open_tasks: number; output: Record<string, unknown> | null; finished_run: Record<string, unknown> | null }>;
  }>(
    prepared(
      'succeedAttemptsAndAdvance',
      `WITH ${SUCCEED_ATTEMPTS('t.id, t.run_id, t.step_id, t.parent_task_id, t.output, t.current_attempt_id AS attempt_id')}, s AS (
         SELECT run_id, array_agg(step_id) AS step_ids FROM succeeded WHERE parent_task_id IS NULL GROUP BY run_id
       ), ready AS (
         SELECT t.* FROM s JOIN tasks t ON t.run_id = s.run_id
          WHERE t.status = 'PENDING' AND t.depends_on && s.step_ids
            AND NOT EXISTS (SELECT 1 FROM tasks d WHERE d.run_id = t.run_id AND d.step_id = ANY(t.depends_on) AND d.status <> 'SUCCEEDED' AND d.parent_task_id IS NULL
                               AND d.id NOT IN (SELECT id FROM succeeded))
       ), open AS (
         SELECT s.run_id, (SELECT count(*) FROM tasks o WHERE o.run_id = s.run_id AND o.status <> 'SUCCEEDED' AND o.parent_task_id IS NULL
                                                      AND o.id NOT IN (SELECT id FROM succeeded))::int AS n FROM s
       ), run_output AS (
         SELECT open.run_id, open.n,
                CASE WHEN open.n = 0 THEN
                  (SELECT coalesce(jsonb_object_agg(l.step_id, coalesce(sc.output, l.output)), '{}'::jsonb) FROM tasks l LEFT JOIN succeeded sc ON sc.id = l.id
                    WHERE l.run_id = open.run_id AND l.parent_task_id IS NULL
                      AND NOT EXISTS (SELECT 1 FROM tasks d WHERE d.run_id = open.run_id AND l.step_id = ANY(d.depends_on) AND d.parent_task_id IS NULL))
                END AS value
           FROM open
       ), finished AS (
         UPDATE runs r SET status = 'SUCCEEDED', output = o.value, error = NULL, finished_at = now(), updated_at = now()
           FROM run_output o WHERE r.id = o.run_id AND o.n = 0 AND r.status = 'RUNNING'
         RETURNING r.id, to_jsonb(r) AS run
       )
       SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('attempt', to_jsonb(ended), 'task_succeeded', ended.id IN (SELECT attempt_id FROM succeeded))), '[]'::jsonb) FROM ended) AS ended,
              (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'run_id', o.run_id, 'open_tasks', o.n, 'output', o.value,
                        'ready', (SELECT coalesce(jsonb_agg(to_jsonb(ready) ORDER BY ready.position), '[]'::jsonb) FROM ready WHERE ready.run_id = o.run_id),
                        'finished_run', (SELECT run FROM finished f WHERE f.id = o.run_id))), '[]'::jsonb)
                 FROM run_output o) AS progress`,
      [JSON.stringify(successes.map((s) => ({ attempt_id: s.attemptId, task_id: s.taskId, output: JSON.stringify(s.output ?? null), duration_ms: s.durationMs ?? null })))],
    ),
  );
  const row = rows[0] as { ended: Array<{ attempt: Record<string, unknown>; task_succeeded: boolean }>; progress: Array<{ run_id: string; ready: Array<Record<string, unknown>>; open_tasks: number; output: Record<string, unknown> | null; finished_run: Record<string, unknown> | null }> };
  return {
    ended: new Map(
      row.ended.map((r) => {
        const attempt = rowFromJson<AttemptRow>(r.attempt);
        return [attempt.id, { attempt, taskSucceeded: r.task_succeeded }];
      }),
    ),
    progress: new Map(
      row.progress.map((p) => [
        p.run_id,
        {
          ready: p.ready.map((t) => rowFromJson<TaskRow>(t)),
          openTasks: p.open_tasks,
          output: p.output,
          ...(p.finished_run ? { finishedRun: rowFromJson<RunRow>(p.finished_run) } : {}),
        },
      ]),
    ),
  };
}
