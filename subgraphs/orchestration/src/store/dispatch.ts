import { isUuid, type Queryable } from '@orchestra/lib';
import type { GpuRequest } from '../domain/gpu-request';
import type { OrgQuotaRow } from './quotas';
import { prepared, rowFromJson, type AttemptRow, type RunRow, type TaskRow, type WorkerRow } from './rows';

// The statements of the dispatch path (claim, result). Each reads or changes rows of several tables
// at once because every round trip here is paid per task, under the run's lock.

/**
 * Runs, locked (every change of a run and its tasks takes its run's lock first), in id order so
 * that transactions locking several runs never deadlock; runs that do not exist are left out.
 */
export async function lockRuns(db: Queryable, runIds: readonly string[]): Promise<Map<string, RunRow>> {
  const { rows } = await db.query<{ run: Record<string, unknown> }>(
    prepared('lockRuns', `SELECT to_jsonb(r) AS run FROM runs r WHERE r.id = ANY($1::uuid[]) ORDER BY r.id FOR UPDATE`, [[...new Set(runIds)]]),
  );
  return lockedRuns(rows);
}

/**
 * lockRuns as a statement with no parameters, to go with the BEGIN of its transaction in one round trip
 * (engine.changeFrom): the run ids are written into it as a literal array, so only when every one is a
 * well-formed UUID (undefined otherwise: lock them with lockRuns). Its rows are read by lockedRuns.
 */
export function lockRunsStatement(runIds: readonly string[]): string | undefined {
  const ids = [...new Set(runIds)];
  if (ids.length === 0 || !ids.every(isUuid)) return undefined;
  return `SELECT to_jsonb(r) AS run FROM runs r WHERE r.id = ANY('{${ids.join(',')}}'::uuid[]) ORDER BY r.id FOR UPDATE`;
}

/** The runs lockRunsStatement locked, by id (as lockRuns answers). */
export const lockedRuns = (rows: ReadonlyArray<{ run: Record<string, unknown> }>): Map<string, RunRow> =>
  new Map(rows.map((r) => rowFromJson<RunRow>(r.run)).map((run) => [run.id, run]));

/**
 * Attempts with their tasks. Read after their runs' locks were taken (a statement of its own, so
 * it sees every change committed by the transactions that held those locks before).
 */
export async function attemptsWithTasks(db: Queryable, attemptIds: readonly string[]): Promise<Map<string, { attempt: AttemptRow; task: TaskRow }>> {
  const { rows } = await db.query<{ attempt: Record<string, unknown>; task: Record<string, unknown> }>(
    prepared('attemptsWithTasks', `SELECT to_jsonb(a) AS attempt, to_jsonb(t) AS task FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.id = ANY($1::uuid[])`, [
      [...new Set(attemptIds)],
    ]),
  );
  return new Map(rows.map((r) => ({ attempt: rowFromJson<AttemptRow>(r.attempt), task: rowFromJson<TaskRow>(r.task) })).map((row) => [row.attempt.id, row]));
}

/**
 * attemptsWithTasks for a claim, with the org_quotas rows of their organizations (the claim's flow
 * control reads them: admission.ts), in the same statement.
 */
export async function claimedAttemptsWithTasks(
  db: Queryable,
  attemptIds: readonly string[],
): Promise<{ rows: Map<string, { attempt: AttemptRow; task: TaskRow }>; quotas: Map<string, OrgQuotaRow> }> {
  const { rows } = await db.query<{ attempt: Record<string, unknown>; task: Record<string, unknown>; quota: Record<string, unknown> | null }>(
    prepared(
      'claimedAttemptsWithTasks',
      `SELECT to_jsonb(a) AS attempt, to_jsonb(t) AS task, to_jsonb(q) AS quota
         FROM task_attempts a JOIN tasks t ON t.id = a.task_id LEFT JOIN org_quotas q ON q.org_id = a.org_id
        WHERE a.id = ANY($1::uuid[])`,
      [[...new Set(attemptIds)]],
    ),
  );
  const quotas = new Map<string, OrgQuotaRow>();
  for (const r of rows) {
    if (r.quota === null) continue;
    const quota = rowFromJson<OrgQuotaRow>(r.quota);
    quotas.set(quota.orgId, quota);
  }
  return { rows: new Map(rows.map((r) => ({ attempt: rowFromJson<AttemptRow>(r.attempt), task: rowFromJson<TaskRow>(r.task) })).map((row) => [row.attempt.id, row])), quotas };
}

