import type { Queryable } from '@orchestra/lib';
import type { ScheduleCatchUp, ScheduleOverlap } from '../schedules/fire-plan';
import { camelRow, camelRows, prepared } from './rows';

/** A schedule of a workflow (rows → domain objects here). */
export interface ScheduleRow {
  id: string;
  orgId: string;
  workflowId: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  overlap: ScheduleOverlap;
  catchUp: ScheduleCatchUp;
  catchUpLimit: number;
  paused: boolean;
  nextFireAt: Date;
  lastFireAt: Date | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type ScheduleFireOutcome = 'STARTED' | 'SKIPPED' | 'QUEUED' | 'MISSED';

export interface ScheduleFireRow {
  scheduleId: string;
  orgId: string;
  tickAt: Date;
  outcome: ScheduleFireOutcome;
  runId: string | null;
  reason: string | null;
  firedAt: Date;
}

const COLUMNS = 'id, org_id, workflow_id, cron, timezone, input, overlap, catch_up, catch_up_limit, paused, next_fire_at, last_fire_at, created_by, created_at, updated_at';
const one = (rows: unknown[]): ScheduleRow | undefined => (rows[0] ? camelRow<ScheduleRow>(rows[0] as Record<string, unknown>) : undefined);

export type NewSchedule = Omit<ScheduleRow, 'paused' | 'lastFireAt' | 'createdAt' | 'updatedAt'>;

export async function insertSchedule(db: Queryable, s: NewSchedule): Promise<ScheduleRow> {
  const { rows } = await db.query(
    `INSERT INTO schedules (id, org_id, workflow_id, cron, timezone, input, overlap, catch_up, catch_up_limit, next_fire_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
    [s.id, s.orgId, s.workflowId, s.cron, s.timezone, JSON.stringify(s.input), s.overlap, s.catchUp, s.catchUpLimit, s.nextFireAt, s.createdBy],
  );
  return one(rows) as ScheduleRow;
}

export type ScheduleChange = Partial<Pick<ScheduleRow, 'cron' | 'timezone' | 'input' | 'overlap' | 'catchUp' | 'catchUpLimit' | 'paused' | 'nextFireAt' | 'lastFireAt'>>;

/** Changes a schedule (the caller holds its row lock); undefined when there is none. */
export async function updateSchedule(db: Queryable, id: string, c: ScheduleChange): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(
    `UPDATE schedules SET cron = coalesce($2, cron), timezone = coalesce($3, timezone), input = coalesce($4::jsonb, input), overlap = coalesce($5, overlap),
            catch_up = coalesce($6, catch_up), catch_up_limit = coalesce($7, catch_up_limit), paused = coalesce($8, paused), next_fire_at = coalesce($9, next_fire_at),
            last_fire_at = coalesce($10, last_fire_at), updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      c.cron ?? null,
      c.timezone ?? null,
      c.input === undefined ? null : JSON.stringify(c.input),
      c.overlap ?? null,
      c.catchUp ?? null,
      c.catchUpLimit ?? null,
      c.paused ?? null,
      c.nextFireAt ?? null,
      c.lastFireAt ?? null,
    ],
  );
  return one(rows);
}

export async function deleteSchedule(db: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(`DELETE FROM schedules WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  return one(rows);
}

export async function findSchedule(db: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM schedules WHERE id = $1`, [id]);
  return one(rows);
}

/** Locks a schedule's row until the transaction ends (waits for another holder). */
export async function lockSchedule(db: Queryable, id: string): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM schedules WHERE id = $1 FOR UPDATE`, [id]);
  return one(rows);
}

/**
 * Claims schedules for the ticker: the rows of `ids` that are due (or have queued ticks), locked
 * until the transaction ends; a row another transaction holds is left out (SKIP LOCKED: another
 * replica is handling it right now, and it is no longer due when that one commits).
 */
export async function claimSchedules(db: Queryable, ids: readonly string[]): Promise<ScheduleRow[]> {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM schedules s
      WHERE id = ANY($1::uuid[]) AND NOT paused
        AND (next_fire_at <= now() OR EXISTS (SELECT 1 FROM schedule_fires f WHERE f.schedule_id = s.id AND f.outcome = 'QUEUED'))
      ORDER BY next_fire_at, id
      FOR UPDATE SKIP LOCKED`,
    [ids],
  );
  return camelRows<ScheduleRow>(rows as Array<Record<string, unknown>>);
}

