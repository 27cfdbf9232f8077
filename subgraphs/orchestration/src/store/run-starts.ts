import type { OutboxAuditEvent, Queryable, RunEvent } from '@orchestra/lib';
import type { NewAttempt } from './attempts';
import type { OrgQuotaRow } from './quotas';
import { prepared, rowFromJson, type RunRow, type WorkflowRow, type WorkflowVersionRow } from './rows';
import type { NewRun, NewTask } from './runs';

// The statements of starting runs: one to read what the starts need, one to write them all, for
// any number of runs of one organization started in one transaction.

/** Which workflow version a start asks for. */
export interface WorkflowRef {
  workflowId?: string | undefined;
  workflowName?: string | undefined;
  /** 0: the latest. */
  version: number;
}

/** A workflow and the version a start asked for (absent when it has no such version). */
export interface WorkflowFound {
  workflow: WorkflowRow;
  version?: WorkflowVersionRow;
}

export interface RunStartsLookup {
  /** Per ref, in order: the workflow and version, or undefined when no such workflow is visible. */
  workflows: Array<WorkflowFound | undefined>;
  /** Runs started earlier with any of the idempotency keys, by key. */
  earlier: Map<string, RunRow>;
  /** The organization's quotas as operators set them (none: the platform's defaults). */
  quota: OrgQuotaRow | undefined;
}

/**
 * What starting runs of `orgId` reads, in one statement: each distinct workflow version asked for
 * (by id or by name; version 0 = the latest), the runs the idempotency keys already name, and the
 * organization's quotas.
 */
export async function lookupRunStarts(db: Queryable, orgId: string, refs: readonly WorkflowRef[], idempotencyKeys: readonly string[]): Promise<RunStartsLookup> {
  const { rows } = await db.query<{
    found: Array<{ n: number; workflow: Record<string, unknown> | null; version: Record<string, unknown> | null }>;
    earlier: Array<Record<string, unknown>>;
    quota: Record<string, unknown> | null;
  }>(
    prepared(
      'lookupRunStarts',
      `WITH q AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS q(n int, workflow_id uuid, workflow_name text, version int)
       ), found AS (
         SELECT q.n, to_jsonb(w) AS workflow, to_jsonb(v) AS version
           FROM q
           LEFT JOIN workflows w ON w.id = coalesce(q.workflow_id, (SELECT x.id FROM workflows x WHERE x.name = q.workflow_name))
           LEFT JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = CASE WHEN q.version = 0 THEN w.latest_version ELSE q.version END
       )
       SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('n', n, 'workflow', workflow, 'version', version)), '[]'::jsonb) FROM found) AS found,
              (SELECT coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb) FROM runs r WHERE r.idempotency_key = ANY($2::text[])) AS earlier,
              (SELECT to_jsonb(q) FROM org_quotas q WHERE q.org_id = $3::uuid) AS quota`,
      [JSON.stringify(refs.map((r, n) => ({ n, workflow_id: r.workflowId ?? null, workflow_name: r.workflowId === undefined ? (r.workflowName ?? null) : null, version: r.version }))), [...new Set(idempotencyKeys)], orgId],
    ),
  );
  const row = rows[0] as (typeof rows)[number];
  const workflows: Array<WorkflowFound | undefined> = refs.map(() => undefined);
  for (const f of row.found) {
    if (f.workflow === null) continue;
    workflows[f.n] = { workflow: rowFromJson<WorkflowRow>(f.workflow), ...(f.version ? { version: rowFromJson<WorkflowVersionRow>(f.version) } : {}) };
  }
  const earlier = new Map<string, RunRow>();
  for (const r of row.earlier) {
    const run = rowFromJson<RunRow>(r);
    if (run.idempotencyKey !== null) earlier.set(run.idempotencyKey, run);
  }
  return { workflows, earlier, quota: row.quota === null ? undefined : rowFromJson<OrgQuotaRow>(row.quota) };
}

/** What starting one run writes. */
export interface RunStart {
  run: NewRun;
  tasks: readonly NewTask[];
  /** First attempts of the tasks that depend on nothing: those tasks start QUEUED, their attempts in the queue outbox. */
  attempts: readonly NewAttempt[];
  /** The run's first events, seqs 1, 2, ... */
  events: readonly RunEvent[];
}

/** Counting a lane's backlog stops here (as laneBacklogs does): a place further back is as far back as a queue order goes. */
const MAX_BACKLOG_COUNTED = 200_000;

/** What insertRunStarts wrote besides the rows it was given. */
export interface RunStartsWritten {
  /** The transaction's time, which the runs take as created_at/updated_at. */
  at: Date;
  /** The fair rank (flow-control/fair-share.ts) of each attempt written to the queue outbox, by attempt id. */
  fairRanks: Map<string, number>;
}