/** Tasks by id (read after their runs' locks were taken, like attemptsWithTasks). */
export async function tasksByIds(db: Queryable, taskIds: readonly string[]): Promise<Map<string, TaskRow>> {
  const { rows } = await db.query<{ task: Record<string, unknown> }>(prepared('tasksByIds', `SELECT to_jsonb(t) AS task FROM tasks t WHERE t.id = ANY($1::uuid[])`, [[...new Set(taskIds)]]));
  return new Map(rows.map((r) => rowFromJson<TaskRow>(r.task)).map((task) => [task.id, task]));
}

/** Outputs of the steps of a run that succeeded, among `stepIds` (what a task's input templates read). */
export async function succeededStepOutputs(db: Queryable, runId: string, stepIds: readonly string[]): Promise<Record<string, { output: unknown }>> {
  if (stepIds.length === 0) return {};
  const { rows } = await db.query<{ step_id: string; output: unknown }>(
    prepared('succeededStepOutputs', `SELECT step_id, output FROM tasks WHERE run_id = $1 AND step_id = ANY($2::text[]) AND status = 'SUCCEEDED' AND parent_task_id IS NULL`, [runId, stepIds]),
  );
  return Object.fromEntries(rows.map((r) => [r.step_id, { output: r.output }]));
}

/** What a claim asks of a worker (attempts with the same needs are started by one statement). */
export interface SlotNeeds {
  pool: string;
  capability: string;
  labels: Record<string, string>;
  /** Workers and endpoints to pass over now (suspected dead, circuit open). */
  avoidWorkerIds: readonly string[];
  avoidEndpoints: readonly string[];
  /** The GPUs it asks for: only workers that report at least that many GPUs of the model, each big enough, are candidates. */
  gpus?: GpuRequest | undefined;
  /**
   * Base URLs of the worker-local LLM servers its model providers use (llmBaseUrlKey form): only
   * workers that declare every one of them are candidates (engine/dispatch/local-providers.ts).
   */
  llmEndpoints?: readonly string[] | undefined;
}

/** A free slot of a live worker that can run attempts of some needs, locked by this transaction. */
export interface SlotCandidate {
  workerId: string;
  slot: number;
  worker: WorkerRow;
}

/**
 * Free slots of live workers that can run attempts with these needs: the FROM and WHERE of the
 * statements that lock them (lockFreeSlots, startAttemptsOnFreeSlots), on the values of
 * freeSlotValues ($1 to $FREE_SLOT_VALUES). A new filter of SlotNeeds goes here, for both.
 */
const FREE_SLOTS = `FROM worker_slots s JOIN workers w ON w.id = s.worker_id
        WHERE s.attempt_id IS NULL AND s.slot < w.slots_total
          AND w.status = 'ONLINE' AND w.lease_expires_at > now() AND w.pool = $1 AND $2 = ANY(w.capabilities)
          AND w.labels @> $3::jsonb AND NOT (w.id = ANY($4::text[])) AND NOT (w.endpoint = ANY($5::text[])) AND w.llm_endpoints @> $9::text[]
          AND ($6::int IS NULL OR (SELECT count(*) FROM jsonb_array_elements(coalesce(w.resources -> 'gpus', '[]'::jsonb)) g
                                    WHERE (g ->> 'memoryTotalBytes')::float8 >= $7::float8 AND ($8::text IS NULL OR strpos(lower(g ->> 'model'), lower($8)) > 0)) >= $6)`;
const FREE_SLOT_VALUES = 9;
const freeSlotValues = (needs: SlotNeeds): unknown[] => [
  needs.pool,
  needs.capability,
  JSON.stringify(needs.labels),
  needs.avoidWorkerIds,
  needs.avoidEndpoints,
  needs.gpus?.gpus ?? null,
  (needs.gpus?.gpuMemoryMiB ?? 0) * 1024 * 1024,
  needs.gpus?.gpuModel ?? null,
  [...(needs.llmEndpoints ?? [])],
];

/**
 * Free slots of live workers that can run attempts with these needs (pool, capability, every
 * label, every worker-local LLM server, GPUs, not passed over), at most `limit`, in random order
 * (which spreads the load in proportion to each worker's free slots), locked until the transaction
 * ends. Free slots locked by concurrent claims are skipped (SKIP LOCKED), so claims never queue
 * behind each other. Slots beyond what a worker offers now (it registered again with fewer) are
 * never candidates.
 */
export async function lockFreeSlots(db: Queryable, needs: SlotNeeds, limit: number): Promise<SlotCandidate[]> {
  if (limit <= 0) return [];
  const { rows } = await db.query<{ worker_id: string; slot: number; worker: Record<string, unknown> }>(
    prepared('lockFreeSlots', `SELECT s.worker_id, s.slot, to_jsonb(w) AS worker ${FREE_SLOTS} ORDER BY random() LIMIT $${FREE_SLOT_VALUES + 1} FOR UPDATE OF s SKIP LOCKED`, [...freeSlotValues(needs), limit]),
  );
  return rows.map((r) => ({ workerId: r.worker_id, slot: r.slot, worker: rowFromJson<WorkerRow>(r.worker) }));
}