export async function listSchedules(db: Queryable, filter: { workflowId?: string | undefined }, limit: number): Promise<ScheduleRow[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM schedules WHERE ($1::uuid IS NULL OR workflow_id = $1) ORDER BY id LIMIT $2`, [filter.workflowId ?? null, limit]);
  return camelRows<ScheduleRow>(rows as Array<Record<string, unknown>>);
}

export async function countSchedules(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schedules');
  return rows[0]?.n ?? 0;
}

/**
 * Schedules (of every organization: a system read) that are due or have queued ticks, most overdue
 * first. Unlocked: the ticker claims each in a transaction of its organization.
 */
export async function dueSchedules(db: Queryable, limit: number): Promise<Array<{ id: string; orgId: string }>> {
  const { rows } = await db.query<{ id: string; org_id: string }>(
    `(SELECT id, org_id, next_fire_at FROM schedules WHERE NOT paused AND next_fire_at <= now() ORDER BY next_fire_at LIMIT $1)
     UNION
     (SELECT s.id, s.org_id, s.next_fire_at FROM schedules s
       WHERE NOT s.paused AND s.id IN (SELECT DISTINCT schedule_id FROM schedule_fires WHERE outcome = 'QUEUED') LIMIT $1)
     ORDER BY next_fire_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ id: r.id, orgId: r.org_id }));
}

/**
 * Milliseconds until the schedule ticker has something due, by the database's clock: the earliest tick
 * of a schedule that is not paused, or the earliest start of a run started for later (both read on
 * partial indexes: schedules_due, runs_scheduled). Undefined when there is neither.
 */
export async function tickerDueInMs(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ ms: number | null }>(
    prepared(
      'tickerDueInMs',
      `SELECT extract(epoch FROM least((SELECT min(next_fire_at) FROM schedules WHERE NOT paused), (SELECT min(start_at) FROM runs WHERE status = 'SCHEDULED')) - now())::float8 * 1000 AS ms`,
      [],
    ),
  );
  return rows[0]?.ms ?? undefined;
}

/** Runs each of these schedules started that have not ended, oldest tick first (schedules with none are absent). */
export async function activeRunsOfSchedules(db: Queryable, scheduleIds: readonly string[]): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{ schedule_id: string; id: string }>(
    `SELECT f.schedule_id, r.id FROM schedule_fires f JOIN runs r ON r.id = f.run_id
      WHERE f.schedule_id = ANY($1::uuid[]) AND r.status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') ORDER BY f.schedule_id, f.tick_at`,
    [scheduleIds],
  );
  const active = new Map<string, string[]>();
  for (const r of rows) {
    const runs = active.get(r.schedule_id);
    if (runs) runs.push(r.id);
    else active.set(r.schedule_id, [r.id]);
  }
  return active;
}

/** Each schedule's ticks queued behind a running run (overlap QUEUE): the oldest `limit`, and how many there are (schedules with none are absent). */
export async function queuedFiresOf(db: Queryable, scheduleIds: readonly string[], limit: number): Promise<Map<string, { ticks: Date[]; count: number }>> {
  const { rows } = await db.query<{ schedule_id: string; ticks: Array<string | Date>; count: number }>(
    `SELECT schedule_id, (array_agg(tick_at ORDER BY tick_at))[1:$2::int] AS ticks, count(*)::int AS count
       FROM schedule_fires WHERE schedule_id = ANY($1::uuid[]) AND outcome = 'QUEUED' GROUP BY schedule_id`,
    [scheduleIds, limit],
  );
  return new Map(rows.map((r) => [r.schedule_id, { ticks: r.ticks.map((t) => new Date(t)), count: r.count }]));
}