/**
 * New runs in one statement: each run (QUEUED, last_seq at its last event), its tasks (PENDING, or
 * QUEUED on their first attempt), those attempts with their queue-outbox rows, the runs' events,
 * and `audit` (the audit outbox rows of the starts). Nothing is read back: the caller knows the
 * rows it wrote. Each queued attempt gets its fair rank in the same statement, as assignFairRanks
 * gives one (its organization's attempts waiting in the pool at its priority or above, plus those
 * of this statement before it, shared out by the organization's weight): the backlog is read from
 * the statement's snapshot, which does not hold the rows it writes.
 */
export async function insertRunStarts(db: Queryable, starts: readonly RunStart[], audit: readonly OutboxAuditEvent[]): Promise<RunStartsWritten> {
  const runs = starts.map(({ run: r, events }) => ({
    id: r.id,
    org_id: r.orgId,
    workflow_id: r.workflowId,
    workflow_version: r.workflowVersion,
    app_id: r.appId,
    input: r.input,
    idempotency_key: r.idempotencyKey,
    started_by_kind: r.startedByKind,
    started_by_id: r.startedById,
    started_by_user_id: r.startedByUserId,
    started_by_api_key_id: r.startedByApiKeyId,
    started_by_display: r.startedByDisplay,
    request_id: r.requestId,
    last_seq: events.length,
    traceparent: r.traceparent,
    priority: r.priority,
    concurrency_key: r.concurrencyKey,
    concurrency: r.concurrency,
    status: r.startAt ? 'SCHEDULED' : 'QUEUED',
    start_at: r.startAt ? r.startAt.toISOString() : null,
  }));
  const tasks = starts.flatMap(({ run, tasks: newTasks, attempts }) => {
    const attemptOf = new Map(attempts.map((a) => [a.taskId, a]));
    return newTasks.map(({ id, step, priority, concurrencyKey, concurrency }, position) => ({
      id,
      run_id: run.id,
      org_id: run.orgId,
      step_id: step.id,
      position,
      capability: step.capability,
      depends_on: step.dependsOn,
      input_template: step.input,
      pool: step.pool,
      labels: step.labels,
      timeout_ms: step.timeoutMs,
      retry: step.retry,
      max_attempts: step.retry.maxAttempts,
      attempt_id: attemptOf.get(id)?.id ?? null,
      available_at: attemptOf.get(id)?.availableAt.toISOString() ?? null,
      priority,
      concurrency_key: concurrencyKey,
      concurrency,
      rate_limits: step.rateLimits ?? null,
      for_each: step.forEach ?? null,
      resources: step.resources ?? null,
      queue_timeout_ms: step.queueTimeoutMs ?? null,
      wait: step.wait ?? null,
    }));
  }).map((task, n) => ({ ...task, n }));
  const { rows } = await db.query<{ at: Date; runs: number; ranks: Array<[string, number]> }>(
    prepared(
      'insertRunStarts',
      `WITH r AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, org_id uuid, workflow_id uuid, workflow_version integer, app_id uuid, input jsonb, idempotency_key text,
                                                          started_by_kind text, started_by_id text, started_by_user_id text, started_by_api_key_id text, started_by_display text,
                                                          request_id text, last_seq integer, traceparent text, priority smallint, concurrency_key text, concurrency jsonb,
                                                          status text, start_at timestamptz)
       ), runs_in AS (
         INSERT INTO runs (id, org_id, workflow_id, workflow_version, app_id, status, input, idempotency_key,
                           started_by_kind, started_by_id, started_by_user_id, started_by_api_key_id, started_by_display, request_id, last_seq, traceparent,
                           priority, concurrency_key, concurrency, start_at)
         SELECT id, org_id, workflow_id, workflow_version, app_id, status, input, idempotency_key,
                started_by_kind, started_by_id, started_by_user_id, started_by_api_key_id, started_by_display, request_id, last_seq, traceparent,
                priority, concurrency_key, concurrency, start_at
           FROM r
         RETURNING 1
       ), t AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS t(id uuid, run_id uuid, org_id uuid, step_id text, position integer, capability text, depends_on text[], input_template jsonb,
                                                          pool text, labels jsonb, timeout_ms integer, retry jsonb, max_attempts integer,
                                                          attempt_id uuid, available_at timestamptz, priority smallint, concurrency_key text, concurrency jsonb, rate_limits jsonb,
                                                          for_each jsonb, resources jsonb, queue_timeout_ms integer, wait jsonb, n integer)
       ), tasks_in AS (
         INSERT INTO tasks (id, org_id, run_id, step_id, position, capability, status, depends_on, input_template, pool, labels, timeout_ms, retry, max_attempts,
                            attempts, current_attempt_id, queued_at, priority, concurrency_key, concurrency, rate_limits, for_each, resources, queue_timeout_ms, wait)
         SELECT id, org_id, run_id, step_id, position, capability, CASE WHEN attempt_id IS NULL THEN 'PENDING' ELSE 'QUEUED' END, depends_on, input_template, pool, labels,
                timeout_ms, retry, max_attempts, CASE WHEN attempt_id IS NULL THEN 0 ELSE 1 END, attempt_id, CASE WHEN attempt_id IS NULL THEN NULL ELSE now() END,
                priority, concurrency_key, concurrency, rate_limits, for_each, resources, queue_timeout_ms, wait
           FROM t
       ), attempts AS (
         INSERT INTO task_attempts (id, org_id, run_id, task_id, attempt, status, available_at)
         SELECT attempt_id, org_id, run_id, id, 1, 'QUEUED', available_at FROM t WHERE attempt_id IS NOT NULL
       ), queued AS (
         SELECT * FROM t WHERE attempt_id IS NOT NULL AND wait IS NULL
       ), backlogs AS MATERIALIZED (
         -- Once per lane (MATERIALIZED): referenced once, this CTE was folded into \`ranked\` and its
         -- count of the lane's outbox rows made again for every queued row of the statement.
         SELECT l.org_id, l.pool, l.priority,
                (SELECT count(*) FROM (SELECT 1 FROM dispatch_outbox o
                                        WHERE o.org_id = l.org_id AND o.pool = l.pool AND o.priority >= l.priority LIMIT $5) c)::int AS waiting,
                greatest(1, coalesce((SELECT q.weight FROM org_quotas q WHERE q.org_id = l.org_id), 1))::int AS weight
           FROM (SELECT DISTINCT org_id, pool, priority FROM queued) l
       ), ranked AS (
         SELECT q.*, ((b.waiting + (SELECT count(*) FROM queued e WHERE e.org_id = q.org_id AND e.pool = q.pool AND e.priority >= q.priority AND e.n < q.n)) / b.weight)::int AS fair_rank
           FROM queued q JOIN backlogs b ON b.org_id = q.org_id AND b.pool = q.pool AND b.priority = q.priority
       ), outbox AS (
         INSERT INTO dispatch_outbox (attempt_id, org_id, run_id, task_id, pool, available_at, priority, fair_rank)
         SELECT attempt_id, org_id, run_id, id, pool, available_at, priority, fair_rank FROM ranked
         RETURNING attempt_id, fair_rank
       ), events AS (
         INSERT INTO run_events (org_id, run_id, seq, kind, task_id, attempt_id, event, at)
         SELECT (e->>'orgId')::uuid, (e->>'runId')::uuid, (e->>'seq')::int, e->>'kind', (e->>'taskId')::uuid, (e->>'attemptId')::uuid, e, (e->>'at')::timestamptz
           FROM jsonb_array_elements($3::jsonb) AS e
       ), audit AS (
         INSERT INTO audit_outbox (id, org_id, event)
         SELECT (a->>'eventId')::uuid, (a->>'orgId')::uuid, a FROM jsonb_array_elements($4::jsonb) AS a
       )
       SELECT now() AS at, (SELECT count(*) FROM runs_in)::int AS runs,
              (SELECT coalesce(jsonb_agg(jsonb_build_array(attempt_id, fair_rank)), '[]'::jsonb) FROM outbox) AS ranks`,
      [JSON.stringify(runs), JSON.stringify(tasks), JSON.stringify(starts.flatMap((s) => s.events)), JSON.stringify(audit), MAX_BACKLOG_COUNTED],
    ),
  );
  const row = rows[0] as (typeof rows)[number];
  if (row.runs !== starts.length) throw new Error(`inserted ${row.runs} runs of ${starts.length}`);
  return { at: row.at, fairRanks: new Map(row.ranks) };
}

/** The row of a run insertRunStarts wrote at `at`, as it is now (nothing read back). */
export function startedRunRow(run: NewRun, lastSeq: number, at: Date): RunRow {
  return {
    ...run,
    status: run.startAt ? 'SCHEDULED' : 'QUEUED',
    startAt: run.startAt ?? null,
    output: null,
    error: null,
    cancelReason: null,
    lastSeq,
    createdAt: at,
    startedAt: null,
    finishedAt: null,
    updatedAt: at,
  };
}