/** An attempt to start on a free slot that the same statement finds (startAttemptsOnFreeSlots). */
export interface AttemptToStart {
  runId: string;
  attemptId: string;
  taskId: string;
  /** The task's input with its templates resolved. */
  input: unknown;
}

/**
 * The CTEs that start the attempts of `pairs` (run_id, attempt_id, task_id, input, worker_id, slot) on
 * their slots, shared by startAttemptsOnFreeSlots and startAttemptsOnSlots: each slot takes its attempt,
 * the attempt and its task move QUEUED → RUNNING, the attempt leaves the queue outbox, its run starts if
 * it was QUEUED. `dispatcherParam` is the statement's parameter holding the dispatcher id.
 */
const START_ON_PAIRS = (dispatcherParam: string): string => `taken AS (
         UPDATE worker_slots s SET attempt_id = p.attempt_id FROM pairs p WHERE s.worker_id = p.worker_id AND s.slot = p.slot AND s.attempt_id IS NULL
         RETURNING s.attempt_id
       ), attempt AS (
         UPDATE task_attempts a SET status = 'RUNNING', worker_id = p.worker_id, dispatcher_id = ${dispatcherParam}, started_at = clock_timestamp()
           FROM pairs p WHERE a.id = p.attempt_id AND a.status = 'QUEUED'
         RETURNING a.id
       ), task AS (
         UPDATE tasks t SET status = 'RUNNING', input = p.input::jsonb, wait_reason = NULL, started_at = coalesce(t.started_at, clock_timestamp()), updated_at = now()
           FROM pairs p WHERE t.id = p.task_id AND t.current_attempt_id = p.attempt_id AND t.status = 'QUEUED'
         RETURNING t.id
       ), dequeued AS (
         DELETE FROM dispatch_outbox o USING pairs p WHERE o.attempt_id = p.attempt_id
       ), started_runs AS (
         UPDATE runs r SET status = 'RUNNING', started_at = coalesce(r.started_at, now()), updated_at = now()
          WHERE r.id IN (SELECT run_id FROM pairs) AND r.status = 'QUEUED'
         RETURNING to_jsonb(r) AS run
       )`;

/** START_ON_PAIRS's counts (pairs, slots taken, attempts and tasks started) must agree. */
function checkStarted([paired, taken, attemptsStarted, tasksStarted]: number[]): void {
  // Only waiting attempts are placed, on slots this transaction locked free, under their runs' locks: this cannot happen.
  if (taken !== paired || attemptsStarted !== paired || tasksStarted !== paired) {
    throw new Error(`started ${attemptsStarted} attempts and ${tasksStarted} tasks on ${taken} slots for ${paired} placements`);
  }
}

/**
 * What startAttemptsOnFreeSlots's statement answers. Each worker's row comes once, read after the slots
 * are chosen: made into JSON before the LIMIT, it was built for every free slot (64 per claim on two
 * workers of 32) and again for each placed attempt, and parsed once per attempt here.
 */
interface FreeSlotStarts {
  placed: Array<{ attempt_id: string; worker_id: string; slot: number }>;
  workers: Array<Record<string, unknown>>;
  started_runs: Array<Record<string, unknown>>;
  counts: number[];
}

/**
 * lockFreeSlots and startAttemptsOnSlots in one statement, with the default placement (the i-th
 * attempt takes the i-th free slot, in random order): free slots of live workers with these needs
 * are locked (SKIP LOCKED: concurrent claims never queue behind each other and never get the same
 * slot), paired with the attempts in order, and the attempts started on them as startAttemptsOnSlots
 * does. Attempts beyond the free slots found are left QUEUED (they wait for a slot). A GPU step's
 * claim goes through the GPU filter instead (gpu-claims.ts), which chooses the slots itself.
 * Resolves to attempt id → the slot it took, and the runs that started.
 */