/** Moves the ticker's schedules on (their row locks held): next_fire_at, and last_fire_at where a tick started a run. */
export async function advanceSchedules(db: Queryable, changes: ReadonlyArray<{ id: string; nextFireAt: Date; lastFireAt: Date | null }>): Promise<void> {
  if (changes.length === 0) return;
  await db.query(
    `UPDATE schedules s SET next_fire_at = c.next_fire_at, last_fire_at = coalesce(c.last_fire_at, s.last_fire_at), updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS c(id uuid, next_fire_at timestamptz, last_fire_at timestamptz)
      WHERE s.id = c.id`,
    [JSON.stringify(changes.map((c) => ({ id: c.id, next_fire_at: c.nextFireAt.toISOString(), last_fire_at: c.lastFireAt?.toISOString() ?? null })))],
  );
}

/**
 * Records what ticks did (a queued tick that starts later is updated in place), at most one row per
 * schedule and tick. fired_at is the time of this statement (the ticker's transaction commits right
 * after), not of the transaction's start.
 */
export async function recordFires(db: Queryable, fires: ReadonlyArray<Omit<ScheduleFireRow, 'firedAt'>>): Promise<void> {
  if (fires.length === 0) return;
  await db.query(
    `INSERT INTO schedule_fires (schedule_id, org_id, tick_at, outcome, run_id, reason, fired_at)
     SELECT schedule_id, org_id, tick_at, outcome, run_id, reason, clock_timestamp() FROM jsonb_to_recordset($1::jsonb)
         AS f(schedule_id uuid, org_id uuid, tick_at timestamptz, outcome text, run_id uuid, reason text)
     ON CONFLICT (schedule_id, tick_at) DO UPDATE SET outcome = excluded.outcome, run_id = excluded.run_id, reason = excluded.reason, fired_at = excluded.fired_at
       WHERE schedule_fires.outcome = 'QUEUED'`,
    [
      JSON.stringify(
        fires.map((f) => ({ schedule_id: f.scheduleId, org_id: f.orgId, tick_at: f.tickAt.toISOString(), outcome: f.outcome, run_id: f.runId, reason: f.reason === null ? null : f.reason.slice(0, 500) })),
      ),
    ],
  );
}

/**
 * Bounded retention of schedules' fires: the newest `keep` handled ticks of each stay (QUEUED ones
 * always, they are still to run). Per schedule a walk of `keep` entries of the primary key, then a range delete.
 */
export async function pruneFiresOf(db: Queryable, scheduleIds: readonly string[], keep: number): Promise<number> {
  if (scheduleIds.length === 0) return 0;
  const { rowCount } = await db.query(
    `DELETE FROM schedule_fires f
      USING (SELECT s.id, (SELECT tick_at FROM schedule_fires x WHERE x.schedule_id = s.id ORDER BY tick_at DESC OFFSET $2::int - 1 LIMIT 1) AS edge
               FROM unnest($1::uuid[]) AS s(id)) e
      WHERE f.schedule_id = e.id AND f.outcome <> 'QUEUED' AND f.tick_at < e.edge`,
    [scheduleIds, keep],
  );
  return rowCount ?? 0;
}

export async function listFires(db: Queryable, scheduleId: string, limit: number): Promise<ScheduleFireRow[]> {
  const { rows } = await db.query(`SELECT * FROM schedule_fires WHERE schedule_id = $1 ORDER BY tick_at DESC LIMIT $2`, [scheduleId, limit]);
  return camelRows<ScheduleFireRow>(rows as Array<Record<string, unknown>>);
}

/** The runs a schedule started, newest tick first. */
export async function runIdsOfSchedule(db: Queryable, scheduleId: string, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ run_id: string }>(`SELECT run_id FROM schedule_fires WHERE schedule_id = $1 AND run_id IS NOT NULL ORDER BY tick_at DESC LIMIT $2`, [scheduleId, limit]);
  return rows.map((r) => r.run_id);
}