export async function startAttemptsOnFreeSlots(
  db: Queryable,
  needs: SlotNeeds,
  attempts: readonly AttemptToStart[],
  dispatcherId: string,
): Promise<{ placed: Map<string, SlotCandidate>; startedRuns: RunRow[] }> {
  if (attempts.length === 0) return { placed: new Map(), startedRuns: [] };
  const { rows } = await db.query<FreeSlotStarts>(
    prepared(
      'startAttemptsOnFreeSlots',
      `WITH asked AS (
         SELECT p.* FROM jsonb_to_recordset($${FREE_SLOT_VALUES + 1}::jsonb) AS p(ord int, run_id uuid, attempt_id uuid, task_id uuid, input text)
       ), locked AS (
         SELECT s.worker_id, s.slot ${FREE_SLOTS}
          ORDER BY random() LIMIT (SELECT count(*) FROM asked) FOR UPDATE OF s SKIP LOCKED
       ), free AS (
         SELECT l.*, row_number() OVER () AS ord FROM locked l
       ), pairs AS (
         SELECT a.run_id, a.attempt_id, a.task_id, a.input, f.worker_id, f.slot FROM asked a JOIN free f ON f.ord = a.ord
       ), ${START_ON_PAIRS(`$${FREE_SLOT_VALUES + 2}`)}
       SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('attempt_id', attempt_id, 'worker_id', worker_id, 'slot', slot)), '[]'::jsonb) FROM pairs) AS placed,
              (SELECT coalesce(jsonb_agg(to_jsonb(w)), '[]'::jsonb) FROM workers w WHERE w.id IN (SELECT worker_id FROM pairs)) AS workers,
              (SELECT coalesce(jsonb_agg(run), '[]'::jsonb) FROM started_runs) AS started_runs,
              ARRAY[(SELECT count(*) FROM pairs), (SELECT count(*) FROM taken), (SELECT count(*) FROM attempt), (SELECT count(*) FROM task)]::int[] AS counts`,
      [...freeSlotValues(needs), JSON.stringify(attempts.map((a, i) => ({ ord: i + 1, run_id: a.runId, attempt_id: a.attemptId, task_id: a.taskId, input: JSON.stringify(a.input ?? null) }))), dispatcherId],
    ),
  );
  const row = rows[0] as FreeSlotStarts;
  checkStarted(row.counts);
  const workers = new Map(row.workers.map((w) => rowFromJson<WorkerRow>(w)).map((w) => [w.id, w]));
  return {
    placed: new Map(row.placed.map((p) => [p.attempt_id, { workerId: p.worker_id, slot: p.slot, worker: workers.get(p.worker_id) as WorkerRow }])),
    startedRuns: row.started_runs.map((r) => rowFromJson<RunRow>(r)),
  };
}

/** An attempt to start on a slot this transaction locked (lockFreeSlots). */
export interface AttemptOnSlot {
  runId: string;
  attemptId: string;
  taskId: string;
  /** The task's input with its templates resolved. */
  input: unknown;
  workerId: string;
  slot: number;
}

/**
 * Starts attempts on the slots they were placed on, in one statement: each slot takes its attempt,
 * the attempt moves QUEUED → RUNNING on the slot's worker, its task QUEUED → RUNNING with its
 * resolved input, the attempt leaves the queue outbox, and its run moves QUEUED → RUNNING if it
 * was. Resolves to the runs that started. Only attempts still waiting (QUEUED, their task's
 * current one) may be given: the claim read them under their runs' locks; anything else throws,
 * which rolls the slots back. An attempt's started_at is this statement's clock, not the claim
 * transaction's start: the claim may have begun before the result that freed its concurrency key or
 * slot committed, and a transaction-start stamp would then read as an overlap that never happened.
 */
export async function startAttemptsOnSlots(db: Queryable, placed: readonly AttemptOnSlot[], dispatcherId: string): Promise<RunRow[]> {
  if (placed.length === 0) return [];
  const { rows } = await db.query<{ started_runs: Array<Record<string, unknown>>; counts: number[] }>(
    prepared(
      'startAttemptsOnSlots',
      `WITH pairs AS (
         SELECT p.* FROM jsonb_to_recordset($1::jsonb) AS p(run_id uuid, attempt_id uuid, task_id uuid, input text, worker_id text, slot int)
       ), ${START_ON_PAIRS('$2')}
       SELECT (SELECT coalesce(jsonb_agg(run), '[]'::jsonb) FROM started_runs) AS started_runs,
              ARRAY[(SELECT count(*) FROM pairs), (SELECT count(*) FROM taken), (SELECT count(*) FROM attempt), (SELECT count(*) FROM task)]::int[] AS counts`,
      [JSON.stringify(placed.map((a) => ({ run_id: a.runId, attempt_id: a.attemptId, task_id: a.taskId, input: JSON.stringify(a.input ?? null), worker_id: a.workerId, slot: a.slot }))), dispatcherId],
    ),
  );
  const row = rows[0] as { started_runs: Array<Record<string, unknown>>; counts: number[] };
  checkStarted(row.counts);
  return row.started_runs.map((r) => rowFromJson<RunRow>(r));
}
